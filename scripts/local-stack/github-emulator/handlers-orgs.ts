/**
 * Organizations and their inventory: the organization, the caller's membership, its repositories (with topics, the
 * `type` filter, sorting and pagination) and its repositories' custom property values (with `repository_query`'s
 * `props.NAME:VALUE` qualifiers), which dynamic selection and shadowing read. A GitHub App's installation token
 * needs "Metadata" for the repositories and "Custom properties" (organization, read) for their values, and has no
 * membership (403, as for `GET /user`).
 * https://docs.github.com/en/rest/orgs/orgs#get-an-organization
 * https://docs.github.com/en/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user
 * https://docs.github.com/en/rest/repos/repos#list-organization-repositories
 * https://docs.github.com/en/rest/orgs/custom-properties#list-custom-property-values-for-organization-repositories
 */
import { INTEGRATION_FORBIDDEN } from "./apps.ts";
import {
  type Handler,
  type HandlerContext,
  invalid,
  paginate,
  param,
  withAppPermission,
  withOrg,
} from "./handler-kit.ts";
import { minimalRepo } from "./handlers-secrets.ts";
import { errorResponse, organizationBody, orgMembershipBody } from "./responses.ts";
import { isPrivate, orgRoleOf, type PropertyValue, type RepoRecord } from "./state.ts";

/** The organization's repositories the caller sees: public ones, and those its token reaches. */
function visibleRepos(context: HandlerContext, owner: string): RepoRecord[] {
  return context.state
    .reposOf(owner)
    .filter((repo) => !isPrivate(repo) || context.state.reaches(context.grant, repo));
}

/**
 * Whether `GET /orgs/{org}` shows the full details (the private repository counts among them): "the authenticated
 * user must be an organization owner", and a classic token needs the `admin:org` scope.
 * https://docs.github.com/en/rest/orgs/orgs#get-an-organization
 */
function seesFullDetails(context: HandlerContext): boolean {
  const grant = context.grant;
  if (grant.installation !== undefined || orgRoleOf(grant) !== "owner") return false;
  return grant.kind !== "classic" || (grant.scopes ?? ["repo"]).includes("admin:org");
}

/** The `type` filter of `GET /orgs/{org}/repos` (every emulated repository is a source, none is a fork). */
function matchesType(repo: RepoRecord, type: string): boolean {
  switch (type) {
    case "public":
      return !isPrivate(repo);
    case "private":
      return isPrivate(repo);
    case "forks":
      return false;
    default:
      return true;
  }
}

/** GitHub's order: `created` (newest first by default), `full_name` (A to Z by default); updated/pushed as created. */
function sortRepos(repos: RepoRecord[], sort: string, direction: string | null): RepoRecord[] {
  const byName = sort === "full_name";
  const ascending = (direction ?? (byName ? "asc" : "desc")) === "asc";
  const sorted = [...repos].sort((a, b) =>
    byName ? `${a.owner}/${a.name}`.localeCompare(`${b.owner}/${b.name}`) : a.id - b.id,
  );
  return ascending ? sorted : sorted.reverse();
}

function propertyMatches(value: PropertyValue | undefined, wanted: string): boolean {
  if (value === undefined || value === null) return false;
  return typeof value === "string" ? value === wanted : value.includes(wanted);
}

/** Parses `props.NAME:VALUE` qualifiers (all must match); other qualifiers are not emulated. */
function parseQuery(query: string): { name: string; value: string }[] | string {
  const terms: { name: string; value: string }[] = [];
  for (const term of query.split(/\s+/).filter((t) => t !== "")) {
    const found = /^props\.([^:]+):(.+)$/.exec(term);
    if (found?.[1] === undefined || found[2] === undefined) return term;
    terms.push({ name: found[1], value: found[2].replace(/^"(.*)"$/, "$1") });
  }
  return terms;
}

/** Organization handlers by operationId. */
export const ORG_HANDLERS: Readonly<Record<string, Handler>> = {
  "orgs/get": (context) =>
    withOrg(context, (org) => ({
      status: 200,
      body: {
        ...organizationBody(
          org,
          context.state.reposOf(org.login).filter((repo) => !isPrivate(repo)).length,
          context.apiBase,
          context.webBase,
        ),
        ...(seesFullDetails(context)
          ? {
              total_private_repos: context.state.reposOf(org.login).filter(isPrivate).length,
              owned_private_repos: context.state.reposOf(org.login).filter(isPrivate).length,
            }
          : {}),
      },
    })),

  "orgs/get-membership-for-authenticated-user": (context) =>
    withOrg(context, (org) =>
      context.grant.installation !== undefined
        ? errorResponse(403, INTEGRATION_FORBIDDEN, context.operation.docsUrl)
        : {
            status: 200,
            body: orgMembershipBody(
              org,
              context.state.user(context.grant.login),
              orgRoleOf(context.grant) === "owner" ? "admin" : "member",
              context.apiBase,
              context.webBase,
            ),
          },
    ),

  "repos/list-for-org": (context) =>
    withOrg(context, (org) =>
      withAppPermission(context, "metadata", "read", () => {
        const type = context.query.get("type") ?? "all";
        const repos = sortRepos(
          visibleRepos(context, org.login).filter((repo) => matchesType(repo, type)),
          context.query.get("sort") ?? "created",
          context.query.get("direction"),
        );
        const page = paginate(context, repos);
        return {
          status: 200,
          body: page.items.map((repo) => minimalRepo(context, repo)),
          headers: page.headers,
        };
      }),
    ),

  "orgs/custom-properties-for-repos-get-organization-values": (context) =>
    withOrg(context, (org) =>
      withAppPermission(context, "organization_custom_properties", "read", () => {
        const terms = parseQuery(context.query.get("repository_query") ?? "");
        if (typeof terms === "string") {
          return invalid(
            context,
            `Invalid repository_query: ${terms}`,
            `GET /orgs/${param(context, "org")}/properties/values: repository_query qualifier "${terms}" is not emulated (only props.NAME:VALUE)`,
          );
        }
        const repos = visibleRepos(context, org.login)
          .filter((repo) =>
            terms.every((term) => propertyMatches(repo.properties.get(term.name), term.value)),
          )
          .sort((a, b) => a.id - b.id);
        const page = paginate(context, repos);
        return {
          status: 200,
          body: page.items.map((repo) => ({
            repository_id: repo.id,
            repository_name: repo.name,
            repository_full_name: `${repo.owner}/${repo.name}`,
            properties: [...repo.properties].map(([name, value]) => ({
              property_name: name,
              value: value === null || typeof value === "string" ? value : [...value],
            })),
          })),
          headers: page.headers,
        };
      }),
    ),
};
