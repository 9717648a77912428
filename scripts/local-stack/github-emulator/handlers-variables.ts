/**
 * Actions configuration variables at every scope: repository, environment and organization (with visibility and
 * selected repositories), plus the organization variables a repository sees.
 * https://docs.github.com/en/rest/actions/variables
 * Creating a variable that exists answers 409 (clients such as `gh variable set` create, then update on 409:
 * https://github.com/cli/cli/pull/6928).
 */
import {
  type Handler,
  type HandlerContext,
  type HandlerResult,
  invalid,
  notFound,
  paginate,
  param,
  withOrgAccess,
  withRepoAccess,
  writtenAt,
} from "./handler-kit.ts";
import { minimalRepo, selectedIds } from "./handlers-secrets.ts";
import { visibleTo } from "./precedence.ts";
import { errorResponse } from "./responses.ts";
import { type OrgVisibility, type SecretScope, scopeLabel } from "./scopes.ts";
import type { OrgAccess, OrgRecord, RepoRecord } from "./state.ts";
import { variableNameProblem } from "./state.ts";
import type { VariableBook, VariableRecord } from "./variable-book.ts";

/** GitHub's limit on a variable's value: 48 KB. */
const MAX_VARIABLE_BYTES = 48 * 1024;

interface Resolved {
  readonly scope: SecretScope;
  readonly book: VariableBook;
  readonly org?: OrgRecord;
}

type Resolve = (
  context: HandlerContext,
  access: "read" | "write",
  then: (target: Resolved) => HandlerResult,
) => HandlerResult;

const repoVariables: Resolve = (context, access, then) =>
  withRepoAccess(context, { access, permission: "actions_variables", kind: "variables" }, (repo) =>
    then({
      scope: { kind: "repository", owner: repo.owner, repo: repo.name, store: "actions" },
      book: repo.variables,
    }),
  );

const environmentVariables: Resolve = (context, access, then) =>
  // "Variables" and "Environments" (handler-kit.ts).
  withRepoAccess(
    context,
    { access, permission: "actions_variables", kind: "variables", environments: true },
    (repo) => {
      const environment = context.state.findEnvironment(repo, param(context, "environment_name"));
      if (environment === undefined) return notFound(context);
      return then({
        scope: { kind: "environment", owner: repo.owner, repo: repo.name, environment: environment.name },
        book: environment.variables,
      });
    },
  );

const orgVariables: Resolve = (context, access, then) =>
  withOrgAccess(context, { access, permission: "organization_actions_variables", kind: "variables" }, (org) =>
    then({ scope: { kind: "organization", org: org.login, store: "actions" }, book: org.variables, org }),
  );

function variableBody(
  context: HandlerContext,
  target: Resolved,
  variable: VariableRecord,
): Record<string, unknown> {
  const body = {
    name: variable.name,
    value: variable.value,
    created_at: variable.createdAt,
    updated_at: variable.updatedAt,
  };
  if (target.org === undefined) return body;
  const access = target.org.variableAccess.get(variable.name);
  return {
    ...body,
    visibility: access?.visibility ?? "all",
    ...(access?.visibility === "selected"
      ? {
          selected_repositories_url: `${context.apiBase}/orgs/${target.org.login}/actions/variables/${variable.name}/repositories`,
        }
      : {}),
  };
}

function where(target: Resolved, name: string): string {
  return `${scopeLabel(target.scope)} variable ${name}`;
}

function checkNameAndValue(
  context: HandlerContext,
  target: Resolved,
  name: string,
  value: string | undefined,
): HandlerResult | undefined {
  const nameProblem = variableNameProblem(name);
  if (nameProblem !== undefined) return invalid(context, nameProblem, `${where(target, name)}: invalid name`);
  if (value !== undefined && Buffer.byteLength(value, "utf8") > MAX_VARIABLE_BYTES) {
    return invalid(context, "Variable value is too large.", `${where(target, name)}: value too large`);
  }
  return undefined;
}

interface OrgFields {
  visibility?: OrgVisibility;
  selected_repository_ids?: number[];
}

/**
 * The access an organization variable gets from `visibility`/`selected_repository_ids` (unchanged fields keep their
 * value), or a 422 violation; undefined outside organizations.
 */
function orgAccessFor(
  context: HandlerContext,
  target: Resolved,
  name: string,
  previousName: string,
  fields: OrgFields,
): OrgAccess | HandlerResult | undefined {
  const org = target.org;
  if (org === undefined) return undefined;
  const previous = org.variableAccess.get(previousName.toUpperCase());
  const visibility = fields.visibility ?? previous?.visibility ?? "all";
  if (fields.selected_repository_ids !== undefined && visibility !== "selected") {
    return invalid(
      context,
      "You can only provide a list of repository ids when the visibility is set to selected.",
      `${where(target, name)}: selected_repository_ids with visibility ${visibility}`,
    );
  }
  const ids = selectedIds(context, org, fields.selected_repository_ids ?? [], where(target, name));
  if (!(ids instanceof Set)) return ids;
  return {
    visibility,
    selected:
      fields.selected_repository_ids === undefined && previous !== undefined ? previous.selected : ids,
  };
}

function isResult(value: OrgAccess | HandlerResult | undefined): value is HandlerResult {
  return value !== undefined && "status" in value;
}

function list(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "read", (target) => {
      const all = target.book.list();
      const page = paginate(context, all);
      return {
        status: 200,
        body: { total_count: all.length, variables: page.items.map((v) => variableBody(context, target, v)) },
        headers: page.headers,
      };
    });
}

function get(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "read", (target) => {
      const variable = target.book.get(param(context, "name"));
      return variable === undefined
        ? notFound(context)
        : { status: 200, body: variableBody(context, target, variable) };
    });
}

