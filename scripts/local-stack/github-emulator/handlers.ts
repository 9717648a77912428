/**
 * The emulated endpoints, keyed by GitHub operationId. Requests reach them authenticated and already validated
 * against the OpenAPI description, so handlers only apply GitHub's behaviour. Each group lives in its own module;
 * extensions (e.g. GitHub App endpoints) add theirs through `GitHubEmulatorOptions.extensions`.
 */
import { INTEGRATION_FORBIDDEN } from "./apps.ts";
import { type Handler, withRepo } from "./handler-kit.ts";
import { CONTENT_HANDLERS } from "./handlers-contents.ts";
import { ENVIRONMENT_HANDLERS } from "./handlers-environments.ts";
import { ORG_HANDLERS } from "./handlers-orgs.ts";
import { SECRET_HANDLERS } from "./handlers-secrets.ts";
import { VARIABLE_HANDLERS } from "./handlers-variables.ts";
import { authenticatedUserBody, errorResponse, repositoryBody } from "./responses.ts";
import { roleOf } from "./state.ts";

export { ARCHIVED, NOT_ADMIN, NOT_ORG_ADMIN, type SecretWrittenEvent } from "./handler-kit.ts";

const CORE_HANDLERS: Readonly<Record<string, Handler>> = {
  "users/get-authenticated": (context) =>
    // An installation token has no user (apps.ts).
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
        context.state.ownerOf(repo),
        roleOf(context.grant),
        context.apiBase,
        context.webBase,
      ),
    })),
};

const HANDLERS: Readonly<Record<string, Handler>> = {
  ...CORE_HANDLERS,
  ...SECRET_HANDLERS,
  ...VARIABLE_HANDLERS,
  ...ENVIRONMENT_HANDLERS,
  ...ORG_HANDLERS,
  ...CONTENT_HANDLERS,
};

/** OperationIds the emulator implements (without extensions). */
export const EMULATED_OPERATIONS: readonly string[] = Object.keys(HANDLERS);

/**
 * The handler table with extensions' handlers added. An extension may not replace a built-in handler or another
 * extension's (it would change behaviour other tests rely on): that throws, naming the operation.
 */
export function handlerTable(
  extensions: readonly { readonly name: string; readonly handlers?: Readonly<Record<string, Handler>> }[],
): ReadonlyMap<string, Handler> {
  const table = new Map(Object.entries(HANDLERS));
  for (const extension of extensions) {
    for (const [operationId, handler] of Object.entries(extension.handlers ?? {})) {
      if (table.has(operationId)) {
        throw new Error(
          `github-emulator: extension ${extension.name} registers ${operationId}, which is already emulated`,
        );
      }
      table.set(operationId, handler);
    }
  }
  return table;
}
