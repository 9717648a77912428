import { nameRepos, repoLabel, repoSlug } from "../domain/repo.ts";
import { toAkmError } from "../errors.ts";
import { githubApiNote } from "./github-api-note.ts";
import { reposLacking } from "./holders.ts";
import { OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import { loadReposConfig } from "./preflight.ts";
import type { RotationDeps } from "./rotation-context.ts";

export interface RotationResultOptions {
  /** The Automation execution ID (the lease owner of its Rotate steps). */
  readonly owner: string;
  readonly dryRun: boolean;
}

/**
 * After the Rotate loop: reads what the rotation reached and tells the runbook what comes next, without
 * changing IAM or GitHub. The runbook cannot read the loop's inner outputs after the loop (the aws:loop page,
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html, documents none),
 * so this step asks the state instead:
 * - `continues`: a key is still being written, or a long list is still being checked before the key is created
 *   (the loop's 100 iterations ran out first); the lease is given up so that the next execution — the
 *   schedule's, or a manual one — resumes it;
 * - `retire`: a previous key waits for its grace period (`retireAfter`), then the Retire step;
 * - `done`: nothing left to do.
 * A dry run answers `retire` with the current time, so the dry run passes through the wait and the Retire
 * step too (both change nothing), and a deployment's first dry run exercises every step.
 */
export async function rotationResult(
  deps: RotationDeps,
  options: RotationResultOptions,
): Promise<RunOutcome> {
  const outcome = new OutcomeRecorder("rotate-result", options.dryRun);
  outcome.note(githubApiNote(deps.settings.githubApiUrl));
  try {
    const state = await deps.state.load();
    outcome.newAccessKeyId = state?.pending?.accessKeyId ?? state?.current?.accessKeyId;
    outcome.oldAccessKeyId = state?.pending ? state.current?.accessKeyId : state?.previous?.accessKeyId;
    if (options.dryRun) {
      outcome.next = "retire";
      outcome.retireAfter = deps.clock.now();
      return outcome.finish(
        "Succeeded",
        "Dry run: nothing was changed. The plan is in the Rotate step's output; the dry run goes on through the grace-period wait (no wait) and a Retire that changes nothing.",
      );
    }
    const { config } = await loadReposConfig(deps.config);
    const previous = state?.previous;
    const release = async (): Promise<void> => {
      try {
        await deps.lock.release(options.owner);
      } catch (error) {
        deps.log(`could not release the rotation lock: ${toAkmError(error, "Unlocking").message}`);
      }
    };
    // A preflight round is saved (`checked`) only until the key is created, so with no key pending it means the
    // loop ran out while a long list was still being checked (unless the last rotation's old key is still in its
    // grace period: then no new key could be created anyway, and the old one is retired first). No key at all
    // after the loop means the same: a rotation that finished has one.
    const checking = !state?.pending && (state?.checked !== undefined || state?.current === undefined);
    const inGrace = previous !== undefined && deps.clock.now().getTime() < Date.parse(previous.retireAfter);
    if (checking && !inGrace) {
      const passed = new Set(state?.checked?.repos);
      const unchecked = config.repos.filter((repo) => !passed.has(repoSlug(repo)));
      outcome.next = "continues";
      outcome.reposRemaining = unchecked.length;
      await release();
      return outcome.finish(
        "Succeeded",
        `Rotation continues at the next run: ${config.repos.length - unchecked.length} of ${config.repos.length} listed repositories checked on GitHub so far, and no key is created before every one is. This execution used its 100 loop iterations; the next execution (the schedule's, or run Rotate now) resumes the checks where they stopped. Nothing was changed in IAM or GitHub.`,
      );
    }
    const target = state?.pending ?? state?.current;
    const lacking = target ? reposLacking(target.accessKeyId, config.repos, state?.holdings ?? {}) : [];
    const missing = new Set(lacking);
    for (const repo of config.repos) {
      outcome.repo(
        missing.has(repo)
          ? { repo: repoLabel(repo), result: "skipped", detail: "does not hold the new key yet" }
          : { repo: repoLabel(repo), result: "already-current", detail: `holds ${target?.accessKeyId}` },
      );
    }
    if (state?.pending || (state?.current?.secretAccessKey && lacking.length > 0)) {
      outcome.next = "continues";
      outcome.reposRemaining = lacking.length;
      await release();
      return outcome.finish(
        "Succeeded",
        `Rotation continues at the next run: ${lacking.length} of ${config.repos.length} listed repositories do not hold key ${target?.accessKeyId} yet (${nameRepos(lacking)}). This execution used its 100 loop iterations; the next execution (the schedule's, or run Rotate now) resumes where it stopped. The old key stays active until every repository holds the new one.`,
      );
    }
    if (previous) {
      outcome.next = "retire";
      outcome.retireAfter = new Date(previous.retireAfter);
      return outcome.finish(
        "Succeeded",
        `Rotation Succeeded: every listed repository (${config.repos.length}) holds key ${state?.current?.accessKeyId}. The old key ${previous.accessKeyId} is deactivated after ${previous.retireAfter}.`,
      );
    }
    return outcome.finish(
      "Succeeded",
      `Rotation Succeeded: every listed repository (${config.repos.length}) holds key ${state?.current?.accessKeyId ?? "(none)"}; there is no old key to retire.`,
    );
  } catch (error) {
    const akm = toAkmError(error, "Reading the rotation's result");
    deps.log(`rotate-result failed: ${akm.name}: ${akm.message}`);
    return outcome.finish("Failed", `Rotation result unknown (${akm.fault} fault).`, akm);
  }
}
