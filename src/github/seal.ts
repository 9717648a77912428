// tweetsodium's package `main` is a UMD/CommonJS build that assigns its exports through an alias of
// `module.exports`, so Node cannot see named exports: import the module object as the default.
import { createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
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

/**
 * Decodes a repository public key, or throws `InvalidPublicKeyError` (never echoing the key): not base64, not
 * 32 bytes, or a point of small order. A sealed box for a small-order point (all zeros, 1, p−1, p, p+1, the two
 * points of order 8, and their encodings with the top bit set) has a shared secret anyone can compute, so the
 * secret would be readable by anyone who sees the encrypted value; libsodium refuses such keys too
 * (crypto_box_seal fails). The check is RFC 7748 §6.1's: X25519 with our own ephemeral key must not give the
 * all-zero value (every clamped scalar is a multiple of the cofactor 8, so exactly the small-order points give
 * it); node:crypto's X25519 (OpenSSL) refuses to derive it, https://nodejs.org/api/crypto.html#cryptodiffiehellmanoptions.
 */
export function decodePublicKey(publicKeyBase64: string): Uint8Array {
  if (!BASE64_ORIGINAL.test(publicKeyBase64)) throw new InvalidPublicKeyError("not standard base64");
  const bytes = Buffer.from(publicKeyBase64, "base64");
  if (bytes.length !== PUBLIC_KEY_BYTES) throw new InvalidPublicKeyError(`${bytes.length} bytes`);
  if (hasSmallOrder(bytes)) throw new InvalidPublicKeyError("a point of small order, which no real key is");
  return new Uint8Array(bytes);
}

function hasSmallOrder(point: Buffer): boolean {
  const publicKey = createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: point.toString("base64url") },
    format: "jwk",
  });
  const { privateKey } = generateKeyPairSync("x25519");
  try {
    const shared = diffieHellman({ privateKey, publicKey });
    return shared.every((byte) => byte === 0);
  } catch {
    return true; // OpenSSL refuses to derive the all-zero secret
  }
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
