/** Small client-side helpers for the emulator tests: sealing like a GitHub client, and fetch shorthands. */
import tweetsodium from "tweetsodium";
import {
  type GitHubEmulator,
  type GitHubEmulatorOptions,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";

/** Seals a value for a repository public key (base64, original variant), as GitHub's docs describe. */
export function seal(value: string, publicKeyBase64: string): string {
  const sealed = tweetsodium.seal(new TextEncoder().encode(value), Buffer.from(publicKeyBase64, "base64"));
  return Buffer.from(sealed).toString("base64");
}

/** A fetch bound to the emulator and a token (`Authorization: token ...` unless another header is given). */
export function client(emulator: GitHubEmulator, token: string | undefined) {
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${emulator.url}${path}`, {
      method,
      headers: {
        accept: "application/vnd.github+json",
        ...(token === undefined ? {} : { authorization: `token ${token}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
  return {
    request,
    get: (path: string) => request("GET", path),
    put: (path: string, body: unknown) => request("PUT", path, body),
    /** Fetches the repo's public key and PUTs `value` sealed with it. */
    async putSecret(owner: string, repo: string, name: string, value: string): Promise<Response> {
      const keyResponse = await request("GET", `/repos/${owner}/${repo}/actions/secrets/public-key`);
      const key = (await keyResponse.json()) as { key_id: string; key: string };
      return request("PUT", `/repos/${owner}/${repo}/actions/secrets/${name}`, {
        encrypted_value: seal(value, key.key),
        key_id: key.key_id,
      });
    },
  };
}

export const OWNER = "octo-org";
export const REPO = "app";
/** Can read and write secrets of every repository. */
export const WRITE_TOKEN = "ghp_writeTokenForTests000000000000000";
/** Can see OWNER/REPO but not its secrets. */
export const READ_TOKEN = "ghp_readTokenForTests0000000000000000";

/** An emulator with OWNER/REPO, a write token (login `rotator-bot`) and a read token (login `reader`). */
export async function startEmulatorWithRepo(options: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const emulator = await startGitHubEmulator(options);
  emulator.addRepo(OWNER, REPO);
  emulator.addToken(WRITE_TOKEN, { login: "rotator-bot", repos: "all", permission: "write" });
  emulator.addToken(READ_TOKEN, { login: "reader", repos: [`${OWNER}/${REPO}`], permission: "read" });
  return emulator;
}

/** The JSON body of a response. */
export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** A promise plus the function that resolves it (for gating requests inside hooks without sleeping). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