function create(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "write", (target) => {
      const body = context.body as { name: string; value: string } & OrgFields;
      const problem = checkNameAndValue(context, target, body.name, body.value);
      if (problem !== undefined) return problem;
      if (target.book.has(body.name)) {
        return errorResponse(409, "Already exists - Variable already exists.", context.operation.docsUrl);
      }
      const access = orgAccessFor(context, target, body.name, body.name, body);
      if (isResult(access)) return access;
      if (access !== undefined) target.org?.variableAccess.set(body.name.toUpperCase(), access);
      target.book.set(body.name, body.value, context.state.stamp());
      return { status: 201, body: {}, secretWritten: writtenAt(target.scope, "variable", body.name) };
    });
}

function update(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "write", (target) => {
      const current = target.book.get(param(context, "name"));
      if (current === undefined) return notFound(context);
      const body = context.body as { name?: string; value?: string } & OrgFields;
      const name = body.name ?? current.name;
      const problem = checkNameAndValue(context, target, name, body.value);
      if (problem !== undefined) return problem;
      if (name.toUpperCase() !== current.name && target.book.has(name)) {
        return errorResponse(409, "Already exists - Variable already exists.", context.operation.docsUrl);
      }
      const access = orgAccessFor(context, target, name, current.name, body);
      if (isResult(access)) return access;
      const stamp = context.state.stamp();
      target.book.rename(current.name, name, stamp);
      if (target.org !== undefined && access !== undefined) {
        target.org.variableAccess.delete(current.name);
        target.org.variableAccess.set(name.toUpperCase(), access);
      }
      target.book.set(name, body.value ?? current.value, stamp);
      return { status: 204, secretWritten: writtenAt(target.scope, "variable", name) };
    });
}

function remove(resolve: Resolve): Handler {
  return (context) =>
    resolve(context, "write", (target) => {
      const name = param(context, "name");
      if (!target.book.delete(name)) return notFound(context);
      target.org?.variableAccess.delete(name.toUpperCase());
      return { status: 204 };
    });
}

/** The organization variable in the path with its access (404 when missing; 409 unless `selected` for changes). */
function withSelected(
  context: HandlerContext,
  target: Resolved,
  requireSelected: boolean,
  then: (access: OrgAccess, name: string) => HandlerResult,
): HandlerResult {
  const name = param(context, "name").toUpperCase();
  const access = target.org?.variableAccess.get(name);
  if (!target.book.has(name) || access === undefined) return notFound(context);
  if (requireSelected && access.visibility !== "selected") {
    return {
      ...errorResponse(409, "Visibility must be set to selected", context.operation.docsUrl),
      violation: `${where(target, name)}: selected repositories changed while visibility is ${access.visibility}`,
    };
  }
  return then(access, name);
}

const listSelected: Handler = (context) =>
  orgVariables(context, "read", (target) =>
    withSelected(context, target, false, (access) => {
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
    }),
  );

function changeSelected(change: "set" | "add" | "remove"): Handler {
  return (context) =>
    orgVariables(context, "write", (target) =>
      withSelected(context, target, true, (access, name) => {
        const raw =
          change === "set"
            ? (context.body as { selected_repository_ids: number[] }).selected_repository_ids
            : [param(context, "repository_id")];
        const ids = selectedIds(context, target.org as OrgRecord, raw, where(target, name));
        if (!(ids instanceof Set)) return ids;
        if (change === "set") access.selected.clear();
        for (const id of ids) {
          if (change === "remove") access.selected.delete(id);
          else access.selected.add(id);
        }
        return { status: 204, secretWritten: writtenAt(target.scope, "variable", name) };
      }),
    );
}

/** `GET /repos/{owner}/{repo}/actions/organization-variables`: the organization variables this repository sees. */
const listRepoOrganizationVariables: Handler = (context) =>
  withRepoAccess(context, { access: "read", permission: "actions_variables", kind: "variables" }, (repo) => {
    const org = context.state.findOrg(repo.owner);
    const visible = (org?.variables.list() ?? []).filter((variable) => {
      const access = org?.variableAccess.get(variable.name);
      return access !== undefined && visibleTo(access, repo);
    });
    const page = paginate(context, visible);
    return {
      status: 200,
      body: {
        total_count: visible.length,
        variables: page.items.map((variable) => ({
          name: variable.name,
          value: variable.value,
          created_at: variable.createdAt,
          updated_at: variable.updatedAt,
        })),
      },
      headers: page.headers,
    };
  });

/** Variables handlers by operationId. */
export const VARIABLE_HANDLERS: Readonly<Record<string, Handler>> = {
  "actions/list-repo-variables": list(repoVariables),
  "actions/get-repo-variable": get(repoVariables),
  "actions/create-repo-variable": create(repoVariables),
  "actions/update-repo-variable": update(repoVariables),
  "actions/delete-repo-variable": remove(repoVariables),
  "actions/list-environment-variables": list(environmentVariables),
  "actions/get-environment-variable": get(environmentVariables),
  "actions/create-environment-variable": create(environmentVariables),
  "actions/update-environment-variable": update(environmentVariables),
  "actions/delete-environment-variable": remove(environmentVariables),
  "actions/list-org-variables": list(orgVariables),
  "actions/get-org-variable": get(orgVariables),
  "actions/create-org-variable": create(orgVariables),
  "actions/update-org-variable": update(orgVariables),
  "actions/delete-org-variable": remove(orgVariables),
  "actions/list-selected-repos-for-org-variable": listSelected,
  "actions/set-selected-repos-for-org-variable": changeSelected("set"),
  "actions/add-selected-repo-to-org-variable": changeSelected("add"),
  "actions/remove-selected-repo-from-org-variable": changeSelected("remove"),
  "actions/list-repo-organization-variables": listRepoOrganizationVariables,
};
