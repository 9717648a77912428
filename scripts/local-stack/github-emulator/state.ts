/**
 * What the emulated GitHub knows: repositories (each with an Actions key pair and secrets), users and tokens.
 * Secret values are kept decrypted, behind a private field, so they never show up when state is printed.
 */
import sodium from "libsodium-wrappers";
import { EmulatedApps, type InstallationGrant } from "./apps.ts";

/** `write` may read and write Actions secrets; `read` may see the repository but no secrets (GitHub answers 403). */
export type TokenPermission = "write" | "read";

/** The token owner's role on the repositories it reaches (GitHub's `push` is the UI's "write"). */
export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read";

/** What a registered token may do. */
export interface TokenGrant {
  /** Login of the token owner, returned by `GET /user`. */
  readonly login: string;
  /** `all`, or repositories as `owner/name` (case-insensitive, like GitHub). */
  readonly repos: "all" | readonly string[];
  /** A fine-grained token's "Secrets" repository permission (ignored for classic tokens). */
  readonly permission: TokenPermission;
  /**
   * `fine-grained` (default) or `classic`: a classic token's answers carry `X-OAuth-Scopes`, and without the
   * admin role GitHub refuses its secrets requests with "Must have admin rights to Repository.".
   */
  readonly kind?: "fine-grained" | "classic";
  /** A classic token's scopes (default `repo`). */
  readonly scopes?: readonly string[];
  /** The owner's role on the repositories (default: `admin` with `write` permission, else `read`); secrets need admin. */
  readonly role?: RepoRole;
  /**
   * When the token expires: every answer then carries `GitHub-Authentication-Token-Expiration`, and after that
   * instant GitHub answers 401 Bad credentials. Undefined: a token without an expiration date (no header).
   */
  readonly expiresAt?: Date;
  /** Set for a GitHub App's JWT (apps.ts): it is accepted by the App endpoints only. */
  readonly app?: { readonly id: number };
  /**
   * Set for a GitHub App installation token (apps.ts): its permissions replace `permission` and `role`, and it
   * reaches only the installation account's repositories.
   */
  readonly installation?: InstallationGrant;
}

/** The token owner's role on the repositories the grant reaches. */
export function roleOf(grant: TokenGrant): RepoRole {
  return grant.role ?? (grant.permission === "write" ? "admin" : "read");
}

/** A repository's current Actions public key, as `GET .../actions/secrets/public-key` returns it. */
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

export interface UserRecord {
  readonly login: string;
  readonly id: number;
  readonly createdAt: string;
}

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

export interface RepoRecord {
  /** Current owner and name; a rename or transfer changes them (the ID stays). */
  owner: string;
  name: string;
  readonly id: number;
  /** Earlier `owner/name`s (lower-case): GitHub redirects them here until another repository takes the name. */
  readonly formerNames: Set<string>;
  readonly private: boolean;
  readonly createdAt: string;
  /** Every key id this repository ever handed out, current one included. */
  readonly issuedKeyIds: Set<string>;
  /** Read-only: GitHub refuses every write ("Repository was archived so is read-only."). */
  archived: boolean;
  keyPair: KeyPair;
  readonly secrets: Map<string, StoredSecret>;
}

/** Outcome of opening an `encrypted_value` for a repository. */
export type OpenResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: "stale-key-id" | "foreign-key-id" | "not-sealed-for-key" };

/** GitHub limits: 48 KB per secret value; names are letters, digits and `_`, not starting with a digit. */
const MAX_SECRET_BYTES = 48 * 1024;
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ISO 8601 in GitHub's style: `2019-08-10T14:59:22Z`. */
export function githubTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

/** Why GitHub would refuse a secret name, or undefined when it is acceptable. */
export function secretNameProblem(name: string): string | undefined {
  if (!SECRET_NAME.test(name)) {
    return "Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_). Spaces are not allowed. Must start with a letter ([a-z], [A-Z]) or underscores (_).";
  }
  if (name.toUpperCase().startsWith("GITHUB_")) return "Secret names must not start with GITHUB_.";
  return undefined;
}

/** In-memory GitHub state. Call `EmulatorState.create()` (it waits for libsodium). */
export class EmulatorState {
  readonly #repos = new Map<string, RepoRecord>();
  readonly #tokens = new Map<string, TokenGrant>();
  readonly #users = new Map<string, UserRecord>();
  /** Former `owner/name`s (lower-case) of renamed or transferred repositories, to the repository now. */
  readonly #redirects = new Map<string, RepoRecord>();
  #nextId = 1_000_001;
  #nextKeySerial = 0n;
  /** GitHub Apps, their installations and installation tokens (apps.ts). */
  readonly apps: EmulatedApps;

