/**
 * Secrets endpoints at every scope: a repository's Actions, Dependabot and Codespaces secrets, an environment's
 * secrets, and an organization's secrets per store (with visibility and selected repositories). Each scope has its
 * own key pair; a PUT's sealed box is opened with it (libsodium), as GitHub does.
 * https://docs.github.com/en/rest/actions/secrets
 * https://docs.github.com/en/rest/dependabot/secrets
 * https://docs.github.com/en/rest/codespaces/repository-secrets
 * https://docs.github.com/en/rest/codespaces/organization-secrets
 */
import {
  type Handler,
  type HandlerContext,
  type HandlerResult,
  invalid,
  type Needs,
  notFound,
  paginate,
  param,
  withOrgAccess,
  withRepoAccess,
  writtenAt,
} from "./handler-kit.ts";
import { visibleTo } from "./precedence.ts";
import { errorResponse, repositoryBody } from "./responses.ts";
import {
  type OrgVisibility,
  SECRET_STORES,
  type SecretScope,
  type SecretStore,
  scopeLabel,
} from "./scopes.ts";
import type { SecretBox } from "./secret-box.ts";
import { type OrgAccess, type OrgRecord, type RepoRecord, roleOf, secretNameProblem } from "./state.ts";

/** A scope a request resolved to. */
interface Resolved {
  readonly scope: SecretScope;
  readonly box: SecretBox;
  /** For organization scopes: the organization. */
  readonly org?: OrgRecord;
}

type Resolve = (
  context: HandlerContext,
  access: "read" | "write",
  then: (target: Resolved) => HandlerResult,
) => HandlerResult;

/** The fine-grained permission GitHub names for a store's repository secrets. */
const REPO_PERMISSION: Readonly<Record<SecretStore, string>> = {
  actions: "secrets",
  dependabot: "dependabot_secrets",
  codespaces: "codespaces_secrets",
};
const ORG_PERMISSION: Readonly<Record<SecretStore, string>> = {
  actions: "organization_secrets",
  dependabot: "organization_dependabot_secrets",
  codespaces: "organization_codespaces_secrets",
};

function repoSecrets(store: SecretStore): Resolve {
  return (context, access, then) =>
    withRepoAccess(context, { access, permission: REPO_PERMISSION[store], kind: "secrets" }, (repo) =>
      then({
        scope: { kind: "repository", owner: repo.owner, repo: repo.name, store },
        box: repo.stores[store],
      }),
    );
}

const environmentSecrets: Resolve = (context, access, then) =>
  withRepoAccess(
    context,
    // "Secrets" and "Environments" (handler-kit.ts).
    { access, permission: "secrets", kind: "secrets", environments: true },
    (repo) => {
      const environment = context.state.findEnvironment(repo, param(context, "environment_name"));
      if (environment === undefined) return notFound(context);
      return then({
        scope: { kind: "environment", owner: repo.owner, repo: repo.name, environment: environment.name },
        box: environment.secrets,
      });
    },
  );

function orgSecrets(store: SecretStore): Resolve {
  return (context, access, then) =>
    withOrgAccess(context, { access, permission: ORG_PERMISSION[store], kind: "secrets" }, (org) =>
      then({ scope: { kind: "organization", org: org.login, store }, box: org.stores[store], org }),
    );
}

function secretBody(meta: { name: string; createdAt: string; updatedAt: string }): Record<string, unknown> {
  return { name: meta.name, created_at: meta.createdAt, updated_at: meta.updatedAt };
}

/** An organization secret's body: metadata plus `visibility` (and where its selected repositories are listed). */
function orgSecretBody(
  context: HandlerContext,
  target: Resolved,
  meta: { name: string; createdAt: string; updatedAt: string },
): Record<string, unknown> {
  const access = accessOf(target, meta.name);
  const store = target.scope.kind === "organization" ? target.scope.store : "actions";
  return {
    ...secretBody(meta),
    visibility: access?.visibility ?? "all",
    ...(access?.visibility === "selected"
      ? {
          selected_repositories_url: `${context.apiBase}/orgs/${target.org?.login}/${store}/secrets/${meta.name}/repositories`,
        }
      : {}),
  };
}

function accessOf(target: Resolved, name: string): OrgAccess | undefined {
  if (target.org === undefined || target.scope.kind !== "organization") return undefined;
  return target.org.secretAccess[target.scope.store].get(name.toUpperCase());
}

