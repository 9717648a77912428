/**
 * The small interfaces through which the rotation logic reaches the outside world.
 * Adapters in `aws/` and `github/` implement them; tests may implement them in memory.
 */
import type { GitHubCredential } from "./config/github-credential.ts";
import type { AccessKeyInfo, AccessKeyPair, NewAccessKey } from "./domain/access-key.ts";
import type { RepoRef } from "./domain/repo.ts";
import type { SecretValue } from "./domain/secret-value.ts";
import type { RepositorySelection } from "./domain/selection.ts";
import type { OrganizationTarget, SecretStore, Target } from "./domain/target.ts";
import type { WorkflowFile } from "./domain/workflow.ts";
import type { RepositoryPage } from "./lifecycle/selected-ids.ts";
import type { RotationState } from "./lifecycle/state.ts";

/** The managed IAM user's access keys. */
export interface IamKeys {
  /** Confirms the user exists and its ARN matches the configured one (throws IamStateError otherwise). */
  checkUser(): Promise<void>;
  /**
   * The user's keys, oldest first. `expected`: keys known to exist (created by an earlier invocation moments
   * ago); a listing that lacks one is retried for a while, as IAM may not list a new key at once.
   */
  list(expected?: readonly string[]): Promise<AccessKeyInfo[]>;
  create(): Promise<NewAccessKey>;
  deactivate(accessKeyId: string): Promise<void>;
  delete(accessKeyId: string): Promise<void>;
}

/** Proves a key works: STS GetCallerIdentity signed with it. Returns the caller ARN. */
export interface IdentityProbe {
  callerArn(key: AccessKeyPair): Promise<string>;
}

/**
 * Where the rotation remembers what it did (encrypted; holds pending/current secrets). `load` returns undefined
 * when nothing was saved yet. `save` stores the whole state; an adapter may split it (see KeyMaterialStore and
 * ProgressStore) as long as a run that dies in the middle of a save loads a state it can resume from.
 */
export interface StateStore {
  load(): Promise<RotationState | undefined>;
  save(state: RotationState): Promise<void>;
}

