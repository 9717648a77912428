import { quote } from "../config/message-text.ts";
import type { AccessKeyPair } from "../domain/access-key.ts";
import { SecretValue } from "../domain/secret-value.ts";
import { type Target, targetKey, targetLabel } from "../domain/target.ts";
import { GitHubAccessError, GitHubRateLimitError, toAkmError } from "../errors.ts";
import type { RepoPublicKey } from "../ports.ts";
import { targetsLacking } from "./holders.ts";
import { MismatchedPairError } from "./mismatched-pair-error.ts";
import type { BudgetWindow, OutcomeRecorder } from "./outcome.ts";
import { identityChange } from "./repo-identity.ts";
import type { RotationDeps, RotationRun } from "./rotation-context.ts";
import type { Holding, RepoSeen, RotationState, WritingBatch } from "./state.ts";
import { keyIdLabel, type TargetWrites, targetWrites } from "./target-writes.ts";

/** GitHub's clock and ours may differ; an `updated_at` this much older than our write still counts. */
const CLOCK_SKEW_MS = 120_000;
/**
 * After a crash, a secret counts as written by the interrupted batch only if GitHub's `updated_at` is at least
 * this much later than the batch's saved start: a write of another key made just before the batch must not
 * pass for one of the batch when GitHub's clock runs a little ahead of ours. (A repository written within
 * this margin of the batch's start is simply written again, with the same value.)
 */
const RESUME_MARGIN_MS = 1_000;
/** Secrets Manager keeps a bounded number of secret versions, so holdings are saved in batches. */
const DEFAULT_SAVE_EVERY = 25;
/** Each target gets two writes (the secret key, then the key ID as a secret or a variable), back to back. */
export const WRITES_PER_REPO = 2;
/**
 * A key ID write that failed (after the GitHub client's own retries) is tried once more, this long after the
 * failure, before the step ends: until it is written, the target holds the new secret key with the old key ID
 * and its workflows cannot authenticate.
 */
const KEY_ID_RETRY_AFTER_MS = 10_000;

export interface SyncOutcome {
  readonly state: RotationState;
  /** Targets not updated, the mismatched ones included. */
  readonly failed: number;
  /** Targets left holding the new secret key with the old key ID (a subset of `failed`). */
  readonly mismatched: number;
  readonly remaining: number;
  /** Targets attempted (written or failed) by this call. */
  readonly attempted: number;
  /**
   * Set when GitHub's write budget or its primary rate limit, not the step's time, stopped the sync: when it can
   * continue.
   */
  readonly resumeAt: Date | undefined;
  /** Which of the two stopped it, for the progress line ("GitHub's write budget is used up"). */
  readonly resumeReason: string | undefined;
  /** The GitHub limit that holds writes back until `resumeAt`. */
  readonly budgetWindow: BudgetWindow | undefined;
  /** When the remaining targets would all be written, at best. */
  readonly eta: Date | undefined;
}

/**
 * Writes `key` to every listed target that is not yet verified to hold it — repository, environment and
 * organization secrets alike, each with its own names (src/lifecycle/target-writes.ts) — one target at a time, its
 * two values back to back (the secret key first, then the key ID as a secret or an Actions variable), then checks
 * them: each secret's `updated_at`, a variable's value read back. Writes are paced by GitHub's write budget
 * (`deps.writeBudget`, also enforced inside the GitHub client): a target is started only when both its writes can
 * go before `deadline`; when the budget (e.g. 500 writes an hour) holds writes back beyond it, the sync stops and
 * says when to resume.
 *
 * A failure is recorded for that target and the others continue. Holdings and the write log are saved in batches;
 * each save also names the targets the next batch may write, so a run that resumes after a crash checks those
 * targets (`updated_at`, a variable's value) instead of writing them again.
 */