function publicKey(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "read", ({ box }) => {
      const { keyId, key } = box.publicKey();
      return { status: 200, body: { key_id: keyId, key } };
    });
}

function getSecret(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "read", (target) => {
      const meta = target.box.meta(param(context, "secret_name"));
      if (meta === undefined) return notFound(context);
      return { status: 200, body: target.org ? orgSecretBody(context, target, meta) : secretBody(meta) };
    });
}

function listSecrets(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "read", (target) => {
      const all = target.box.list();
      const page = paginate(context, all);
      return {
        status: 200,
        body: {
          total_count: all.length,
          secrets: page.items.map((meta) =>
            target.org ? orgSecretBody(context, target, meta) : secretBody(meta),
          ),
        },
        headers: page.headers,
      };
    });
}

/**
 * Opens the sealed value of a PUT for a scope; a problem becomes GitHub's 422 (a violation unless it is the race of
 * a key rotated between GET public-key and PUT, which a correct client can meet).
 */
function openValue(
  context: HandlerContext,
  target: Resolved,
  where: string,
  sealed: { encrypted_value: string; key_id: string },
): { value: string } | HandlerResult {
  const opened = target.box.open(sealed.key_id, sealed.encrypted_value);
  if (!opened.ok) {
    switch (opened.reason) {
      case "stale-key-id":
        return errorResponse(422, "Bad request: key_id is no longer valid", context.operation.docsUrl);
      case "foreign-key-id":
        return invalid(
          context,
          `Bad request: key_id is not a key of this ${target.scope.kind}`,
          `${where}: key_id ${sealed.key_id} was never issued by this ${target.scope.kind} (sealed with another ${target.scope.kind}'s key?)`,
        );
      case "not-sealed-for-key":
        return invalid(
          context,
          "Bad request: encrypted_value could not be decrypted",
          `${where}: encrypted_value does not open with the ${target.scope.kind} key ${sealed.key_id} (not a sealed box for it)`,
        );
    }
  }
  const valueProblem = context.state.secretValueProblem(opened.value);
  if (valueProblem !== undefined) return invalid(context, valueProblem, `${where}: value too large`);
  return { value: opened.value };
}

function whereOf(target: Resolved, name: string): string {
  const { scope } = target;
  // Keeps the wording of the repository Actions secrets (`owner/repo secret NAME`) that existing checks match.
  if (scope.kind === "repository" && scope.store === "actions")
    return `${scope.owner}/${scope.repo} secret ${name}`;
  return `${scopeLabel(scope)} secret ${name}`;
}

function putSecret(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "write", (target) => {
      const name = param(context, "secret_name");
      const where = whereOf(target, name);
      const nameProblem = secretNameProblem(name);
      if (nameProblem !== undefined) return invalid(context, nameProblem, `${where}: invalid secret name`);
      // The body is schema-valid here (validated before dispatch).
      const sealed = context.body as { encrypted_value: string; key_id: string };
      const opened = openValue(context, target, where, sealed);
      if (!("value" in opened)) return opened;
      const outcome = target.box.put(name, opened.value, context.state.stamp());
      const secretWritten = writtenAt(target.scope, "secret", name);
      return outcome === "created"
        ? { status: 201, body: {}, secretWritten }
        : { status: 204, secretWritten };
    });
}

function deleteSecret(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "write", (target) => {
      const name = param(context, "secret_name");
      if (!target.box.delete(name)) return notFound(context);
      if (target.org !== undefined && target.scope.kind === "organization") {
        target.org.secretAccess[target.scope.store].delete(name.toUpperCase());
      }
      return { status: 204 };
    });
}

/**
 * Repository IDs sent as `selected_repository_ids` (integers, or strings of digits for the stores that accept
 * them), checked to be repositories of the organization; a problem is a 422 violation.
 */
export function selectedIds(
  context: HandlerContext,
  org: OrgRecord,
  raw: readonly (number | string)[],
  where: string,
): Set<number> | HandlerResult {
  const ids = new Set<number>();
  for (const item of raw) {
    const id = Number(item);
    const repo = Number.isInteger(id) ? context.state.repoById(id) : undefined;
    if (repo === undefined || repo.owner.toLowerCase() !== org.login.toLowerCase()) {
      return invalid(
        context,
        `Invalid repository id: ${String(item)}`,
        `${where}: selected_repository_ids names ${String(item)}, which is not a repository of ${org.login}`,
      );
    }
    ids.add(id);
  }
  return ids;
}

