import type { SecretValue } from "../domain/secret-value.ts";

/** Where a client gets its GitHub App installation token: current, or freshly minted when asked to `refresh`. */
export interface InstallationTokenSource {
  /**
   * The token to send now. Without `refresh`, a token minted earlier while it has time left; with it, a new one
   * (GitHub answered 401 to the current one: it expired or was revoked earlier than its `expires_at` said).
   */
  token(options?: { readonly refresh?: boolean }): Promise<SecretValue>;
}

/** The part of Octokit's `request` an auth hook uses (as @octokit/auth-token's hook does). */
interface HookRequest {
  (options: Record<string, unknown>): Promise<unknown>;
  readonly endpoint: {
    merge(
      route: unknown,
      parameters?: unknown,
    ): Record<string, unknown> & { headers: Record<string, unknown> };
  };
}

/**
 * An Octokit `authStrategy` that sends the installation token `source` holds at each request (so a token minted
 * again before its hour is up is picked up at once), and on a 401 asks for a new token and sends the request once
 * more. GitHub: "Using an expired token produces a status code of 401 - Unauthorized, and requires creating a new
 * installation token." https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app
 * A 401 means GitHub did not act on the request, so sending a write again cannot apply it twice.
 */
export function installationTokenAuth(options: { readonly source: InstallationTokenSource }) {
  const { source } = options;
  const authenticate = async () => ({ type: "token", tokenType: "installation" }) as const;
  return Object.assign(authenticate, {
    hook: async (request: HookRequest, route: unknown, parameters?: unknown) => {
      const endpoint = request.endpoint.merge(route, parameters);
      const send = async (token: SecretValue) => {
        endpoint.headers.authorization = `token ${token.reveal()}`;
        return request(endpoint);
      };
      try {
        return await send(await source.token());
      } catch (error) {
        if ((error as { status?: unknown }).status !== 401) throw error;
        return send(await source.token({ refresh: true }));
      }
    },
  });
}
