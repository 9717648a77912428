import type { OwnerAllowList } from "../config/owner-allow-list.ts";
import { parseReposConfig, type ReposConfig } from "../config/repos-config.ts";
import { countOf, targetNoun } from "../domain/name-targets.ts";
import { type Target, targetKey, targetLabel } from "../domain/target.ts";
import { AkmError, ConfigError, GitHubRateLimitError, toAkmError } from "../errors.ts";
import type {
  Clock,
  ConfigStore,
  RepoPublicKey,
  SecretsTarget,
  TargetIdentity,
  TargetList,
  TokenOwner,
} from "../ports.ts";

export interface PreflightResult {
  /** Where the list says the key goes, in list order. */
  readonly targets: readonly Target[];
  /** Public keys read, by targetKey. */
  readonly publicKeys: ReadonlyMap<string, RepoPublicKey>;
  /** Who the token belongs to and when it expires. */
  readonly token: TokenOwner;
  /** GitHub's identity of each target checked, by targetKey. */
  readonly identities: ReadonlyMap<string, TargetIdentity>;
  /** targetKeys of the targets that passed every check in this call. */
  readonly checked: readonly string[];
  /**
   * Targets left unchecked because the deadline came first or GitHub's primary rate limit ran out (checked by the
   * next invocation).
   */
  readonly unchecked: number;
  /** Set when GitHub's primary rate limit stopped the checks: no request to GitHub before this instant. */
  readonly rateLimitedUntil: Date | undefined;
}

export interface PreflightOptions {
  /** Narrows the per-target checks (a resumed rotation's key exists already: it checks none). */
  readonly toCheck?: (targets: readonly Target[]) => readonly Target[];
  /** targetKeys that passed in an earlier invocation of this round: not checked again. */
  readonly alreadyChecked?: ReadonlySet<string>;
  /** No check but the first starts after this instant; what is left is counted in `unchecked`. */
  readonly deadline?: Date;
  readonly clock?: Clock;
}

export interface TargetFailure {
  readonly target: Target;
  readonly error: AkmError;
}

/** Preflight found problems with individual targets (each named, with its fix). */
export class PreflightError extends AkmError {
  readonly failures: readonly TargetFailure[];
  /** targetKeys of the targets that passed in the same call (kept, so a rerun checks only the rest). */
  readonly checked: readonly string[];

  constructor(failures: readonly TargetFailure[], checked: readonly string[] = []) {
    const noun = targetNoun(failures.map((f) => f.target));
    super(
      `GitHub preflight failed for ${countOf(failures.length, noun)}: ${failures
        .map((f) => targetLabel(f.target))
        .join(", ")}. Nothing was changed.`,
      {
        fix: `Fix each ${noun.one} listed below (or remove it from repos.json), then run Rotate again.`,
        fault: failures.every((f) => f.error.fault === "transient") ? "transient" : "user",
      },
    );
    this.name = "PreflightError";
    this.failures = failures;
    this.checked = checked;
  }
}

/**
 * Reads and validates repos.json; a missing or invalid list stops the run before any change. With
 * `allowedOwners`, a repository of an owner it does not list does too (see `parseReposConfig`).
 */
export async function loadReposConfig(
  store: ConfigStore,
  allowedOwners?: OwnerAllowList,
): Promise<{ config: ReposConfig; version: string | undefined }> {
  const document = await store.read();
  if (!document) {
    throw new ConfigError(
      store.location,
      ["the object does not exist"],
      `Upload repos.json to ${store.location} (format: {"Repos":[{"Owner":"my-org","Name":"my-repo"}]}) or run the Add-RepoConfig runbook.`,
    );
  }
  return {
    config: parseReposConfig(document.text, store.location, allowedOwners),
    version: document.version,
  };
}

/**
 * R5: everything that can be checked without touching IAM is checked first — the list (only owners
 * pAllowedGitHubOwners lists), the token, and for every target whatever would make its write
 * fail or send the key astray (missing, moved, archived, a missing environment or selected repository, no right to
 * write there: `SecretsTarget.checkWritable`) and its public key (one fetch per target, reused for the writes), so no
 * key is created for a rotation that cannot finish. `toCheck` narrows the per-target checks (a resumed rotation's
 * key exists already; it fetches each key when it writes the target). A long list is checked over several calls: a
 * call stops starting checks at `deadline`, or when GitHub's primary rate limit is used up (`rateLimitedUntil`: its
 * reset); what is left is counted in `unchecked`. GitHub's rate limit on `GET /user` throws GitHubRateLimitError.
 */
export async function preflight(
  list: TargetList,
  github: SecretsTarget,
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const { targets } = await list.load({ ownersChecked: true });
  const token = await github.whoAmI();
  const publicKeys = new Map<string, RepoPublicKey>();
  const identities = new Map<string, TargetIdentity>();
  const failures: TargetFailure[] = [];
  const checked: string[] = [];
  let unchecked = 0;
  const already = options.alreadyChecked ?? new Set<string>();
  const todo = (options.toCheck ?? ((all) => all))(targets).filter(
    (target) => !already.has(targetKey(target)),
  );
  const { deadline, clock } = options;
  let started = 0;
  /** GitHub's primary rate limit reset, once a check ran into it. */
  const limit: { resetAt?: Date } = {};
  // Reads are cheap but GitHub asks for no needless concurrency; the client's throttle bounds it further.
  await forEachLimited(todo, 4, async (target) => {
    // The first check always starts, so every invocation makes progress however late it starts. Once GitHub's
    // primary rate limit is used up, no check starts: GitHub asks for no request before it resets.
    const late = started > 0 && deadline && clock && clock.now().getTime() >= deadline.getTime();
    if (late || limit.resetAt) {
      unchecked++;
      return;
    }
    started++;
    const key = targetKey(target);
    try {
      identities.set(key, await github.checkWritable(target));
      publicKeys.set(key, await github.publicKey(target));
      checked.push(key);
    } catch (error) {
      if (error instanceof GitHubRateLimitError) {
        // Not this target's fault: it is checked again after the reset.
        identities.delete(key);
        limit.resetAt = later(limit.resetAt, error.resetAt);
        unchecked++;
        return;
      }
      failures.push({ target, error: toAkmError(error, `Checking ${targetLabel(target)} on GitHub`) });
    }
  });
  if (failures.length > 0) {
    const order = new Map(targets.map((target, index) => [targetKey(target), index]));
    failures.sort((a, b) => (order.get(targetKey(a.target)) ?? 0) - (order.get(targetKey(b.target)) ?? 0));
    throw new PreflightError(failures, checked);
  }
  return { targets, publicKeys, token, identities, checked, unchecked, rateLimitedUntil: limit.resetAt };
}

function later(a: Date | undefined, b: Date): Date {
  return a !== undefined && a.getTime() > b.getTime() ? a : b;
}

/** Runs `task` over `items` with at most `limit` in flight (never an unbounded Promise.all). */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(workers);
}
