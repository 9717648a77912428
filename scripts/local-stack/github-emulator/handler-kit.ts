/**
 * What every emulated endpoint gets and returns, and the answers they share: resolving a repository or an
 * organization the token may see, GitHub's permission refusals, and pagination with `Link` headers.
 *
 * Permission model (kept simple, one rule per kind of endpoint; a token stands for a user with one repository role
 * and one organization role, see `TokenGrant`):
 * - repository-level secrets of every store and environment secrets: the token reaches the repository (else 404),
 *   a fine-grained token has the "Secrets" permission `write` (else 403 "Resource not accessible by personal access
 *   token"), the user is a repository admin (else 403 "Must have admin rights to Repository."), and writes to an
 *   archived repository get 403.
 * - repository and environment variables: the same, with the "Variables" permission, except that reading needs
 *   only `read` and any role ("collaborator access", REST docs of each variables endpoint).
 * - an environment's secrets and variables also take the "Environments" permission at the same level, from a
 *   fine-grained token and a GitHub App alike: GitHub lists each environment endpoint under both permissions
 *   ("additional permissions"), e.g. https://docs.github.com/en/rest/actions/secrets#create-or-update-an-environment-secret
 *   and https://docs.github.com/en/rest/authentication/permissions-required-for-fine-grained-personal-access-tokens
 * - organization secrets and variables: the organization exists (else 404), the fine-grained permission as above,
 *   and the user is an organization owner (else 403, GitHub's message for org secrets).
 * - environments, contents, `GET /orgs/{org}/repos`, custom property values: read access is enough.
 * - a GitHub App's installation token (apps.ts) has no user and no role: instead of the checks above, it needs the
 *   App permissions each endpoint names (`Needs.permission`, plus `environments` for an environment's;
 *   `metadata`, `actions`, `contents`, `organization_custom_properties` for the read-only endpoints), else 403
 *   "Resource not accessible by integration" with `X-Accepted-GitHub-Permissions`; it reaches only its
 *   installation's account. https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps
 * Not modelled: classic tokens' scopes (`repo`, `admin:org`) and GitHub Free's ban on organization secrets in
 * private repositories.
 */
import { type AppPermissionLevel, acceptedPermissions, installationRefusal } from "./apps.ts";
import type { OpenApiOperation } from "./openapi.ts";
import { type EmulatorResponse, errorResponse } from "./responses.ts";
import type { SecretScope } from "./scopes.ts";
import {
  type EmulatorState,
  type OrgRecord,
  orgRoleOf,
  type RepoRecord,
  roleOf,
  type TokenGrant,
  type TokenPermission,
} from "./state.ts";

/**
 * Passed to the write hook after a secret or variable was stored, or after an organization secret's or variable's
 * repository access changed (what a job reads may have changed).
 */
export interface SecretWrittenEvent {
  readonly what: "secret" | "variable";
  readonly scope: SecretScope;
  /** As stored (upper-case). */
  readonly name: string;
  /** The repository's owner, or the organization. */
  readonly owner: string;
  /** The repository; undefined for an organization scope. */
  readonly repo: string | undefined;
}

export interface HandlerContext {
  readonly state: EmulatorState;
  readonly operation: OpenApiOperation;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Request path without the base path (and without query string). */
  readonly path: string;
  /** Parsed JSON body; schema-valid for the operation when the operation documents one. */
  readonly body: unknown;
  readonly grant: TokenGrant;
  /** The credential the request carried (a token, or what an extension's `authenticate` accepted). */
  readonly credential: string;
  /** Base URL of the emulated API, e.g. `http://127.0.0.1:4321` (plus the base path). */
  readonly apiBase: string;
  /** Base URL used for web links (`html_url`). */
  readonly webBase: string;
}

export interface HandlerResult extends EmulatorResponse {
  /** Set when a secret or variable was stored: the server runs the write hook before answering. */
  readonly secretWritten?: SecretWrittenEvent;
  /** Set when the client did something GitHub would refuse and a correct client never does. */
  readonly violation?: string;
}

