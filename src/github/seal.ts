// tweetsodium's package `main` is a UMD/CommonJS build that assigns its exports through an alias of
// `module.exports`, so Node cannot see named exports: import the module object as the default.
import tweetsodium from "tweetsodium";
import type { SecretValue } from "../domain/secret-value.ts";

/** X25519 public keys are 32 bytes (libsodium `crypto_box_PUBLICKEYBYTES`). */
const PUBLIC_KEY_BYTES = 32;
// Standard (original, RFC 4648 §4) alphabet with padding, as GitHub returns the key.
const BASE64_ORIGINAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The public key passed to `sealSecret` is not a base64 X25519 key. */
export class InvalidPublicKeyError extends Error {
  constructor(problem: string) {
    super(
      `The repository public key is not a base64-encoded ${PUBLIC_KEY_BYTES}-byte X25519 key (${problem}); ` +
        "pass the `key` field of GET /repos/{owner}/{repo}/actions/secrets/public-key unchanged.",
    );
    this.name = "InvalidPublicKeyError";
  }
}

/** Decodes a repository public key, or throws `InvalidPublicKeyError` (never echoing the key). */
export function decodePublicKey(publicKeyBase64: string): Uint8Array {
  if (!BASE64_ORIGINAL.test(publicKeyBase64)) throw new InvalidPublicKeyError("not standard base64");
  const bytes = Buffer.from(publicKeyBase64, "base64");
  if (bytes.length !== PUBLIC_KEY_BYTES) throw new InvalidPublicKeyError(`${bytes.length} bytes`);
  return new Uint8Array(bytes);
}

/**
 * Encrypts a secret for GitHub Actions as a libsodium sealed box, base64 (original variant) encoded,
 * which is what the "Create or update a repository secret" endpoint expects in `encrypted_value`.
 * https://docs.github.com/en/rest/guides/encrypting-secrets-for-the-rest-api
 */
export function sealSecret(value: SecretValue, publicKeyBase64: string): string {
  const key = decodePublicKey(publicKeyBase64);
  const sealed = tweetsodium.seal(new TextEncoder().encode(value.reveal()), key);
  return Buffer.from(sealed).toString("base64");
}