export async function syncKey(run: RotationRun, key: AccessKeyPair): Promise<SyncOutcome> {
  const { deps, targets, publicKeys, deadline, outcome: report } = run;
  const { settings, writeBudget: budget } = deps;
  const saveEvery = settings.saveEvery ?? DEFAULT_SAVE_EVERY;
  const fresh: Record<string, Holding> = {};
  /** IDs of targets first seen by this sync (a resumed rotation checks each target as it writes it). */
  const freshIds: Record<string, RepoSeen> = {};
  let failed = 0;
  let mismatched = 0;
  const persist = async (writing: WritingBatch | undefined): Promise<void> => {
    await run.save({
      ...run.state,
      ...(Object.keys(freshIds).length === 0 ? {} : { repoIds: { ...run.state.repoIds, ...freshIds } }),
      holdings: { ...run.state.holdings, ...fresh },
      githubWrites: budget ? writeLog(budget.recent()) : (run.state.githubWrites ?? []),
      writing,
    });
  };

  for (const target of targets) {
    if (!targetsLacking(key.accessKeyId, [target], run.state.holdings).length) {
      report.repo({
        repo: targetLabel(target),
        result: "already-current",
        detail: `holds ${key.accessKeyId}`,
      });
    }
  }
  let todo = targetsLacking(key.accessKeyId, targets, run.state.holdings);
  let dirty = false;
  const writing = run.state.writing;
  if (writing) {
    if (writing.accessKeyId === key.accessKeyId) {
      const recovered = await recoverBatch(deps, writing, todo, report);
      Object.assign(fresh, recovered);
      todo = todo.filter((target) => !(targetKey(target) in recovered));
    }
    dirty = true;
  }

  const written = (target: Target, detail: string): void => {
    fresh[targetKey(target)] = { accessKeyId: key.accessKeyId, writtenAt: deps.clock.now().toISOString() };
    report.repo({ repo: targetLabel(target), result: "written", detail });
    deps.log(`wrote ${key.accessKeyId} to ${targetLabel(target)}`);
  };
  /** Targets whose key ID write failed after their secret key was written, to try once more. */
  const retries: { target: Target; publicKey: RepoPublicKey; startedAt: Date; failedAt: number }[] = [];
  /** The target left mismatched when GitHub's primary rate limit stopped the sync: written after the reset. */
  const remainingMismatched: Target[] = [];

  let index = 0;
  let resumeAt: Date | undefined;
  let resumeReason: string | undefined;
  let batchLeft = 0;
  for (; index < todo.length; index++) {
    const target = todo[index] as Target;
    // The first target is always started (the deadline keeps a minute of the step in hand), so every
    // invocation makes progress however late it gets here: the runbook's loop never spins in place.
    const first = index === 0;
    if (!first && deps.clock.now().getTime() >= deadline.getTime()) break;
    if (budget) {
      const ready = budget.readyAt(WRITES_PER_REPO);
      if (ready.getTime() > deadline.getTime()) {
        // Held back past the step's end by a minute or hour limit: the runbook waits for it. By the mere
        // pace (a second or two), it is just the end of the step — except for the first target.
        const window = budget.limitingWindow(WRITES_PER_REPO);
        if (window) {
          resumeAt = ready;
          resumeReason = WRITE_BUDGET_USED_UP;
        }
        if (window || !first) break;
      }
    }
    if (batchLeft === 0) {
      // Saves what is done so far and names what this batch may write before the next save.
      const batch = todo.slice(index, index + saveEvery).map(targetKey);
      await persist({ accessKeyId: key.accessKeyId, since: deps.clock.now().toISOString(), repos: batch });
      batchLeft = batch.length;
      dirty = true;
    }
    batchLeft--;
    const label = targetLabel(target);
    const slot = targetKey(target);
    let publicKey: RepoPublicKey | undefined;
    let startedAt = deps.clock.now();
    try {
      const preloaded = publicKeys.get(slot);
      if (preloaded === undefined && !run.checked.has(slot)) {
        // Not checked by this rotation's preflight (a resumed rotation): the same checks before the write,
        // GitHub's ID included, so a moved, archived or re-created repository (or organization) never gets the key.
        const identity = await deps.github.checkWritable(target);
        const replaced = identityChange(target, identity, { ...run.state.repoIds, ...freshIds });
        if (replaced !== undefined) {
          report.alert(replaced.alert);
          throw replaced;
        }
        freshIds[slot] ??= {
          id: identity.id,
          seenAt: `${deps.clock.now().toISOString().slice(0, 19)}Z`,
        };
      }
      publicKey = preloaded ?? (await deps.github.publicKey(target));
      if (budget) {
        // Both secrets go back to back, so their values disagree for one round trip only.
        const wait = budget.readyAt(WRITES_PER_REPO).getTime() - deps.clock.now().getTime();
        if (wait > 0) await deps.clock.sleep(wait);
      }
      startedAt = deps.clock.now();
      const writes = targetWrites(target, settings);
      await writePair(deps, target, writes, publicKey, key, startedAt);
      await confirmWritten(deps, target, writes, key.accessKeyId, startedAt);
      written(target, `now holds ${key.accessKeyId} (${verifiedBy(writes)})`);
    } catch (error) {
      const limit = primaryRateLimit(error);
      if (limit) {
        // GitHub's primary rate limit, not this target: stop until its reset, when the runbook invokes the
        // function again and this target is written again whole (it is not recorded as holding the key).
        resumeAt = limit.resetAt;
        resumeReason = RATE_LIMIT_USED_UP;
        if (error instanceof MismatchedPairError) {
          const writes = targetWrites(target, settings);
          report.repo({
            repo: label,
            result: "mismatched",
            detail: `its ${writes.names.secretKey} is new but GitHub's primary rate limit stopped the write of ${keyIdLabel(writes)}; both are written again when the limit resets at ${limit.resetAt.toISOString()}`,
          });
          index++;
          remainingMismatched.push(target);
        }
        deps.log(
          `GitHub's primary rate limit is used up at ${label}; continuing after ${limit.resetAt.toISOString()}`,
        );
        break;
      }
      failed++;
      const akm = toAkmError(error, `Writing the secrets of ${label}`);
      const pair = error instanceof MismatchedPairError;
      if (pair) {
        mismatched++;
        if (akm.fault !== "user" && publicKey) {
          retries.push({ target, publicKey, startedAt, failedAt: deps.clock.now().getTime() });
        }
      }
      report.repo({ repo: label, result: pair ? "mismatched" : "failed", detail: akm.describe() });
      deps.log(`${pair ? "left mismatched" : "failed to write"} ${label}: ${akm.message}`);
    }
  }
  for (const retry of retries) {
    const label = targetLabel(retry.target);
    const writes = targetWrites(retry.target, settings);
    const at = Math.max(retry.failedAt + KEY_ID_RETRY_AFTER_MS, deps.clock.now().getTime());
    if (at >= deadline.getTime()) {
      deps.log(`no time left in this step to write ${keyIdLabel(writes)} of ${label} again`);
      continue;
    }
    await deps.clock.sleep(at - deps.clock.now().getTime());
    try {
      await writeKeyId(deps, retry.target, writes, retry.publicKey, key.accessKeyId);
      await confirmWritten(deps, retry.target, writes, key.accessKeyId, retry.startedAt);
      failed--;
      mismatched--;
      written(
        retry.target,
        `now holds ${key.accessKeyId} (its key ID written again after a failure; ${verifiedBy(writes)})`,
      );
    } catch (error) {
      const akm = toAkmError(error, `Writing ${keyIdLabel(writes)} of ${label}`);
      const pair = new MismatchedPairError(label, writes, key.accessKeyId, 2, akm);
      report.repo({ repo: label, result: "mismatched", detail: pair.describe() });
      deps.log(`left mismatched ${label}: ${pair.message}`);
    }
  }
  if (dirty) await persist(undefined);
  const remaining = todo.length - index + remainingMismatched.length;
  for (const target of todo.slice(index)) {
    report.repo({
      repo: targetLabel(target),
      result: "skipped",
      detail: resumeAt
        ? `waits: ${resumeReason}; continues at ${resumeAt.toISOString()}`
        : "not reached in this step; continues next",
    });
  }
  return {
    state: run.state,
    failed,
    mismatched,
    remaining,
    attempted: index,
    resumeAt,
    resumeReason,
    budgetWindow: resumeReason === WRITE_BUDGET_USED_UP ? budget?.limitingWindow(WRITES_PER_REPO) : undefined,
    eta: budget && remaining > 0 ? budget.finishAt(remaining, WRITES_PER_REPO) : undefined,
  };
}

