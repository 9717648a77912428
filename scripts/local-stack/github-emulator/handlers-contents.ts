/**
 * `GET /repos/{owner}/{repo}/contents/{path}` on the default branch: a file (content base64) or a directory
 * listing, for reading `.github/workflows`. Files are seeded by tests (`setFile`). A GitHub App needs "Contents" (read).
 * https://docs.github.com/en/rest/repos/contents#get-repository-content
 */
import { type Handler, notFound, param, withAppPermission, withRepo } from "./handler-kit.ts";
import { contentEntryBody, contentFileBody, errorResponse } from "./responses.ts";

/** The branch files live on. */
const DEFAULT_BRANCH = "main";

/** Contents handlers by operationId. */
export const CONTENT_HANDLERS: Readonly<Record<string, Handler>> = {
  "repos/get-content": (context) =>
    withRepo(context, (repo) =>
      withAppPermission(context, "contents", "read", () => {
        const ref = context.query.get("ref");
        if (ref !== null && ref !== DEFAULT_BRANCH && ref !== `refs/heads/${DEFAULT_BRANCH}`) {
          return errorResponse(404, `No commit found for the ref ${ref}`, context.operation.docsUrl);
        }
        const path = param(context, "path").replace(/^\/+|\/+$/g, "");
        const file = repo.files.get(path);
        if (file !== undefined) {
          return { status: 200, body: contentFileBody(repo, path, file, context.apiBase, context.webBase) };
        }
        const prefix = path === "" ? "" : `${path}/`;
        const children = new Map<string, string | undefined>();
        for (const [filePath, content] of repo.files) {
          if (!filePath.startsWith(prefix)) continue;
          const [first = "", ...rest] = filePath.slice(prefix.length).split("/");
          // A deeper file makes its first segment a directory.
          children.set(`${prefix}${first}`, rest.length === 0 ? content : undefined);
        }
        if (children.size === 0) return notFound(context);
        return {
          status: 200,
          body: [...children]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([childPath, content]) =>
              contentEntryBody(repo, childPath, content, context.apiBase, context.webBase),
            ),
        };
      }),
    ),
};