/** An emulated endpoint. */
export type Handler = (context: HandlerContext) => HandlerResult;

const PAT_FORBIDDEN = "Resource not accessible by personal access token";
/** GitHub's answer to a secrets request of a user who is not an admin of the repository. */
export const NOT_ADMIN = "Must have admin rights to Repository.";
/**
 * GitHub's answer to an organization secrets request of a user who is not an organization owner, as reported in
 * https://github.com/cli/cli/issues/8810 (`gh secret list --org`).
 */
export const NOT_ORG_ADMIN = "You must be an org admin or have the actions secrets fine-grained permission.";
/** GitHub's answer to any write to an archived repository. */
export const ARCHIVED = "Repository was archived so is read-only.";

export function notFound(context: HandlerContext): HandlerResult {
  return errorResponse(404, "Not Found", context.operation.docsUrl);
}

export function param(context: HandlerContext, name: string): string {
  return context.params[name] ?? "";
}

/** A 422 GitHub would answer, recorded as a violation because a correct client never causes it. */
export function invalid(context: HandlerContext, message: string, violation: string): HandlerResult {
  return { ...errorResponse(422, message, context.operation.docsUrl), violation };
}

/** Resolves `{owner}/{repo}`; a repository the token cannot reach is indistinguishable from a missing one. */
export function withRepo(context: HandlerContext, then: (repo: RepoRecord) => HandlerResult): HandlerResult {
  const repo = context.state.accessibleRepo(context.grant, param(context, "owner"), param(context, "repo"));
  return repo === undefined ? notFound(context) : then(repo);
}

/** Resolves `{org}`; 404 when no such organization exists. */
export function withOrg(context: HandlerContext, then: (org: OrgRecord) => HandlerResult): HandlerResult {
  const org = context.state.findOrg(param(context, "org"));
  return org === undefined ? notFound(context) : then(org);
}

/** What a request needs: which fine-grained permission (as GitHub names it in `X-Accepted-GitHub-Permissions`). */
export interface Needs {
  readonly access: "read" | "write";
  /** e.g. `secrets`, `dependabot_secrets`, `actions_variables`, `organization_secrets`. */
  readonly permission: string;
  /** Which of the grant's permissions stands for it. */
  readonly kind: "secrets" | "variables";
  /** An environment's secrets or variables: the "Environments" permission is needed too, at the same level. */
  readonly environments?: true;
}

/** Every permission a request needs, as GitHub names them (`X-Accepted-GitHub-Permissions`). */
function neededPermissions(needs: Needs): string[] {
  return needs.environments === true ? [needs.permission, "environments"] : [needs.permission];
}

/**
 * For a GitHub App installation token: `then()` if it holds `permission` at `access`, else GitHub's 403. Any other
 * grant goes straight to `then()`.
 */
export function withAppPermission(
  context: HandlerContext,
  permission: string | readonly string[],
  access: AppPermissionLevel,
  then: () => HandlerResult,
): HandlerResult {
  return installationRefusal(context.grant, permission, access, context.operation.docsUrl) ?? then();
}

function fineGrainedAllows(grant: TokenGrant, needs: Needs): boolean {
  if (grant.kind === "classic") return true;
  const held: TokenPermission =
    needs.kind === "variables" ? (grant.variables ?? grant.permission) : grant.permission;
  // Secrets: only a `write` grant sees them at all (the emulator's long-standing rule); variables: `read` reads.
  const allowed = needs.kind === "secrets" ? held === "write" : needs.access === "read" || held === "write";
  if (!allowed || needs.environments !== true) return allowed;
  return needs.access === "read" || (grant.environments ?? grant.permission) === "write";
}

function patForbidden(context: HandlerContext, needs: Needs): HandlerResult {
  return errorResponse(403, PAT_FORBIDDEN, context.operation.docsUrl, {
    "x-accepted-github-permissions": acceptedPermissions(neededPermissions(needs), needs.access),
  });
}