/**
 * Writes the secret key, then the key ID (a secret, or an Actions variable). A secret key write that failed on the
 * way back but took effect, as GitHub's `updated_at` shows, is followed by the key ID all the same, to complete the
 * pair. Throws MismatchedPairError when the key ID write fails after the secret key was written (syncKey tries it
 * once more before the step ends).
 */
async function writePair(
  deps: RotationDeps,
  target: Target,
  writes: TargetWrites,
  publicKey: RepoPublicKey,
  key: AccessKeyPair,
  startedAt: Date,
): Promise<void> {
  const { secretKey } = writes.names;
  try {
    await deps.github.writeSecret(target, publicKey, secretKey, key.secretAccessKey);
  } catch (error) {
    if (!(await writtenSince(deps, target, secretKey, startedAt))) throw error;
    deps.log(`${secretKey} of ${targetLabel(target)} was written although its answer failed`);
  }
  try {
    await writeKeyId(deps, target, writes, publicKey, key.accessKeyId);
  } catch (error) {
    const akm = toAkmError(error, `Writing ${keyIdLabel(writes)} of ${targetLabel(target)}`);
    throw new MismatchedPairError(targetLabel(target), writes, key.accessKeyId, 1, akm);
  }
}

/** Writes the key ID where the target keeps it: a secret (sealed like the secret key) or an Actions variable. */
async function writeKeyId(
  deps: RotationDeps,
  target: Target,
  writes: TargetWrites,
  publicKey: RepoPublicKey,
  accessKeyId: string,
): Promise<void> {
  if (writes.keyIdAsVariable) {
    await deps.github.writeVariable(target, writes.names.keyId, accessKeyId);
  } else {
    await deps.github.writeSecret(target, publicKey, writes.names.keyId, new SecretValue(accessKeyId, false));
  }
}

