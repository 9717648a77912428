/**
 * The emulated endpoints, keyed by GitHub operationId. Requests reach them authenticated and already validated
 * against the OpenAPI description, so handlers only apply GitHub's behaviour.
 */
import { APP_HANDLERS, INTEGRATION_FORBIDDEN, installationRefusal } from "./apps.ts";
import type { OpenApiOperation } from "./openapi.ts";
import { authenticatedUserBody, type EmulatorResponse, errorResponse, repositoryBody } from "./responses.ts";
import { type EmulatorState, type RepoRecord, roleOf, secretNameProblem, type TokenGrant } from "./state.ts";

/** Passed to the write hook after a secret was stored. */
export interface SecretWrittenEvent {
  readonly owner: string;
  readonly repo: string;
  /** Secret name as stored (upper-case). */
  readonly name: string;
}

export interface HandlerContext {
  readonly state: EmulatorState;
  readonly operation: OpenApiOperation;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body; schema-valid for the operation when the operation documents one. */
  readonly body: unknown;
  readonly grant: TokenGrant;
  /** Base URL of the emulated API, e.g. `http://127.0.0.1:4321`. */
  readonly apiBase: string;
  /** Base URL used for web links (`html_url`). */
  readonly webBase: string;
}

export interface HandlerResult extends EmulatorResponse {
  /** Set when a secret was stored: the server runs the write hook before answering. */
  readonly secretWritten?: SecretWrittenEvent;
  /** Set when the client did something GitHub would refuse and a correct client never does. */
  readonly violation?: string;
}

type Handler = (context: HandlerContext) => HandlerResult;

const PAT_FORBIDDEN = "Resource not accessible by personal access token";
/** GitHub's answer to a secrets request of a user who is not an admin of the repository. */
export const NOT_ADMIN = "Must have admin rights to Repository.";
/** GitHub's answer to any write to an archived repository. */
export const ARCHIVED = "Repository was archived so is read-only.";

function notFound(context: HandlerContext): HandlerResult {
  return errorResponse(404, "Not Found", context.operation.docsUrl);
}

function param(context: HandlerContext, name: string): string {
  return context.params[name] ?? "";
}

/** Resolves `{owner}/{repo}`; a repository the token cannot reach is indistinguishable from a missing one. */
function withRepo(context: HandlerContext, then: (repo: RepoRecord) => HandlerResult): HandlerResult {
  const repo = context.state.accessibleRepo(context.grant, param(context, "owner"), param(context, "repo"));
  return repo === undefined ? notFound(context) : then(repo);
}

/**
 * Secrets endpoints need the Secrets permission (fine-grained PAT) or admin access (classic PAT); a read-only
 * grant gets 403 and the permission GitHub would have accepted.
 */
function withSecretsAccess(
  context: HandlerContext,
  access: "read" | "write",
  then: (repo: RepoRecord) => HandlerResult,
): HandlerResult {
  return withRepo(context, (repo) => {
    // A GitHub App installation token has its permissions instead of a user's role (apps.ts).
    if (context.grant.installation !== undefined) {
      const refused = installationRefusal(context.grant, "secrets", access, context.operation.docsUrl);
      if (refused !== undefined) return refused;
      if (access === "write" && repo.archived) return errorResponse(403, ARCHIVED, context.operation.docsUrl);
      return then(repo);
    }
    // A fine-grained token is checked for its own permission first; then its user's role, as for classic tokens.
    if (context.grant.kind !== "classic" && context.grant.permission !== "write") {
      return errorResponse(403, PAT_FORBIDDEN, context.operation.docsUrl, {
        "x-accepted-github-permissions": `secrets=${access}`,
      });
    }
    if (roleOf(context.grant) !== "admin") return errorResponse(403, NOT_ADMIN, context.operation.docsUrl);
    if (access === "write" && repo.archived) return errorResponse(403, ARCHIVED, context.operation.docsUrl);
    return then(repo);
  });
}

function secretBody(meta: { name: string; createdAt: string; updatedAt: string }): Record<string, unknown> {
  return { name: meta.name, created_at: meta.createdAt, updated_at: meta.updatedAt };
}

function invalid(context: HandlerContext, message: string, violation: string): HandlerResult {
  return { ...errorResponse(422, message, context.operation.docsUrl), violation };
}

