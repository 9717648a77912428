import { repositoryTarget, type Target, targetLabel } from "../domain/target.ts";
import type { OutcomeRecorder } from "./outcome.ts";
import { PreflightError } from "./preflight.ts";
import type { RotationDeps } from "./rotation-context.ts";
import type { ShadowCheckRound } from "./shadow-check-document.ts";
import { ShadowedKeyError } from "./shadowed-key-error.ts";
import { checkShadowing, describeUnseen, type ShadowCheckResult } from "./shadowing.ts";
import type { RotationState } from "./state.ts";
import { UnseenRepositoriesError } from "./unseen-repositories-error.ts";

/** What the shadowing check allows: go on, or not yet, or not until the copies are dealt with. */
export type ShadowGuard =
  /** Every repository checked, no copy found that the rotation does not manage. */
  | { readonly kind: "clear" }
  /** Every repository checked; copies found (the error names them and the fixes). */
  | { readonly kind: "shadowed"; readonly error: ShadowedKeyError }
  /** Repositories left to check (the next invocation continues; `resumeAt`: GitHub's rate limit resets). */
  | {
      readonly kind: "unfinished";
      readonly checked: number;
      readonly total: number;
      readonly resumeAt?: Date;
      /** The repository the check stopped in the middle of, and how many of its environments it checked. */
      readonly inRepository?: ShadowCheckResult["inRepository"];
    }
  /**
   * Repositories that could not be checked (each named, with its fix), or an organization target whose secret
   * reaches repositories the credential cannot list (UnseenRepositoriesError).
   */
  | { readonly kind: "failed"; readonly error: PreflightError };

/** When the check runs: before a key is created, or before the previous key is deactivated. */
export type ShadowStage =
  | { readonly stage: "rotate" }
  | { readonly stage: "retire"; readonly oldAccessKeyId: string };

export interface ShadowGuardResult {
  readonly guard: ShadowGuard;
  /** The round to keep in the state for the next invocation; undefined when there is no check (no inventory). */
  readonly round: ShadowCheckRound | undefined;
}

/**
 * Runs the shadowing check (src/lifecycle/shadowing.ts) for a stage, continuing the stored round of the same
 * stage (Retire's is bound to the key it retires), until `deadline` or GitHub's rate limit, and records every
 * finding in `outcome`. The caller saves `round` (unless it is a dry run) and acts on `guard`. A refused round
 * forgets the repositories where copies were found, so the run after the fix checks them again. Without an
 * inventory (in-memory tests of other behaviour) the check is skipped.
 */
export async function guardAgainstShadowing(
  deps: RotationDeps,
  input: {
    readonly stage: ShadowStage;
    readonly targets: readonly Target[];
    readonly unmanaged: readonly Target[];
    readonly stored: RotationState | undefined;
    readonly deadline: Date;
    readonly outcome: OutcomeRecorder;
  },
): Promise<ShadowGuardResult> {
  const { inventory, settings } = deps;
  if (inventory === undefined) return { guard: { kind: "clear" }, round: undefined };
  const purpose = input.stage.stage === "rotate" ? "rotate" : `retire ${input.stage.oldAccessKeyId}`;
  const earlier = input.stored?.shadowCheck;
  const result = await checkShadowing({
    targets: input.targets,
    unmanaged: input.unmanaged,
    defaultNames: { keyId: settings.secretNameKeyId, secretKey: settings.secretNameSecretKey },
    inventory,
    clock: deps.clock,
    progress: earlier?.purpose === purpose ? earlier : undefined,
    deadline: input.deadline,
  });
  const checked = result.total - result.remaining;
  input.outcome.shadowing = {
    findings: result.findings,
    checked,
    total: result.total,
    unseen: result.unseen.length,
  };
  const round: ShadowCheckRound = { purpose, ...result.progress };
  deps.log(
    `shadowing check (${purpose}): ${checked} of ${result.total} repositories checked${inPartText(result.inRepository)}, ${result.findings.length} copies found, ${result.requests} requests`,
  );

  // An organization secret reaching repositories the check cannot see: GitHub says some were left out (refused,
  // as a copy there would break jobs at Retire), or the check cannot tell (said, and the run goes on).
  const unseen = result.unseen.flatMap((organization) => {
    const target = input.targets.find((candidate) => targetLabel(candidate) === organization.target);
    if (organization.certain && target !== undefined) {
      return [{ target, error: new UnseenRepositoriesError(organization) }];
    }
    input.outcome.note(describeUnseen(organization));
    return [];
  });
  const refused = result.failures.filter((failure) => failure.error.fault !== "transient");
  if (refused.length > 0 || unseen.length > 0) {
    const failures = [
      ...unseen,
      ...refused.map((failure) => ({
        target: repositoryTarget(failure.repo),
        error: failure.error,
      })),
    ];
    return { guard: { kind: "failed", error: new PreflightError(failures) }, round };
  }
  if (result.remaining > 0) {
    return {
      guard: {
        kind: "unfinished",
        checked,
        total: result.total,
        ...(result.resumeAt === undefined ? {} : { resumeAt: result.resumeAt }),
        ...(result.inRepository === undefined ? {} : { inRepository: result.inRepository }),
      },
      round,
    };
  }
  if (result.findings.length > 0) {
    const again = new Set(result.findings.map((finding) => finding.repo.toLowerCase()));
    return {
      guard: { kind: "shadowed", error: new ShadowedKeyError(result.findings, input.stage) },
      round: {
        ...round,
        checked: round.checked.filter((slug) => !again.has(slug)),
        findings: [],
        // Every repository was checked, so no repository is in part; were one, its findings are gone here.
        partial: undefined,
      },
    };
  }
  return { guard: { kind: "clear" }, round };
}

/**
 * `, and 8 of the 24 environments of octo/big` when the check stopped in the middle of a repository's environments
 * (ShadowCheckResult.inRepository), else "": appended to the count of repositories checked.
 */
export function inPartText(inRepository: ShadowCheckResult["inRepository"]): string {
  return inRepository === undefined
    ? ""
    : `, and ${inRepository.checked} of the ${inRepository.environments} environments of ${inRepository.repo}`;
}