  private constructor(private readonly now: () => number) {
    this.apps = new EmulatedApps(this, now);
  }

  static async create(now: () => number): Promise<EmulatorState> {
    await sodium.ready;
    return new EmulatorState(now);
  }

  /**
   * Adds a repository (idempotent: an existing one, matched case-insensitively, is returned unchanged). A name that
   * redirected to a renamed or transferred repository belongs to the new one from now on (GitHub drops the redirect).
   */
  addRepo(owner: string, name: string, options: { readonly private?: boolean } = {}): RepoRecord {
    const existing = this.#repos.get(repoKey(owner, name));
    if (existing !== undefined) return existing;
    this.#redirects.get(repoKey(owner, name))?.formerNames.delete(repoKey(owner, name));
    this.#redirects.delete(repoKey(owner, name));
    const keyPair = this.#newKeyPair();
    const repo: RepoRecord = {
      owner,
      name,
      id: this.#nextId++,
      formerNames: new Set(),
      private: options.private ?? true,
      createdAt: githubTimestamp(this.now()),
      issuedKeyIds: new Set([keyPair.keyId]),
      archived: false,
      keyPair,
      secrets: new Map(),
    };
    this.#repos.set(repoKey(owner, name), repo);
    return repo;
  }

  findRepo(owner: string, name: string): RepoRecord | undefined {
    return this.#repos.get(repoKey(owner, name));
  }