interface OrgSecretBody {
  encrypted_value?: string;
  key_id?: string;
  visibility: OrgVisibility;
  selected_repository_ids?: (number | string)[];
}

/**
 * PUT an organization secret: the value (when sent) and who sees it. GitHub requires `visibility`;
 * `selected_repository_ids` only with `selected` (REST docs); a new secret needs a value.
 */
function putOrgSecret(store: SecretStore): Handler {
  return (context) =>
    orgSecrets(store)(context, "write", (target) => {
      const org = target.org as OrgRecord;
      const name = param(context, "secret_name");
      const where = whereOf(target, name);
      const nameProblem = secretNameProblem(name);
      if (nameProblem !== undefined) return invalid(context, nameProblem, `${where}: invalid secret name`);
      const body = context.body as OrgSecretBody;
      if ((body.encrypted_value === undefined) !== (body.key_id === undefined)) {
        return invalid(
          context,
          "encrypted_value and key_id must be sent together",
          `${where}: only one of encrypted_value and key_id`,
        );
      }
      if (body.encrypted_value === undefined && !target.box.has(name)) {
        return invalid(
          context,
          "encrypted_value is required",
          `${where}: a new secret without encrypted_value`,
        );
      }
      if (body.selected_repository_ids !== undefined && body.visibility !== "selected") {
        return invalid(
          context,
          "You can only provide a list of repository ids when the visibility is set to selected.",
          `${where}: selected_repository_ids with visibility ${body.visibility}`,
        );
      }
      const selected = selectedIds(context, org, body.selected_repository_ids ?? [], where);
      if (!(selected instanceof Set)) return selected;
      let outcome: "created" | "updated" = "updated";
      if (body.encrypted_value !== undefined && body.key_id !== undefined) {
        const opened = openValue(context, target, where, {
          encrypted_value: body.encrypted_value,
          key_id: body.key_id,
        });
        if (!("value" in opened)) return opened;
        outcome = target.box.put(name, opened.value, context.state.stamp());
      } else {
        target.box.touch(name, context.state.stamp());
      }
      const accessMap = org.secretAccess[store];
      const previous = accessMap.get(name.toUpperCase());
      accessMap.set(name.toUpperCase(), {
        visibility: body.visibility,
        // An update that omits the IDs keeps the selection.
        selected:
          body.selected_repository_ids === undefined && previous !== undefined ? previous.selected : selected,
      });
      const secretWritten = writtenAt(target.scope, "secret", name);
      return outcome === "created"
        ? { status: 201, body: {}, secretWritten }
        : { status: 204, secretWritten };
    });
}

/** The organization secret named in the path with its access, or GitHub's 404; 409 unless it is `selected`. */
function withSelectedSecret(
  context: HandlerContext,
  target: Resolved,
  then: (access: OrgAccess, name: string) => HandlerResult,
  requireSelected: boolean,
): HandlerResult {
  const name = param(context, "secret_name").toUpperCase();
  const access = accessOf(target, name);
  if (!target.box.has(name) || access === undefined) return notFound(context);
  if (requireSelected && access.visibility !== "selected") {
    return {
      ...errorResponse(409, "Visibility must be set to selected", context.operation.docsUrl),
      violation: `${whereOf(target, name)}: selected repositories changed while visibility is ${access.visibility}`,
    };
  }
  return then(access, name);
}

/** A repository as the selected-repositories lists show it (`minimal-repository`). */
export function minimalRepo(context: HandlerContext, repo: RepoRecord): Record<string, unknown> {
  return repositoryBody(
    repo,
    context.state.ownerOf(repo),
    roleOf(context.grant),
    context.apiBase,
    context.webBase,
  );
}

function listSelected(store: SecretStore): Handler {
  return (context) =>
    orgSecrets(store)(context, "read", (target) =>
      withSelectedSecret(
        context,
        target,
        (access) => {
          const repos = [...access.selected]
            .map((id) => context.state.repoById(id))
            .filter((repo): repo is RepoRecord => repo !== undefined)
            .sort((a, b) => a.id - b.id);
          const page = paginate(context, repos);
          return {
            status: 200,
            body: {
              total_count: repos.length,
              repositories: page.items.map((repo) => minimalRepo(context, repo)),
            },
            headers: page.headers,
          };
        },
        false,
      ),
    );
}