/** True when GitHub reports `name` updated after `startedAt` (see RESUME_MARGIN_MS); false when unsure. */
async function writtenSince(
  deps: RotationDeps,
  target: Target,
  name: string,
  startedAt: Date,
): Promise<boolean> {
  try {
    const updatedAt = await deps.github.secretUpdatedAt(target, name);
    return updatedAt !== undefined && updatedAt.getTime() >= startedAt.getTime() + RESUME_MARGIN_MS;
  } catch {
    return false;
  }
}

const WRITE_BUDGET_USED_UP = "GitHub's write budget is used up";
/** Why a run waits when GitHub's primary rate limit stopped it (the progress line's words). */
export const RATE_LIMIT_USED_UP = "GitHub's primary rate limit is used up";

/** GitHub's primary rate limit behind a failure (itself, or the key ID write of a pair), else undefined. */
function primaryRateLimit(error: unknown): GitHubRateLimitError | undefined {
  if (error instanceof GitHubRateLimitError) return error;
  const cause = error instanceof MismatchedPairError ? error.cause : undefined;
  return cause instanceof GitHubRateLimitError ? cause : undefined;
}

/** How a target's write was verified, for its line in the summary. */
function verifiedBy(writes: TargetWrites): string {
  return writes.keyIdAsVariable ? "updated_at and the variable's value verified" : "updated_at verified";
}

/** The write log as the state keeps it: epoch seconds, rounded up (a later time is the safe side). */
function writeLog(writes: readonly Date[]): number[] {
  return writes.map((at) => Math.ceil(at.getTime() / 1000));
}