  /** The repository now under GitHub's numeric ID, if any. */
  repoById(id: number): RepoRecord | undefined {
    return [...this.#repos.values()].find((repo) => repo.id === id);
  }

  /**
   * Renames and/or transfers a repository: it keeps its ID, key pair and secrets; its old name redirects to it
   * (GitHub: 301 for GET, 307 for other methods) until a repository is created under that name.
   */
  moveRepo(owner: string, name: string, to: { readonly owner: string; readonly name: string }): RepoRecord {
    const repo = this.requireRepo(owner, name);
    const target = repoKey(to.owner, to.name);
    if (this.#repos.has(target)) {
      throw new Error(
        `github-emulator: cannot move ${owner}/${name} to ${to.owner}/${to.name}: that name is taken`,
      );
    }
    const old = repoKey(repo.owner, repo.name);
    this.#repos.delete(old);
    repo.formerNames.add(old);
    this.#redirects.set(old, repo);
    // A repository moved back to an old name answers there again.
    this.#redirects.delete(target);
    repo.formerNames.delete(target);
    repo.owner = to.owner;
    repo.name = to.name;
    this.#repos.set(target, repo);
    return repo;
  }

  /** Deletes a repository and every redirect to it. */
  deleteRepo(owner: string, name: string): void {
    const repo = this.requireRepo(owner, name);
    this.#repos.delete(repoKey(owner, name));
    for (const former of repo.formerNames) this.#redirects.delete(former);
  }

  /**
   * The repository an old name redirects to, when the name is not a repository any more and the grant reaches the
   * repository (GitHub answers 404 alike for a missing and an invisible repository).
   */
  redirectFor(grant: TokenGrant, owner: string, name: string): RepoRecord | undefined {
    if (this.#repos.has(repoKey(owner, name))) return undefined;
    const repo = this.#redirects.get(repoKey(owner, name));
    if (repo === undefined) return undefined;
    return this.accessibleRepo(grant, repo.owner, repo.name) === undefined ? undefined : repo;
  }

  /** Like findRepo, but fails with a message naming the repository (for the test-facing API). */
  requireRepo(owner: string, name: string): RepoRecord {
    const repo = this.findRepo(owner, name);
    if (repo === undefined) {
      throw new Error(`github-emulator: repository ${owner}/${name} does not exist; call addRepo() first`);
    }
    return repo;
  }

  addToken(token: string, grant: TokenGrant): void {
    if (token === "") throw new Error("github-emulator: a token must not be empty");
    this.#tokens.set(token, { ...grant, repos: grant.repos === "all" ? "all" : [...grant.repos] });
    this.user(grant.login);
  }

  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  grantFor(token: string): TokenGrant | undefined {
    return this.#tokens.get(token);
  }

  /** The user record for a login, created on first sight. */
  user(login: string): UserRecord {
    let user = this.#users.get(login);
    if (user === undefined) {
      user = { login, id: this.#nextId++, createdAt: githubTimestamp(this.now()) };
      this.#users.set(login, user);
    }
    return user;
  }

  /**
   * The repository if it exists and the grant reaches it; GitHub does not tell the two cases apart (404). A grant
   * that names a repository by an earlier name still reaches it (GitHub binds a token to the repository, not to
   * its name).
   */
  accessibleRepo(grant: TokenGrant, owner: string, name: string): RepoRecord | undefined {
    const repo = this.findRepo(owner, name);
    if (repo === undefined) return undefined;
    // An installation token reaches its installation's account only.
    if (
      grant.installation !== undefined &&
      repo.owner.toLowerCase() !== grant.installation.account.toLowerCase()
    ) {
      return undefined;
    }
    if (grant.repos === "all") return repo;
    const names = new Set([repoKey(repo.owner, repo.name), ...repo.formerNames]);
    return grant.repos.some((full) => names.has(full.toLowerCase())) ? repo : undefined;
  }

  publicKey(repo: RepoRecord): RepoPublicKey {
    return {
      keyId: repo.keyPair.keyId,
      key: sodium.to_base64(repo.keyPair.publicKey, sodium.base64_variants.ORIGINAL),
    };
  }

  /** Replaces the repository's key pair; values sealed for the old key are then refused. */
  rotatePublicKey(repo: RepoRecord): RepoPublicKey {
    repo.keyPair = this.#newKeyPair();
    repo.issuedKeyIds.add(repo.keyPair.keyId);
    return this.publicKey(repo);
  }

  /** Opens a base64 sealed box sent for `keyId`; never throws. */
  openSealedValue(repo: RepoRecord, keyId: string, encryptedValue: string): OpenResult {
    if (keyId !== repo.keyPair.keyId) {
      return { ok: false, reason: repo.issuedKeyIds.has(keyId) ? "stale-key-id" : "foreign-key-id" };
    }
    try {
      const sealed = Buffer.from(encryptedValue, "base64");
      const opened = sodium.crypto_box_seal_open(sealed, repo.keyPair.publicKey, repo.keyPair.privateKey);
      return { ok: true, value: new TextDecoder().decode(opened) };
    } catch {
      return { ok: false, reason: "not-sealed-for-key" };
    }
  }

  /** Why GitHub would refuse this value, or undefined. */
  secretValueProblem(value: string): string | undefined {
    const bytes = Buffer.byteLength(value, "utf8");
    return bytes > MAX_SECRET_BYTES
      ? `Secret value is ${bytes} bytes; the limit is ${MAX_SECRET_BYTES}.`
      : undefined;
  }

  /** Stores a secret (names are case-insensitive and kept upper-case, as GitHub does). */
  putSecret(repo: RepoRecord, name: string, value: string): "created" | "updated" {
    const upper = name.toUpperCase();
    const stamp = githubTimestamp(this.now());
    const previous = repo.secrets.get(upper);
    repo.secrets.set(upper, new StoredSecret(upper, value, previous?.createdAt ?? stamp, stamp));
    return previous === undefined ? "created" : "updated";
  }

  deleteSecret(repo: RepoRecord, name: string): boolean {
    return repo.secrets.delete(name.toUpperCase());
  }

  secretValue(repo: RepoRecord, name: string): string | undefined {
    return repo.secrets.get(name.toUpperCase())?.reveal();
  }

  secretMeta(repo: RepoRecord, name: string): SecretMeta | undefined {
    const secret = repo.secrets.get(name.toUpperCase());
    if (secret === undefined) return undefined;
    return { name: secret.name, createdAt: secret.createdAt, updatedAt: secret.updatedAt };
  }

  /** Secrets of a repository, sorted by name like GitHub lists them. */
  listSecrets(repo: RepoRecord): SecretMeta[] {
    return [...repo.secrets.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map(({ name, createdAt, updatedAt }) => ({ name, createdAt, updatedAt }));
  }

  #newKeyPair(): KeyPair {
    const { publicKey, privateKey } = sodium.crypto_box_keypair();
    // GitHub key ids are long decimal strings, e.g. "3380204578043523366".
    const keyId = (3_380_204_578_043_523_366n + this.#nextKeySerial++ * 7_919n).toString();
    return { keyId, publicKey, privateKey };
  }
}
