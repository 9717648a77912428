/**
 * One place that holds secrets on the emulated GitHub (a repository's Actions, Dependabot or Codespaces secrets, an
 * environment's, an organization's): its own X25519 key pair, every key id it ever handed out, and the secrets,
 * kept decrypted behind private fields so printing state never reveals a value.
 * Encryption: libsodium sealed boxes, https://docs.github.com/en/rest/guides/encrypting-secrets-for-the-rest-api
 */
import sodium from "libsodium-wrappers";

/** A scope's current public key, as `GET …/secrets/public-key` returns it. */
export interface RepoPublicKey {
  readonly keyId: string;
  /** Base64 (original variant) X25519 public key. */
  readonly key: string;
}

/** A secret's metadata, as GitHub reports it (timestamps are ISO 8601 without milliseconds). */
export interface SecretMeta {
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Outcome of opening an `encrypted_value` sent to a scope. */
export type OpenResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: "stale-key-id" | "foreign-key-id" | "not-sealed-for-key" };

interface KeyPair {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A stored secret; the value sits in a private field so printing or serializing the record never reveals it. */
class StoredSecret {
  readonly #value: string;
  constructor(
    readonly name: string,
    value: string,
    readonly createdAt: string,
    readonly updatedAt: string,
  ) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
}

let nextKeySerial = 0n;

/** A fresh key pair; ids are long decimal strings like GitHub's (`3380204578043523366`), unique per process. */
function newKeyPair(): KeyPair {
  const { publicKey, privateKey } = sodium.crypto_box_keypair();
  const keyId = (3_380_204_578_043_523_366n + nextKeySerial++ * 7_919n).toString();
  return { keyId, publicKey, privateKey };
}

/** Secrets of one scope with the key pair clients seal them for. Needs `await sodium.ready` first. */
export class SecretBox {
  #keyPair: KeyPair = newKeyPair();
  readonly #issuedKeyIds = new Set<string>([this.#keyPair.keyId]);
  readonly #secrets = new Map<string, StoredSecret>();

  publicKey(): RepoPublicKey {
    return {
      keyId: this.#keyPair.keyId,
      key: sodium.to_base64(this.#keyPair.publicKey, sodium.base64_variants.ORIGINAL),
    };
  }

  /** Replaces the key pair; values sealed for the old key are then refused. */
  rotate(): RepoPublicKey {
    this.#keyPair = newKeyPair();
    this.#issuedKeyIds.add(this.#keyPair.keyId);
    return this.publicKey();
  }

  /** Opens a base64 sealed box sent for `keyId`; never throws. */
  open(keyId: string, encryptedValue: string): OpenResult {
    if (keyId !== this.#keyPair.keyId) {
      return { ok: false, reason: this.#issuedKeyIds.has(keyId) ? "stale-key-id" : "foreign-key-id" };
    }
    try {
      const sealed = Buffer.from(encryptedValue, "base64");
      const opened = sodium.crypto_box_seal_open(sealed, this.#keyPair.publicKey, this.#keyPair.privateKey);
      return { ok: true, value: new TextDecoder().decode(opened) };
    } catch {
      return { ok: false, reason: "not-sealed-for-key" };
    }
  }

  /** Stores a secret (names are case-insensitive and kept upper-case, as GitHub does). */
  put(name: string, value: string, stamp: string): "created" | "updated" {
    const upper = name.toUpperCase();
    const previous = this.#secrets.get(upper);
    this.#secrets.set(upper, new StoredSecret(upper, value, previous?.createdAt ?? stamp, stamp));
    return previous === undefined ? "created" : "updated";
  }

  /** Marks a secret updated without changing its value (an organization secret's visibility changed). */
  touch(name: string, stamp: string): void {
    const secret = this.#secrets.get(name.toUpperCase());
    if (secret !== undefined) {
      this.#secrets.set(secret.name, new StoredSecret(secret.name, secret.reveal(), secret.createdAt, stamp));
    }
  }

  has(name: string): boolean {
    return this.#secrets.has(name.toUpperCase());
  }

  delete(name: string): boolean {
    return this.#secrets.delete(name.toUpperCase());
  }

  value(name: string): string | undefined {
    return this.#secrets.get(name.toUpperCase())?.reveal();
  }

  meta(name: string): SecretMeta | undefined {
    const secret = this.#secrets.get(name.toUpperCase());
    if (secret === undefined) return undefined;
    return { name: secret.name, createdAt: secret.createdAt, updatedAt: secret.updatedAt };
  }

  /** Secrets sorted by name, like GitHub lists them. */
  list(): SecretMeta[] {
    return [...this.#secrets.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(({ name, createdAt, updatedAt }) => ({ name, createdAt, updatedAt }));
  }
}