function putSecret(context: HandlerContext): HandlerResult {
  return withSecretsAccess(context, "write", (repo) => {
    const name = param(context, "secret_name");
    const where = `${repo.owner}/${repo.name} secret ${name}`;
    const nameProblem = secretNameProblem(name);
    if (nameProblem !== undefined) return invalid(context, nameProblem, `${where}: invalid secret name`);
    // The body is schema-valid here (validated before dispatch).
    const { encrypted_value: encrypted, key_id: keyId } = context.body as {
      encrypted_value: string;
      key_id: string;
    };
    const opened = context.state.openSealedValue(repo, keyId, encrypted);
    if (!opened.ok) {
      switch (opened.reason) {
        case "stale-key-id":
          // A key rotated between GET public-key and PUT is a race a client should survive, not a bug.
          return errorResponse(422, "Bad request: key_id is no longer valid", context.operation.docsUrl);
        case "foreign-key-id":
          return invalid(
            context,
            "Bad request: key_id is not a key of this repository",
            `${where}: key_id ${keyId} was never issued by this repository (sealed with another repository's key?)`,
          );
        case "not-sealed-for-key":
          return invalid(
            context,
            "Bad request: encrypted_value could not be decrypted",
            `${where}: encrypted_value does not open with the repository key ${keyId} (not a sealed box for it)`,
          );
      }
    }
    const valueProblem = context.state.secretValueProblem(opened.value);
    if (valueProblem !== undefined) return invalid(context, valueProblem, `${where}: value too large`);
    const outcome = context.state.putSecret(repo, name, opened.value);
    const secretWritten = { owner: repo.owner, repo: repo.name, name: name.toUpperCase() };
    return outcome === "created" ? { status: 201, body: {}, secretWritten } : { status: 204, secretWritten };
  });
}

function listSecrets(context: HandlerContext): HandlerResult {
  return withSecretsAccess(context, "read", (repo) => {
    const perPage = Math.min(100, Math.max(1, Number(context.query.get("per_page") ?? 30)));
    const page = Math.max(1, Number(context.query.get("page") ?? 1));
    const all = context.state.listSecrets(repo);
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number, rel: string) =>
      `<${context.apiBase}/repos/${repo.owner}/${repo.name}/actions/secrets?per_page=${perPage}&page=${n}>; rel="${rel}"`;
    const links = [
      ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
      ...(page < lastPage ? [link(page + 1, "next"), link(lastPage, "last")] : []),
    ];
    return {
      status: 200,
      body: {
        total_count: all.length,
        secrets: all.slice((page - 1) * perPage, page * perPage).map(secretBody),
      },
      headers: links.length === 0 ? {} : { link: links.join(", ") },
    };
  });
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  "users/get-authenticated": (context) =>
    // An installation token has no user.
    context.grant.installation !== undefined
      ? errorResponse(403, INTEGRATION_FORBIDDEN, context.operation.docsUrl)
      : {
          status: 200,
          body: authenticatedUserBody(
            context.state.user(context.grant.login),
            context.apiBase,
            context.webBase,
          ),
        },

  "repos/get": (context) =>
    withRepo(context, (repo) => ({
      status: 200,
      body: repositoryBody(
        repo,
        context.state.user(repo.owner),
        roleOf(context.grant),
        context.apiBase,
        context.webBase,
      ),
    })),

  "actions/get-repo-public-key": (context) =>
    withSecretsAccess(context, "read", (repo) => {
      const { keyId, key } = context.state.publicKey(repo);
      return { status: 200, body: { key_id: keyId, key } };
    }),

  "actions/get-repo-secret": (context) =>
    withSecretsAccess(context, "read", (repo) => {
      const meta = context.state.secretMeta(repo, param(context, "secret_name"));
      return meta === undefined ? notFound(context) : { status: 200, body: secretBody(meta) };
    }),

  "actions/list-repo-secrets": listSecrets,

  "actions/create-or-update-repo-secret": putSecret,

  "actions/delete-repo-secret": (context) =>
    withSecretsAccess(context, "write", (repo) =>
      context.state.deleteSecret(repo, param(context, "secret_name")) ? { status: 204 } : notFound(context),
    ),
};

/** The handler for an operation, or undefined when the emulator does not implement it. */
export function handlerFor(operationId: string): Handler | undefined {
  return HANDLERS[operationId] ?? APP_HANDLERS[operationId];
}

/** OperationIds the emulator implements. */
export const EMULATED_OPERATIONS: readonly string[] = [
  ...Object.keys(HANDLERS),
  ...Object.keys(APP_HANDLERS),
];