/** Repository-level secrets and variables (every store, environments too): see the module comment. */
export function withRepoAccess(
  context: HandlerContext,
  needs: Needs,
  then: (repo: RepoRecord) => HandlerResult,
): HandlerResult {
  return withRepo(context, (repo) => {
    if (context.grant.installation !== undefined) {
      const refused = installationRefusal(
        context.grant,
        neededPermissions(needs),
        needs.access,
        context.operation.docsUrl,
      );
      if (refused !== undefined) return refused;
      if (needs.access === "write" && repo.archived) {
        return errorResponse(403, ARCHIVED, context.operation.docsUrl);
      }
      return then(repo);
    }
    // A fine-grained token is checked for its own permission first; then its user's role, as for classic tokens.
    if (!fineGrainedAllows(context.grant, needs)) return patForbidden(context, needs);
    const readsVariables = needs.kind === "variables" && needs.access === "read";
    if (!readsVariables && roleOf(context.grant) !== "admin") {
      return errorResponse(403, NOT_ADMIN, context.operation.docsUrl);
    }
    if (needs.access === "write" && repo.archived) {
      return errorResponse(403, ARCHIVED, context.operation.docsUrl);
    }
    return then(repo);
  });
}

/** Organization secrets and variables: see the module comment. */
export function withOrgAccess(
  context: HandlerContext,
  needs: Needs,
  then: (org: OrgRecord) => HandlerResult,
): HandlerResult {
  return withOrg(context, (org) => {
    const installation = context.grant.installation;
    if (installation !== undefined) {
      // Another account's installation token does not reach this organization.
      if (installation.account.toLowerCase() !== org.login.toLowerCase()) return notFound(context);
      return withAppPermission(context, neededPermissions(needs), needs.access, () => then(org));
    }
    if (!fineGrainedAllows(context.grant, needs)) return patForbidden(context, needs);
    if (orgRoleOf(context.grant) !== "owner") {
      return errorResponse(403, NOT_ORG_ADMIN, context.operation.docsUrl);
    }
    return then(org);
  });
}

/** The documented bounds of an operation's `per_page`: its default, and the "(max N)" its description states. */
function perPageBounds(operation: OpenApiOperation): { fallback: number; max: number } {
  const declared = operation.raw.parameters?.find((p) => p.name === "per_page" && p.in === "query") as
    | { schema?: { default?: unknown }; description?: string }
    | undefined;
  const fallback = typeof declared?.schema?.default === "number" ? declared.schema.default : 30;
  const max = Number(/\(max (\d+)\)/.exec(declared?.description ?? "")?.[1] ?? 100);
  return { fallback, max };
}

/** One page of `items` and GitHub's `Link` header for the others (the request's other query parameters kept). */
export function paginate<T>(
  context: HandlerContext,
  items: readonly T[],
): { readonly items: T[]; readonly headers: Record<string, string> } {
  const { fallback, max } = perPageBounds(context.operation);
  const perPage = Math.min(max, Math.max(1, Number(context.query.get("per_page") ?? fallback)));
  const page = Math.max(1, Number(context.query.get("page") ?? 1));
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const query = new URLSearchParams(context.query);
    query.delete("per_page");
    query.delete("page");
    query.append("per_page", String(perPage));
    query.append("page", String(n));
    return `<${context.apiBase}${context.path}?${query.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
    ...(page < lastPage ? [link(page + 1, "next"), link(lastPage, "last")] : []),
  ];
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length === 0 ? {} : { link: links.join(", ") },
  };
}

/** The event for a write at a scope. */
export function writtenAt(scope: SecretScope, what: "secret" | "variable", name: string): SecretWrittenEvent {
  return scope.kind === "organization"
    ? { what, scope, name: name.toUpperCase(), owner: scope.org, repo: undefined }
    : { what, scope, name: name.toUpperCase(), owner: scope.owner, repo: scope.repo };
}
