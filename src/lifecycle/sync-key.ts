import type { AccessKeyPair } from "../domain/access-key.ts";
import type { RepoRef } from "../domain/repo.ts";
import { repoLabel, repoSlug } from "../domain/repo.ts";
import { SecretValue } from "../domain/secret-value.ts";
import { GitHubAccessError, toAkmError } from "../errors.ts";
import type { RepoPublicKey } from "../ports.ts";
import { reposLacking } from "./holders.ts";
import type { RotationDeps } from "./rotation-context.ts";
import type { RunReport } from "./run-report.ts";
import type { Holding, RotationState } from "./state.ts";

/** GitHub's clock and ours may differ; an `updated_at` this much older than our write still counts. */
const CLOCK_SKEW_MS = 120_000;
/** Secrets Manager keeps a bounded number of secret versions, so holdings are saved in batches. */
const DEFAULT_SAVE_EVERY = 25;

export interface SyncOutcome {
  readonly state: RotationState;
  readonly failed: number;
  readonly remaining: number;
  /** Repositories attempted (written or failed) by this call. */
  readonly attempted: number;
}

/**
 * Writes `key` to every listed repository that is not yet verified to hold it, one repository at a time
 * (GitHub asks integrators to avoid concurrent writes; the client paces them). Each repository gets the
 * secret key first and the key ID second, then both `updated_at` values are checked. A failure is recorded
 * for that repository and the others continue; holdings are saved so a later run resumes where this stopped.
 */
export async function syncKey(
  deps: RotationDeps,
  initial: RotationState,
  key: AccessKeyPair,
  repos: readonly RepoRef[],
  publicKeys: ReadonlyMap<string, RepoPublicKey>,
  deadline: Date | undefined,
  report: RunReport,
  save: (state: RotationState) => Promise<RotationState>,
): Promise<SyncOutcome> {
  const { settings } = deps;
  const saveEvery = settings.saveEvery ?? DEFAULT_SAVE_EVERY;
  let state = initial;
  const fresh: Record<string, Holding> = {};
  let unsaved = 0;
  let failed = 0;
  const flush = async (): Promise<void> => {
    if (unsaved === 0) return;
    state = await save({ ...state, holdings: { ...state.holdings, ...fresh } });
    unsaved = 0;
  };

  for (const repo of repos) {
    if (!reposLacking(key.accessKeyId, [repo], state.holdings).length) {
      report.repo({ repo: repoLabel(repo), result: "already-current", detail: `holds ${key.accessKeyId}` });
    }
  }
  const todo = reposLacking(key.accessKeyId, repos, state.holdings);
  let index = 0;
  for (; index < todo.length; index++) {
    const repo = todo[index] as RepoRef;
    if (deadline && deps.clock.now().getTime() >= deadline.getTime()) break;
    const label = repoLabel(repo);
    try {
      const publicKey = publicKeys.get(repoSlug(repo)) ?? (await deps.github.publicKey(repo));
      const startedAt = deps.clock.now();
      await deps.github.writeSecret(repo, publicKey, settings.secretNameSecretKey, key.secretAccessKey);
      await deps.github.writeSecret(
        repo,
        publicKey,
        settings.secretNameKeyId,
        new SecretValue(key.accessKeyId, false),
      );
      await confirmUpdated(deps, repo, [settings.secretNameSecretKey, settings.secretNameKeyId], startedAt);
      fresh[repoSlug(repo)] = { accessKeyId: key.accessKeyId, writtenAt: deps.clock.now().toISOString() };
      unsaved++;
      report.repo({
        repo: label,
        result: "written",
        detail: `now holds ${key.accessKeyId} (updated_at verified)`,
      });
      deps.log(`wrote ${key.accessKeyId} to ${label}`);
    } catch (error) {
      failed++;
      const akm = toAkmError(error, `Writing the secrets of ${label}`);
      report.repo({ repo: label, result: "failed", detail: akm.describe() });
      deps.log(`failed to write ${label}: ${akm.message}`);
    }
    if (unsaved >= saveEvery) await flush();
  }
  await flush();
  const remaining = todo.length - index;
  for (const repo of todo.slice(index)) {
    report.repo({
      repo: repoLabel(repo),
      result: "skipped",
      detail: "not reached in this step; continues next",
    });
  }
  report.reposRemaining = remaining;
  return { state, failed, remaining, attempted: index };
}

async function confirmUpdated(
  deps: RotationDeps,
  repo: RepoRef,
  names: readonly string[],
  writtenAfter: Date,
): Promise<void> {
  for (const name of names) {
    const updatedAt = await deps.github.secretUpdatedAt(repo, name);
    if (!updatedAt || updatedAt.getTime() < writtenAfter.getTime() - CLOCK_SKEW_MS) {
      throw new GitHubAccessError(
        `GitHub accepted secret ${name} for ${repoLabel(repo)} but reports it ${updatedAt ? `last updated at ${updatedAt.toISOString()}` : "missing"}.`,
        {
          repo: repoLabel(repo),
          fix: "Run Rotate again; if this repeats, check whether another tool overwrites or deletes this secret.",
          fault: "transient",
        },
      );
    }
  }
}