/** The state's write log as times, for `WriteBudget.remember`. */
export function writeTimes(state: RotationState): Date[] {
  return (state.githubWrites ?? []).map((seconds) => new Date(seconds * 1000));
}

/**
 * The run that saved `batch` died before saving what it wrote. A target of the batch that GitHub shows written
 * after the batch started (both secrets' `updated_at`; a key ID variable's value instead of its time) was written
 * by it: record it instead of writing again (one GET per value, only for these targets). Anything unclear is left
 * to be written.
 */
async function recoverBatch(
  deps: RotationDeps,
  batch: WritingBatch,
  todo: readonly Target[],
  report: OutcomeRecorder,
): Promise<Record<string, Holding>> {
  const recovered: Record<string, Holding> = {};
  const inBatch = new Set(batch.repos);
  const after = Date.parse(batch.since) + RESUME_MARGIN_MS;
  for (const target of todo) {
    if (!inBatch.has(targetKey(target))) continue;
    const label = targetLabel(target);
    try {
      const writes = targetWrites(target, deps.settings);
      const secrets = writes.keyIdAsVariable
        ? [writes.names.secretKey]
        : [writes.names.secretKey, writes.names.keyId];
      const updated = await Promise.all(secrets.map((name) => deps.github.secretUpdatedAt(target, name)));
      const times = updated.map((at) => at?.getTime() ?? Number.NEGATIVE_INFINITY);
      if (!times.every((at) => at >= after)) continue;
      if (
        writes.keyIdAsVariable &&
        (await deps.github.variableValue(target, writes.names.keyId)) !== batch.accessKeyId
      ) {
        continue;
      }
      const writtenAt = new Date(Math.max(...times)).toISOString();
      recovered[targetKey(target)] = { accessKeyId: batch.accessKeyId, writtenAt };
      report.repo({
        repo: label,
        result: "already-current",
        detail: `holds ${batch.accessKeyId}: written by an interrupted run (updated_at ${writtenAt}), not written again`,
      });
      deps.log(`found ${batch.accessKeyId} already written to ${label} by an interrupted run`);
    } catch (error) {
      deps.log(
        `could not check ${label} after an interrupted run; writing it again: ${toAkmError(error, "Checking").message}`,
      );
    }
  }
  return recovered;
}

/**
 * Confirms what GitHub holds after a write: each secret's `updated_at` is not older than the write (allowing for
 * clock skew) and a key ID variable reads back as `accessKeyId`. Throws a transient GitHubAccessError otherwise.
 */
async function confirmWritten(
  deps: RotationDeps,
  target: Target,
  writes: TargetWrites,
  accessKeyId: string,
  writtenAfter: Date,
): Promise<void> {
  const label = targetLabel(target);
  const secrets = writes.keyIdAsVariable
    ? [writes.names.secretKey]
    : [writes.names.secretKey, writes.names.keyId];
  for (const name of secrets) {
    const updatedAt = await deps.github.secretUpdatedAt(target, name);
    if (!updatedAt || updatedAt.getTime() < writtenAfter.getTime() - CLOCK_SKEW_MS) {
      throw new GitHubAccessError(
        `GitHub accepted secret ${name} for ${label} but reports it ${updatedAt ? `last updated at ${updatedAt.toISOString()}` : "missing"}.`,
        {
          repo: label,
          fix: "Run Rotate again; if this repeats, check whether another tool overwrites or deletes this secret.",
          fault: "transient",
        },
      );
    }
  }
  if (!writes.keyIdAsVariable) return;
  const value = await deps.github.variableValue(target, writes.names.keyId);
  if (value !== accessKeyId) {
    throw new GitHubAccessError(
      `GitHub accepted variable ${writes.names.keyId} for ${label} but reads it back as ${value === undefined ? "missing" : quote(value)}, not ${accessKeyId}.`,
      {
        repo: label,
        fix: "Run Rotate again; if this repeats, check whether another tool overwrites or deletes this variable.",
        fault: "transient",
      },
    );
  }
}
