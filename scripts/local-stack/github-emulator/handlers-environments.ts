/**
 * Deployment environments of a repository: list and get (creating them is a test helper, `addEnvironment`).
 * Anyone with read access to the repository may list them; a GitHub App needs "Actions" (read).
 * https://docs.github.com/en/rest/deployments/environments
 */
import { type Handler, notFound, paginate, param, withAppPermission, withRepo } from "./handler-kit.ts";
import { environmentBody } from "./responses.ts";

/** Environments handlers by operationId. */
export const ENVIRONMENT_HANDLERS: Readonly<Record<string, Handler>> = {
  "repos/get-all-environments": (context) =>
    withRepo(context, (repo) =>
      withAppPermission(context, "actions", "read", () => {
        const all = [...repo.environments.values()].sort((a, b) => a.id - b.id);
        const page = paginate(context, all);
        return {
          status: 200,
          body: {
            total_count: all.length,
            environments: page.items.map((environment) =>
              environmentBody(repo, environment, context.apiBase, context.webBase),
            ),
          },
          headers: page.headers,
        };
      }),
    ),

  "repos/get-environment": (context) =>
    withRepo(context, (repo) =>
      withAppPermission(context, "actions", "read", () => {
        const environment = context.state.findEnvironment(repo, param(context, "environment_name"));
        return environment === undefined
          ? notFound(context)
          : { status: 200, body: environmentBody(repo, environment, context.apiBase, context.webBase) };
      }),
    ),
};