function setSelected(store: SecretStore): Handler {
  return (context) =>
    orgSecrets(store)(context, "write", (target) =>
      withSelectedSecret(
        context,
        target,
        (access, name) => {
          const { selected_repository_ids: raw } = context.body as { selected_repository_ids: number[] };
          const ids = selectedIds(context, target.org as OrgRecord, raw, whereOf(target, name));
          if (!(ids instanceof Set)) return ids;
          access.selected.clear();
          for (const id of ids) access.selected.add(id);
          return { status: 204, secretWritten: writtenAt(target.scope, "secret", name) };
        },
        true,
      ),
    );
}

function changeSelected(store: SecretStore, change: "add" | "remove"): Handler {
  return (context) =>
    orgSecrets(store)(context, "write", (target) =>
      withSelectedSecret(
        context,
        target,
        (access, name) => {
          const ids = selectedIds(
            context,
            target.org as OrgRecord,
            [param(context, "repository_id")],
            whereOf(target, name),
          );
          if (!(ids instanceof Set)) return ids;
          for (const id of ids) {
            if (change === "add") access.selected.add(id);
            else access.selected.delete(id);
          }
          return { status: 204, secretWritten: writtenAt(target.scope, "secret", name) };
        },
        true,
      ),
    );
}

/** `GET /repos/{owner}/{repo}/actions/organization-secrets`: the organization's Actions secrets this repository sees. */
const listRepoOrganizationSecrets: Handler = (context) =>
  withRepoAccess(
    context,
    { access: "read", permission: "secrets", kind: "secrets" } satisfies Needs,
    (repo) => {
      const org = context.state.findOrg(repo.owner);
      const visible =
        org === undefined
          ? []
          : org.stores.actions.list().filter((meta) => {
              const access = org.secretAccess.actions.get(meta.name);
              return access !== undefined && visibleTo(access, repo);
            });
      const page = paginate(context, visible);
      return {
        status: 200,
        body: { total_count: visible.length, secrets: page.items.map(secretBody) },
        headers: page.headers,
      };
    },
  );

function repositoryStoreHandlers(store: SecretStore): Record<string, Handler> {
  const resolve = repoSecrets(store);
  return {
    [`${store}/get-repo-public-key`]: publicKey(resolve),
    [`${store}/get-repo-secret`]: getSecret(resolve),
    [`${store}/list-repo-secrets`]: listSecrets(resolve),
    [`${store}/create-or-update-repo-secret`]: putSecret(resolve),
    [`${store}/delete-repo-secret`]: deleteSecret(resolve),
  };
}

function organizationStoreHandlers(store: SecretStore): Record<string, Handler> {
  const resolve = orgSecrets(store);
  return {
    [`${store}/get-org-public-key`]: publicKey(resolve),
    [`${store}/get-org-secret`]: getSecret(resolve),
    [`${store}/list-org-secrets`]: listSecrets(resolve),
    [`${store}/create-or-update-org-secret`]: putOrgSecret(store),
    [`${store}/delete-org-secret`]: deleteSecret(resolve),
    [`${store}/list-selected-repos-for-org-secret`]: listSelected(store),
    [`${store}/set-selected-repos-for-org-secret`]: setSelected(store),
    [`${store}/add-selected-repo-to-org-secret`]: changeSelected(store, "add"),
    [`${store}/remove-selected-repo-from-org-secret`]: changeSelected(store, "remove"),
  };
}

/** Secrets handlers by operationId. */
export const SECRET_HANDLERS: Readonly<Record<string, Handler>> = {
  ...Object.assign({}, ...SECRET_STORES.map(repositoryStoreHandlers)),
  ...Object.assign({}, ...SECRET_STORES.map(organizationStoreHandlers)),
  "actions/get-environment-public-key": publicKey(environmentSecrets),
  "actions/get-environment-secret": getSecret(environmentSecrets),
  "actions/list-environment-secrets": listSecrets(environmentSecrets),
  "actions/create-or-update-environment-secret": putSecret(environmentSecrets),
  "actions/delete-environment-secret": deleteSecret(environmentSecrets),
  "actions/list-repo-organization-secrets": listRepoOrganizationSecrets,
};
