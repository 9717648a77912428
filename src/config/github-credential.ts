import { createPrivateKey, type KeyObject } from "node:crypto";
import { SecretValue } from "../domain/secret-value.ts";
import { GitHubCredentialError } from "../errors.ts";

/**
 * What the function authenticates to GitHub with, read from the token secret (README, sections "GitHub token
 * permissions" and "GitHub App instead of a machine user"):
 * - a personal access token of the machine user (fine-grained or classic), the secret's whole plaintext value;
 * - a GitHub App: its App ID (the stack's pGitHubAppId, or `appId` in the secret) and its private key, from which
 *   each run mints short-lived installation tokens.
 */
export type GitHubCredential = PersonalTokenCredential | GitHubAppCredential;

export interface PersonalTokenCredential {
  readonly kind: "token";
  readonly token: SecretValue;
}

export interface GitHubAppCredential {
  readonly kind: "app";
  /** The App ID (digits) from the App's settings page; the `iss` of every JWT. */
  readonly appId: string;
  /** The App's RSA private key as a PKCS#8 PEM (GitHub's download is PKCS#1; both are accepted). */
  readonly privateKey: SecretValue;
}

/** The stack parameter that names the App and puts the function in App mode. */
export const APP_ID_PARAMETER = "pGitHubAppId";

/** GitHub App IDs are positive integers (shown as "App ID" on the App's settings page). */
const APP_ID = /^[1-9][0-9]{0,19}$/;

/** The keys a JSON App credential may have (the console's Key/value tab stores exactly this shape). */
const APP_JSON_KEYS = ["appId", "privateKey"] as const;

// https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/managing-private-keys-for-github-apps
const NEW_KEY_STEPS =
  "On GitHub open the App's settings (Settings → Developer settings → GitHub Apps → the App → General), under Private keys choose Generate a private key, and store the whole downloaded .pem file's text";

/**
 * Reads the token secret's text (already trimmed) as a personal token or a GitHub App credential.
 *
 * Accepted shapes: a bare token (no whitespace); a PEM private key (`-----BEGIN RSA PRIVATE KEY-----` or
 * `-----BEGIN PRIVATE KEY-----`, line breaks optional: a form field or the console may drop them) with the App ID
 * from the stack (`stackAppId`); or JSON `{"appId": "123", "privateKey": "-----BEGIN ..."}` (the console's
 * Key/value tab). Throws GitHubCredentialError naming `secretId` and what to store instead; never quotes the value.
 */
export function parseGitHubCredential(
  text: string,
  where: { readonly secretId: string; readonly stackAppId: string | undefined },
): GitHubCredential {
  const { secretId, stackAppId } = where;
  if (text.startsWith("{")) return appFromJson(text, secretId, stackAppId);
  if (text.includes("-----BEGIN")) {
    if (stackAppId === undefined) {
      throw new GitHubCredentialError(
        `The GitHub token secret ${secretId} holds a private key, but the stack names no GitHub App (${APP_ID_PARAMETER} is empty), so the function cannot tell which App the key belongs to.`,
        `Update the stack with ${APP_ID_PARAMETER} set to the App's ID (the App's settings page, General → About → App ID), or store {"appId": "<App ID>", "privateKey": "<the .pem text>"} in ${secretId}.`,
      );
    }
    return { kind: "app", appId: stackAppId, privateKey: readPrivateKey(text, secretId) };
  }
  if (/\s/.test(text)) {
    throw new GitHubCredentialError(
      `The GitHub token secret ${secretId} does not hold a bare token (it holds spaces or line breaks, and is not a private key).`,
      `Store only the token in secret ${secretId}, using the console's Plaintext tab rather than Key/value pairs.`,
    );
  }
  if (stackAppId !== undefined) {
    throw new GitHubCredentialError(
      `The stack names GitHub App ${stackAppId} (${APP_ID_PARAMETER}), but the secret ${secretId} holds a token rather than the App's private key.`,
      `${NEW_KEY_STEPS} in ${secretId}; or, to keep using a personal token, update the stack with ${APP_ID_PARAMETER} empty.`,
    );
  }
  return { kind: "token", token: new SecretValue(text) };
}