/** The secret that holds the rotation's keys (Secrets Manager): a text read and written whole. */
export interface KeyMaterialStore {
  /** Identifies the secret (its ARN): the progress records it, so it is never paired with another secret. */
  readonly id: string;
  /** For messages, e.g. `Secrets Manager secret arn:…`. */
  readonly location: string;
  /** The secret's value; undefined when it has none. */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** A stored text and the version (S3 ETag) it was read at. */
export interface VersionedText {
  readonly text: string;
  readonly version: string;
}

/** The rotation's progress (an S3 object): written often, conditionally, so two writers never clobber each other. */
export interface ProgressStore {
  /** For messages, e.g. `s3://bucket/repos.json.progress.json`. */
  readonly location: string;
  /** Undefined when the object does not exist. */
  read(): Promise<VersionedText | undefined>;
  /**
   * Writes `text` only if the stored version is still `expectedVersion` (undefined: only if there is none yet);
   * returns the new version. Throws StateStoreError when someone else wrote in between.
   */
  write(text: string, expectedVersion: string | undefined): Promise<string>;
}

/** What the list (repos.json) says, parsed: where the key goes. Grows with the list format. */
export interface ListedTargets {
  /** Every place the key is written, in list order. */
  readonly targets: readonly Target[];
  /** `Unmanaged` entries: places whose copy of the names holds another key on purpose (never written). Left out: none. */
  readonly unmanaged?: readonly Target[];
  /**
   * The entries that select an organization's repositories by topic or custom property, in list order (resolved at
   * each run: src/lifecycle/selected-targets.ts). Left out: none.
   */
  readonly selections?: readonly RepositorySelection[];
}

/**
 * The list of targets, read and validated whenever a run needs it: the lifecycle never parses the list itself
 * (src/lifecycle/listed-targets.ts reads repos.json from the ConfigStore).
 */
export interface TargetList {
  /** For messages, e.g. `s3://bucket/repos.json`. */
  readonly location: string;
  /**
   * Reads and parses the list. Throws ConfigError when it is missing or invalid and, with `ownersChecked`, a
   * KeyDestinationRefusedError when it names an owner pAllowedGitHubOwners does not allow (before any change).
   */
  load(options: { readonly ownersChecked: boolean }): Promise<ListedTargets>;
}

/** The raw repos.json document in S3. `version` is an ETag or version ID for optimistic writes. */
export interface ConfigDocument {
  readonly text: string;
  readonly version: string | undefined;
}

export interface ConfigStore {
  /** Human-readable location for messages, e.g. `s3://bucket/repos.json`. */
  readonly location: string;
  /** Returns undefined when the object does not exist. */
  read(): Promise<ConfigDocument | undefined>;
  write(text: string, expectedVersion: string | undefined): Promise<void>;
}

/** One version of repos.json in the versioned bucket. */
export interface ConfigVersion {
  readonly versionId: string;
  /** The list's text; undefined for a delete marker (the list was deleted at that version). */
  readonly text: string | undefined;
}

/** The earlier versions of repos.json (the bucket is versioned), to tell what a change added and removed. */
export interface ConfigHistory {
  /** Human-readable location for messages, e.g. `s3://bucket/repos.json`. */
  readonly location: string;
  /**
   * The version `versionId` and the one before it (undefined when it is the first), each read; undefined when
   * S3 lists no such version of the list.
   */
  versionAndPrevious(
    versionId: string,
  ): Promise<{ readonly version: ConfigVersion; readonly previous: ConfigVersion | undefined } | undefined>;
}

/** The GitHub credential (a personal token or a GitHub App's key), read when a run starts. */
export interface TokenSource {
  credential(): Promise<GitHubCredential>;
}

/**
 * A target's public key (a repository's, an environment's or an organization's, for one store), used to seal
 * secrets for it.
 */
export interface RepoPublicKey {
  readonly keyId: string;
  /** Base64 (original variant) X25519 public key, as GitHub returns it. */
  readonly key: string;
}

/** Who the GitHub token belongs to, and when it stops working. */
export interface TokenOwner {
  /** The login of the token's user (`GET /user`); for a GitHub App, the App's slug. */
  readonly login: string;
  /**
   * When GitHub says the token expires; undefined for a token without an expiry date, and for a GitHub App (its
   * installation tokens are minted anew by every run; its private key has no expiry date).
   */
  readonly expiresAt: Date | undefined;
  /** Set when the function authenticates as a GitHub App (`GET /app` with the App's JWT). */
  readonly app?: GitHubAppIdentity;
}

/** A GitHub App, as `GET /app` describes it. https://docs.github.com/en/rest/apps/apps#get-the-authenticated-app */
export interface GitHubAppIdentity {
  readonly id: number;
  /** The App's URL name (`https://github.com/apps/SLUG`). */
  readonly slug: string;
  /** The App's public page; `<htmlUrl>/installations/new` installs it. */
  readonly htmlUrl: string;
}

/** What identifies a target on GitHub beyond its name, which can change hands. */
export interface TargetIdentity {
  /**
   * GitHub's numeric ID of the repository (a repository or environment target) or of the organization (an
   * organization target): it survives renames and transfers, and a re-created one gets a new ID.
   */
  readonly id: number;
}

/**
 * Where GitHub keeps the key: repository, environment and organization secrets of Actions, Dependabot and
 * Codespaces, and Actions variables (src/domain/target.ts). Errors are GitHubAccessError with the target named.
 */
export interface SecretsTarget {
  /** Confirms the token is accepted; returns the login it belongs to and its expiry. */
  whoAmI(): Promise<TokenOwner>;
  /**
   * Throws (GitHubAccessError, target named) when anything GitHub can tell before a write says the write would
   * fail or send the key astray: the repository, environment or organization is missing or invisible, moved
   * (renamed or transferred: GitHub redirects), archived, a selected repository of an organization secret does not
   * exist, the store does not exist on this GitHub (Codespaces on GitHub Enterprise Server), or the token or its
   * user may not write there. Returns the target's identity.
   */
  checkWritable(target: Target): Promise<TargetIdentity>;
  publicKey(target: Target): Promise<RepoPublicKey>;
  /**
   * Seals `value` for the target and PUTs it; an organization secret with the target's `visibility` (and, for
   * `selected`, its repositories' IDs).
   */
  writeSecret(target: Target, publicKey: RepoPublicKey, name: string, value: SecretValue): Promise<void>;
  /** Creates or updates the Actions variable `name` at the target (not a secret: `value` is readable). */
  writeVariable(target: Target, name: string, value: string): Promise<void>;
  /** `updated_at` of the secret, or undefined when it does not exist. */
  secretUpdatedAt(target: Target, name: string): Promise<Date | undefined>;
  /** The value of the Actions variable `name` at the target, or undefined when it does not exist. */
  variableValue(target: Target, name: string): Promise<string | undefined>;
  /**
   * Resolving an organization secret's selected repositories (src/lifecycle/selected-ids.ts): page `page` (from 1)
   * of the organization's repositories, 100 a page. Left out by adapters that resolve the names themselves.
   */
  organizationRepositories?(org: string, page: number): Promise<RepositoryPage>;
  /** One selected repository's ID by name; throws GitHubAccessError naming it (missing, moved, invisible). */
  selectedRepositoryId?(target: OrganizationTarget, name: string): Promise<number>;
  /**
   * The IDs the rotation resolved for `target`'s selected repositories (in the order of its names): its writes send
   * these from now on instead of resolving the names again.
   */
  useSelectedRepositoryIds?(target: OrganizationTarget, ids: readonly number[]): void;
}

/**
 * GitHub's budget for content-creating requests (secret writes) of this run's token, shared with the
 * GitHub client that spends it (src/github/write-pacer.ts). The hourly part spans invocations: the rotation
 * saves `recent()` in its state and hands it to the next run's `remember()`.
 */
export interface WriteBudget {
  /** Adds the writes earlier runs made (from the state). */
  remember(writes: readonly Date[]): void;
  /** Writes started within the longest window (the last hour), oldest first. */
  recent(): Date[];
  /** The earliest instant at which `count` writes (one repository's secrets) may start back to back. */
  readyAt(count: number): Date;
  /** When the last of `repos` repositories would start being written, at best (`writesEach` writes each). */
  finishAt(repos: number, writesEach: number): Date;
  /** The sliding-window limit that holds writes back until `readyAt(count)`, if one does (for messages). */
  limitingWindow(count: number): { readonly limit: number; readonly label: string } | undefined;
}

/** Who holds the rotation lock, for the "another rotation is in progress" message. */
export interface LockHolder {
  readonly owner: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/**
 * A lease that keeps two rotations (a scheduled and a manual one, say) from interleaving.
 * Re-entrant for the same owner (an execution continuing over several steps renews it); a lease left by
 * a crashed run expires at `expiresAt` and may then be taken over.
 */
export interface RunLock {
  /** Takes or renews the lease; returns the other holder instead when it is someone else's and not expired. */
  acquire(owner: string, now: Date, ttlMs: number): Promise<LockHolder | undefined>;
  /** Gives the lease up if `owner` still holds it. */
  release(owner: string): Promise<void>;
}

/** The stack's alert topic: security events (a refused repository, a changed list, an expiring token). */
export interface AlertSink {
  /** Publishes one alert; `subject` is clipped to what SNS accepts. Never given a secret. */
  send(subject: string, message: string): Promise<void>;
}

/** Time, injectable so tests need no sleeps. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A repository an organization's listing returned: its name as GitHub shows it, and GitHub's ID. */
export interface FoundRepository {
  readonly name: string;
  /** GitHub's numeric repository ID (survives renames and transfers). */
  readonly id: number;
}

/** The repositories of an organization that match a selection (src/domain/selection.ts). */
export interface RepositoryMatches {
  /** The matching repositories that can take secrets, A to Z by name. */
  readonly repositories: readonly FoundRepository[];
  /** Names of the matching repositories left out because they are archived (GitHub refuses their secret writes). */
  readonly archived: readonly string[];
}

/**
 * Finds an organization's repositories by what they are rather than by name (dynamic selection): among those the
 * token can see, archived ones left out. Errors are GitHubAccessError with the organization named.
 */
export interface RepositoryFinder {
  /** Repositories with the topic `topic` (GitHub keeps topics in lowercase; so does the comparison). */
  withTopic(org: string, topic: string): Promise<RepositoryMatches>;
  /** Repositories whose custom property `property` is `value` (a multi-select property: one of its values). */
  withProperty(org: string, property: string, value: string): Promise<RepositoryMatches>;
}

/** A place GitHub keeps secrets and variables: a repository's (per store), an environment's, an organization's. */
export type SecretScope =
  | { readonly kind: "repository"; readonly repo: RepoRef; readonly store: SecretStore }
  | { readonly kind: "environment"; readonly repo: RepoRef; readonly environment: string }
  | { readonly kind: "organization"; readonly owner: string; readonly store: SecretStore };

/** What reading the inventory has cost so far, and what GitHub's primary rate limit has left. */
export interface InventoryUsage {
  /** Requests sent (every page of a listing counts). */
  readonly requests: number;
  /** `x-ratelimit-remaining` of the latest answer; undefined before the first (or when GitHub sent none). */
  readonly remaining: number | undefined;
  /** `x-ratelimit-reset` of the latest answer: when the primary rate limit's window starts over. */
  readonly resetAt: Date | undefined;
}

/**
 * What GitHub holds besides what the rotation writes, read-only: the shadowing check (src/lifecycle/shadowing.ts)
 * looks for copies of the key's secret names at more specific scopes, and for the jobs that would read them.
 * Names only, never values (GitHub's API never returns a secret's value). Errors are GitHubAccessError.
 */
/** The repositories an organization secret reaches, as far as the credential shows them. */
export interface OrganizationRepositories {
  readonly repos: readonly RepoRef[];
  /** Undefined: the credential lists every repository of the organization (or the secret's selected ones). */
  readonly unseen?: UnseenRepositories;
}

/** Why the shadowing check may not see every repository an organization secret reaches. */
export interface UnseenRepositories {
  /**
   * `true`: GitHub says repositories were left out (an App installed on selected repositories, or fewer listed
   * than the organization counts); `false`: the check cannot tell (GitHub shows no count to this credential).
   */
  readonly certain: boolean;
  /** How many repositories the secret reaches, by GitHub's count for the organization, when GitHub gave one. */
  readonly total?: number;
  /** Why (a sentence naming the organization). */
  readonly reason: string;
  /** What lets the check see every one. */
  readonly fix: string;
}

export interface SecretInventory {
  /** The repository's Actions environments, by name as GitHub shows them. */
  environments(repo: RepoRef): Promise<readonly string[]>;
  /** The names of the secrets (or configuration variables: Actions only) at a scope. */
  names(scope: SecretScope, kind: "secret" | "variable"): Promise<readonly string[]>;
  /**
   * The repositories that see an organization secret of `target`'s visibility: the selected ones, or the
   * organization's repositories (`all`), or those that are not public (`private`) — as far as the credential can
   * list them; `unseen` says when it may not list every one.
   */
  repositoriesSeeing(target: OrganizationTarget): Promise<OrganizationRepositories>;
  /** Every workflow file in the repository's `.github/workflows` (`*.yml`, `*.yaml`) on its default branch. */
  workflows(repo: RepoRef): Promise<readonly WorkflowFile[]>;
  /** One workflow file of a repository at `ref` (default branch when undefined); undefined when it cannot be read. */
  workflow(repo: RepoRef, path: string, ref: string | undefined): Promise<WorkflowFile | undefined>;
  usage(): InventoryUsage;
}