function appFromJson(text: string, secretId: string, stackAppId: string | undefined): GitHubAppCredential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GitHubCredentialError(
      `The GitHub token secret ${secretId} starts like JSON but is not valid JSON.`,
      `Store either the bare token (Plaintext tab) or {"appId": "<App ID>", "privateKey": "<the .pem text>"} for a GitHub App in ${secretId}.`,
    );
  }
  const record = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  const keys = Object.keys(record);
  const unknown = keys.filter((key) => !(APP_JSON_KEYS as readonly string[]).includes(key));
  const { appId, privateKey } = record as { appId?: unknown; privateKey?: unknown };
  if (unknown.length > 0 || privateKey === undefined) {
    // Key names are the user's labels, never secret; the values are never quoted.
    const holds =
      keys.length === 0 ? "no keys" : `the keys ${keys.map((key) => JSON.stringify(key)).join(", ")}`;
    throw new GitHubCredentialError(
      `The GitHub token secret ${secretId} holds JSON with ${holds}, which is neither a bare token nor a GitHub App credential (exactly the keys "appId" and "privateKey").`,
      `Store only the token in ${secretId} (console: the Plaintext tab), or for a GitHub App the keys appId (its App ID) and privateKey (the .pem file's text). The App's installations are found by the function.`,
    );
  }
  const id = typeof appId === "number" ? String(appId) : appId;
  const resolved = id ?? stackAppId;
  if (typeof resolved !== "string" || !APP_ID.test(resolved)) {
    throw new GitHubCredentialError(
      `The GitHub App credential in secret ${secretId} has ${id === undefined ? "no appId" : "an appId that is not a GitHub App ID (a number such as 123456)"}, and the stack's ${APP_ID_PARAMETER} does not name one either.`,
      `Set "appId" in ${secretId} to the App's ID (the App's settings page, General → About → App ID), or update the stack with ${APP_ID_PARAMETER}.`,
    );
  }
  if (stackAppId !== undefined && resolved !== stackAppId) {
    throw new GitHubCredentialError(
      `The GitHub App credential in secret ${secretId} is for App ${resolved}, but the stack names App ${stackAppId} (${APP_ID_PARAMETER}).`,
      `Make them agree: update the stack's ${APP_ID_PARAMETER}, or store the credential of App ${stackAppId} in ${secretId}.`,
    );
  }
  if (typeof privateKey !== "string") {
    throw new GitHubCredentialError(
      `The GitHub App credential in secret ${secretId} has a privateKey that is not text.`,
      `${NEW_KEY_STEPS} as the value of privateKey in ${secretId}.`,
    );
  }
  return { kind: "app", appId: resolved, privateKey: readPrivateKey(privateKey, secretId) };
}

/** `-----BEGIN LABEL----- body -----END LABEL-----`, whatever whitespace (or none) surrounds the body. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/**
 * The App's private key as a PKCS#8 PEM, from a PEM whose line breaks may be missing (an HTML password field drops
 * them), spaces instead, or escaped as `\n` (a .env habit). Only RSA keys qualify: GitHub signs App JWTs with RS256.
 * https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 */
function readPrivateKey(text: string, secretId: string): SecretValue {
  const block = PEM_BLOCK.exec(text.replace(/\\n/g, "\n"));
  const label = block?.[1] ?? "";
  const refuse = (what: string, cause?: unknown): never => {
    throw new GitHubCredentialError(
      `The GitHub App private key in secret ${secretId} ${what}.`,
      `${NEW_KEY_STEPS} in ${secretId} (the key as GitHub gives it, -----BEGIN RSA PRIVATE KEY----- to -----END RSA PRIVATE KEY-----).`,
      cause,
    );
  };
  if (block === undefined || block === null)
    return refuse("is not a complete PEM block (its BEGIN or END line is missing)");
  if (label === "OPENSSH PRIVATE KEY") return refuse("is in OpenSSH format, which cannot sign GitHub's JWT");
  if (label === "ENCRYPTED PRIVATE KEY") return refuse("is encrypted with a passphrase");
  if (label !== "RSA PRIVATE KEY" && label !== "PRIVATE KEY") {
    return refuse(`is a ${label.toLowerCase()}, not the App's private key`);
  }
  const body = (block[2] ?? "").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body))
    return refuse("has characters that base64 does not use between its BEGIN and END lines");
  const pem = `-----BEGIN ${label}-----\n${body.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    return refuse("cannot be read as a private key (it may be cut short)", error);
  }
  if (key.asymmetricKeyType !== "rsa") {
    return refuse(`is an ${String(key.asymmetricKeyType).toUpperCase()} key; GitHub Apps sign with RSA keys`);
  }
  return new SecretValue(String(key.export({ type: "pkcs8", format: "pem" })));
}
