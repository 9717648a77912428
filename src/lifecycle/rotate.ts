import type { AccessKeyInfo } from "../domain/access-key.ts";
import { countOf, nameTargets, REPOSITORY_NOUN, targetNoun } from "../domain/name-targets.ts";
import { type Target, targetKey, targetLabel } from "../domain/target.ts";
import { GitHubRateLimitError, IamStateError, KeyDestinationRefusedError, toAkmError } from "../errors.ts";
import type { TargetIdentity, TokenOwner } from "../ports.ts";
import { githubApiNote } from "./github-api-note.ts";
import { holdersOf, targetsLacking } from "./holders.ts";
import { isoSeconds, OutcomeRecorder, type RunOutcome } from "./outcome.ts";
import { PreflightError, preflight } from "./preflight.ts";
import { type Reconciliation, reconcile } from "./reconcile.ts";
import { addedSinceNote, identityChange, RepositoryReplacedError, recordRepoIds } from "./repo-identity.ts";
import { type RotateOptions, type RotationDeps, type RotationRun, startRun } from "./rotation-context.ts";
import { resolveSelectedTargets } from "./selected-stage.ts";
import { loadTargets, type TargetSet } from "./selected-targets.ts";
import { keptSetNote, selectionAlerts, selectionNotes } from "./selection-note.ts";
import type { ShadowCheckRound } from "./shadow-check-document.ts";
import { guardAgainstShadowing, inPartText, type ShadowGuard } from "./shadow-guard.ts";
import { type CheckedRepos, emptyState, type PreviousKey, type RotationState } from "./state.ts";
import { RATE_LIMIT_USED_UP, type SyncOutcome, syncKey, WRITES_PER_REPO, writeTimes } from "./sync-key.ts";
import { keyIdLabel, targetWrites } from "./target-writes.ts";
import { TOKEN_ALERT_INTERVAL_MS, tokenExpiryWarning, tokenWarnings } from "./token-check.ts";
import { verifyKey } from "./verify-key.ts";
import { withRunLock } from "./with-run-lock.ts";

/**
 * One Rotate step: preflight → reconcile → (clean up) → create + persist → verify → write every
 * target → promote. Safe to call again after a crash or an InProgress/Failed outcome at any point:
 * every step is either observable in IAM/GitHub or recorded in the state store before the next one.
 * Returns what happened as data; the handler renders it.
 */
export async function rotate(deps: RotationDeps, options: RotateOptions): Promise<RunOutcome> {
  // A dry run only reads, so it needs no lock and may run beside a real rotation.
  if (options.dryRun) return rotateOnce(deps, options);
  return withRunLock(deps, options.owner, "rotate", () => rotateOnce(deps, options));
}

async function rotateOnce(deps: RotationDeps, options: RotateOptions): Promise<RunOutcome> {
  const outcome = new OutcomeRecorder("rotate", options.dryRun);
  const { settings } = deps;
  outcome.note(githubApiNote(settings.githubApiUrl));
  try {
    const saved = await deps.state.load();
    // R5: nothing below changes IAM until the config, the token and every target check out. A resumed
    // rotation (its new key exists already) reads each remaining target's public key when it writes it
    // instead: a rotation spread over many invocations then reads every key once, not at every invocation.
    // A long list is checked over several invocations (each stops at its deadline); what passed is kept.
    const resuming = saved?.pending !== undefined;
    const round = resuming ? undefined : checkRound(saved, deps.clock.now());
    // The list's selections: a rotation under way (its preflight round began, or its key exists) writes the set
    // found when it began; a new one finds them anew, and the state it saves records the new set.
    const listed = await loadTargets(deps, {
      state: saved,
      underWay: resuming || round !== undefined,
      ownersChecked: true,
    });
    for (const line of selectionNotes(listed.selections, listed.changes)) outcome.note(line);
    if (listed.changes === undefined && listed.record !== undefined)
      outcome.note(keptSetNote(listed.record.at));
    if (listed.changes !== undefined && !options.dryRun) {
      for (const alert of selectionAlerts(listed.changes, deps.list.location)) outcome.alert(alert);
    }
    let stored = withSelectedSet(saved, listed, deps.clock.now());
    const keepChecked = async (
      passed: readonly string[],
      seen?: { targets: readonly Target[]; identities: ReadonlyMap<string, TargetIdentity> },
      shadowCheck?: ShadowCheckRound,
    ): Promise<void> => {
      const base = stored ?? emptyState(deps.clock.now());
      await deps.state.save({
        ...(seen ? recordRepoIds(base, seen.targets, seen.identities, deps.clock.now()) : base),
        checked: {
          since: round?.since ?? deps.clock.now().toISOString(),
          repos: [...(round?.repos ?? []), ...passed],
        },
        ...(shadowCheck === undefined ? {} : { shadowCheck }),
        updatedAt: deps.clock.now().toISOString(),
      });
    };
    let checks: Awaited<ReturnType<typeof preflight>>;
    try {
      const list = { location: deps.list.location, load: async () => ({ targets: listed.targets }) };
      checks = await preflight(list, deps.github, {
        toCheck: (targets) => (resuming ? [] : targets),
        alreadyChecked: new Set(round?.repos),
        deadline: options.deadline,
        clock: deps.clock,
      });
    } catch (error) {
      // GitHub's primary rate limit before anything was checked (GET /user): wait for its reset, like the checks.
      if (error instanceof GitHubRateLimitError)
        return rateLimited(outcome, error.resetAt, "nothing checked yet");
      // What passed stays passed: a rerun (after the fix, or after GitHub's rate limit resets) checks the rest.
      if (error instanceof PreflightError && error.checked.length > 0 && !options.dryRun) {
        await keepChecked(error.checked);
      }
      throw error;
    }
    const { targets, publicKeys, token, identities } = checks;
    const noun = targetNoun(targets);
    outcome.noun = noun;
    // A listed name that GitHub now gives another ID than the one first seen is another repository.
    const replaced = targets.flatMap((target) => {
      const identity = identities.get(targetKey(target));
      const error = identity && identityChange(target, identity, stored?.repoIds);
      return error ? [{ target, error }] : [];
    });
    if (replaced.length > 0) {
      const refused = new Set(replaced.map((failure) => targetKey(failure.target)));
      const passed = checks.checked.filter((key) => !refused.has(key));
      if (passed.length > 0 && !options.dryRun) await keepChecked(passed, { targets, identities });
      throw new PreflightError(replaced, passed);
    }
    const now = deps.clock.now();
    for (const warning of tokenWarnings(token, settings.machineUserName, settings.tokenSecretId, now)) {
      outcome.note(warning);
    }
    if (checks.unchecked > 0) {
      const passed = (round?.repos.length ?? 0) + checks.checked.length;
      const limited = checks.rateLimitedUntil;
      outcome.reposRemaining = checks.unchecked;
      if (options.dryRun) {
        outcome.note(
          `Checked ${passed} of ${targets.length} listed ${noun.many} ${limited ? `before GitHub's primary rate limit ran out (it resets at ${isoSeconds(limited)})` : "within this step's time"}; a rotation checks every one before it creates a key, over as many steps as it takes.`,
        );
      } else {
        await keepChecked(checks.checked, { targets, identities });
        if (limited) return rateLimited(outcome, limited, `${passed} of ${targets.length} checked`);
        return outcome.finish(
          "InProgress",
          `Rotation in progress (checking the listed ${noun.many} before creating a key): ${passed} of ${targets.length} checked; the next invocation continues. Nothing was changed in IAM or GitHub.`,
        );
      }
    }
    // An organization secret's selected repositories: resolved to IDs once per rotation (before its key exists, so a
    // name that is not one of the organization's repositories, or is another repository than the one first seen
    // under it, stops it before any change), kept in the progress object for the later invocations, over as many
    // invocations as the step's time needs.
    const kept = resuming || round !== undefined ? stored?.selectedIds : undefined;
    // IDs an abandoned rotation resolved are not this one's: neither reused nor recorded as seen (recordRepoIds).
    if (kept === undefined && stored?.selectedIds !== undefined)
      stored = { ...stored, selectedIds: undefined };
    const selectedStage = await resolveSelectedTargets(
      deps,
      targets,
      { kept, known: stored?.repoIds },
      options.deadline,
    );
    let selectedChanged = false;
    if (selectedStage.kind === "failed") {
      const { failures } = selectedStage;
      if (!resuming && checks.checked.length > 0 && !options.dryRun)
        await keepChecked(checks.checked, { targets, identities });
      // Nothing is written in this invocation even when resuming (the key exists; the old one stays active): a
      // failed target has no checked IDs, and its write would resolve its names again, unchecked (perhaps to a
      // repository that took one of them). The other targets wait for the fix with it.
      throw new PreflightError(failures, resuming ? [] : checks.checked);
    } else if (selectedStage.records !== undefined || stored?.selectedIds !== undefined) {
      selectedChanged = selectedStage.kind === "unfinished" || selectedStage.changed;
      if (selectedChanged && !options.dryRun) {
        stored = { ...(stored ?? emptyState(deps.clock.now())), selectedIds: selectedStage.records };
      }
    }
    if (selectedStage.kind === "unfinished") {
      const { resolved, total } = selectedStage;
      const progress = `${resolved} of ${total} selected repositories resolved to IDs`;
      if (options.dryRun) {
        outcome.note(
          `${progress} within this step's time; a rotation resolves them before it creates a key, over as many steps as it takes.`,
        );
      } else if (resuming) {
        await deps.state.save({
          ...(stored ?? emptyState(deps.clock.now())),
          updatedAt: deps.clock.now().toISOString(),
        });
        return outcome.finish(
          "InProgress",
          `Rotation in progress (resolving the organization secret's selected repositories to IDs): ${progress}; the next invocation continues.`,
        );
      } else {
        await keepChecked(checks.checked, { targets, identities });
        return outcome.finish(
          "InProgress",
          `Rotation in progress (resolving the organization secret's selected repositories to IDs before creating a key): ${progress}; the next invocation continues. Nothing was changed in IAM or GitHub.`,
        );
      }
    }
    // A copy of the key's names at a more specific scope that the list does not manage would keep its jobs on the
    // old key: every listed repository is looked at before a key is created, over as many invocations as it takes.
    let shadowRound: ShadowCheckRound | undefined;
    if (!resuming) {
      const shadow = await guardAgainstShadowing(deps, {
        stage: { stage: "rotate" },
        targets,
        unmanaged: listed.unmanaged,
        stored,
        deadline: options.deadline,
        outcome,
      });
      if (options.dryRun) {
        const note = dryRunShadowNote(shadow.guard);
        if (note !== undefined) outcome.note(note);
      } else if (shadow.guard.kind !== "clear") {
        if (shadow.round) await keepChecked(checks.checked, { targets, identities }, shadow.round);
        if (shadow.guard.kind !== "unfinished") throw shadow.guard.error;
        const { checked, total, resumeAt, inRepository } = shadow.guard;
        // The progress line counts what is left to look at: repositories (an organization target covers many).
        outcome.noun = REPOSITORY_NOUN;
        outcome.reposRemaining = total - checked;
        outcome.resumeAt = resumeAt;
        outcome.resumeReason = "GitHub's primary rate limit is low";
        return outcome.finish(
          "InProgress",
          `Rotation in progress (looking for copies of the key's secrets that would hide it): ${checked} of ${total} repositories checked${inPartText(inRepository)}; ${resumeAt ? `GitHub's rate limit is kept for the rotation itself, so the check continues at ${isoSeconds(resumeAt)}` : "the next invocation continues"}. Nothing was changed in IAM or GitHub.`,
        );
      }
      shadowRound = shadow.round;
    }
    await deps.iam.checkUser();
    const stateBefore = stored ?? emptyState(now);
    const loaded = shadowRound ? { ...stateBefore, shadowCheck: shadowRound } : stateBefore;
    outcome.note(addedSinceNote(loaded, targets));
    // GitHub's hourly write limit spans invocations: start from the writes earlier runs made.
    deps.writeBudget?.remember(writeTimes(loaded));
    const keys = await deps.iam.list(stored?.pending ? [stored.pending.accessKeyId] : []);
    const rec = reconcile(loaded, keys, {
      replaceOlderKey: options.replaceOlderKey,
      userName: settings.iamUserName,
      dryRun: options.dryRun,
    });
    for (const note of rec.notes) outcome.note(note);
    const run = startRun(deps, outcome, {
      deadline: options.deadline,
      targets,
      publicKeys,
      checked: new Set(resuming ? [] : [...(round?.repos ?? []), ...checks.checked]),
      state: watchDestinations(rec.state, { targets, identities, token, options, outcome, deps }),
    });
    outcome.oldAccessKeyId = run.state.current?.accessKeyId;
    outcome.newAccessKeyId = run.state.pending?.accessKeyId;

    if (options.dryRun) return planOnly(run, rec, keys);

    if (run.state !== loaded || (selectedChanged && resuming)) await run.save(run.state);
    for (const cleanup of rec.deleteNow) {
      await deps.iam.delete(cleanup.accessKeyId);
      outcome.note(`Deleted key ${cleanup.accessKeyId}: ${cleanup.reason}.`);
    }

    if (!run.state.pending) {
      const room = await makeRoom(run, rec.spareInactive);
      if ("unfinished" in room) {
        return inProgress(run, room.unfinished, `writing the current key to new ${noun.many} first`);
      }
      if ("retiring" in room) return handOnRetirement(run, room.retiring);
      await createKey(run);
    } else {
      outcome.note(`Resuming the unfinished rotation to key ${run.state.pending.accessKeyId}.`);
    }
    return await finishRotation(run);
  } catch (error) {
    const akm = toAkmError(error, "Rotate");
    // GitHub's primary rate limit anywhere else (a selection's listing, an organization's repositories): every
    // step of a rotation is safe to run again, so it waits for the reset like the checks and the writes.
    if (akm instanceof GitHubRateLimitError) return rateLimited(outcome, akm.resetAt, undefined);
    if (akm instanceof KeyDestinationRefusedError) outcome.alert(akm.alert);
    if (akm instanceof PreflightError) {
      for (const failure of akm.failures) {
        if (failure.error instanceof RepositoryReplacedError) outcome.alert(failure.error.alert);
        outcome.repo({
          repo: targetLabel(failure.target),
          result: "failed",
          detail: failure.error.describe(),
        });
      }
    }
    deps.log(`rotate failed: ${akm.name}: ${akm.message}`);
    return outcome.finish("Failed", `Rotation Failed (${akm.fault} fault).`, akm);
  }
}

/**
 * What a rotation records about where the key goes, before it changes anything: the GitHub IDs of the listed
 * targets (first seen now, unless seen before; unlisted ones forgotten) and, at most once a day, that the
 * stack's topic was alerted about a token that expires soon (the alert itself goes with this run's outcome).
 * A dry run records nothing and alerts nothing.
 */
function watchDestinations(
  state: RotationState,
  context: {
    readonly targets: readonly Target[];
    readonly identities: ReadonlyMap<string, TargetIdentity>;
    readonly token: TokenOwner;
    readonly options: RotateOptions;
    readonly outcome: OutcomeRecorder;
    readonly deps: RotationDeps;
  },
): RotationState {
  const { targets, identities, token, options, outcome, deps } = context;
  if (options.dryRun) return state;
  const now = deps.clock.now();
  const next = recordRepoIds(state, targets, identities, now);
  const expiry = tokenExpiryWarning(token, deps.settings.tokenSecretId, now);
  const last = state.tokenExpiryAlertedAt === undefined ? undefined : Date.parse(state.tokenExpiryAlertedAt);
  if (expiry === undefined || (last !== undefined && now.getTime() - last < TOKEN_ALERT_INTERVAL_MS))
    return next;
  outcome.alert(expiry.replace(/^Warning: /, ""));
  return { ...next, tokenExpiryAlertedAt: isoSeconds(now) };
}

/** What a dry run says about the shadowing check beyond its report (the copies found, rendered with the outcome). */
function dryRunShadowNote(guard: ShadowGuard): string | undefined {
  switch (guard.kind) {
    case "clear":
      return undefined;
    case "shadowed":
      return `A rotation would stop here, before creating a key: ${guard.error.describe()}`;
    case "failed":
      // A dry run lists no failed targets below: each is named here, with its fix.
      return `A rotation would stop here, before creating a key: ${guard.error.describe()} ${guard.error.failures
        .map((failure) => `${targetLabel(failure.target)}: ${failure.error.describe()}`)
        .join(" ")}`;
    case "unfinished":
      return `Looked at ${guard.checked} of ${guard.total} repositories${inPartText(guard.inRepository)} for copies of the key's secrets within this step's time; a rotation looks at every one before it creates a key, over as many steps as it takes.`;
  }
}

/**
 * The saved state with what a run's selections found: the set to record (`selected`), and, for a set found anew,
 * the recorded IDs of selected names that are another repository now forgotten (a selection finds repositories by
 * what they are, not by name: the one there now is selected, and the summary and the topic say so). Undefined
 * when nothing was saved and nothing is selected.
 */
function withSelectedSet(
  saved: RotationState | undefined,
  listed: TargetSet,
  now: Date,
): RotationState | undefined {
  if (listed.record === undefined || (saved?.selected === listed.record && listed.changes === undefined)) {
    return saved;
  }
  const base = saved ?? emptyState(now);
  const replaced = new Set((listed.changes?.replaced ?? []).map(targetKey));
  const repoIds =
    base.repoIds === undefined || replaced.size === 0
      ? base.repoIds
      : Object.fromEntries(Object.entries(base.repoIds).filter(([key]) => !replaced.has(key)));
  return { ...base, ...(repoIds === undefined ? {} : { repoIds }), selected: listed.record };
}

/** A preflight round younger than this is resumed; an older one starts over (targets change). */
const CHECK_ROUND_MS = 24 * 60 * 60_000;

/** The targets checked so far in the current preflight round, if it is recent. */
function checkRound(stored: RotationState | undefined, now: Date): CheckedRepos | undefined {
  const round = stored?.checked;
  if (!round || now.getTime() - Date.parse(round.since) > CHECK_ROUND_MS) return undefined;
  return round;
}

/** R3: records the intent first, then the new key's secret right after CreateAccessKey, before any other call. */
async function createKey(run: RotationRun): Promise<void> {
  const { deps, outcome } = run;
  await run.save({
    ...run.state,
    creating: { startedAt: deps.clock.now().toISOString() },
    checked: undefined,
    shadowCheck: undefined,
  });
  const created = await deps.iam.create();
  await run.save({
    ...run.state,
    creating: undefined,
    pending: {
      accessKeyId: created.accessKeyId,
      secretAccessKey: created.secretAccessKey,
      createdAt: created.createdAt.toISOString(),
      verifiedAt: undefined,
    },
  });
  outcome.newAccessKeyId = created.accessKeyId;
  outcome.note(`Created key ${created.accessKeyId}.`);
  deps.log(`created access key ${created.accessKeyId}`);
}

/** Verify → write every target (R1) → promote, or stop InProgress / Failed with what remains. */
async function finishRotation(run: RotationRun): Promise<RunOutcome> {
  const { deps, outcome } = run;
  const { settings } = deps;
  const noun = targetNoun(run.targets);
  const pending = run.state.pending;
  if (!pending) throw new Error("pending key missing after creation");
  if (!pending.verifiedAt) {
    await verifyKey(deps.probe, pending, settings.iamUserArn, deps.clock, settings.verify);
    await run.save({ ...run.state, pending: { ...pending, verifiedAt: deps.clock.now().toISOString() } });
    outcome.note(`Verified key ${pending.accessKeyId} with STS GetCallerIdentity.`);
  }

  // R1: write the new key everywhere and verify before the old one is touched.
  const sync = await syncKey(run, pending);
  recordSync(run, sync);
  if (sync.failed > 0) {
    return outcome.finish(
      "Failed",
      `Rotation Failed: ${countOf(sync.failed, noun)} ${sync.failed === 1 ? "was" : "were"} not updated${sync.mismatched > 0 ? `, ${sync.mismatched} of them left mismatched (new secret key, old key ID: their workflows cannot authenticate until Rotate runs again)` : ""}. ${outcome.oldAccessKeyId ? `The old key ${outcome.oldAccessKeyId} stays active; run` : "Run"} Rotate again after fixing them and it resumes where it stopped.`,
    );
  }
  if (sync.remaining > 0) return inProgress(run, sync, `writing key ${pending.accessKeyId}`);

  // Promote: the new key is current; the old one stays active for the grace period (R2).
  // Whole seconds: the runbook's aws:sleep takes it as its Timestamp (YYYY-MM-DDThh:mm:ssZ).
  const retireAfter = isoSeconds(new Date(deps.clock.now().getTime() + settings.graceMinutes * 60_000));
  const old = run.state.current;
  await run.save({
    ...run.state,
    current: {
      accessKeyId: pending.accessKeyId,
      secretAccessKey: pending.secretAccessKey,
      createdAt: pending.createdAt,
      origin: "created",
    },
    pending: undefined,
    previous: old ? { accessKeyId: old.accessKeyId, origin: old.origin, retireAfter } : undefined,
    promotedAt: isoSeconds(deps.clock.now()),
    // The next rotation resolves the selected repositories anew (a repository may be renamed or re-created).
    selectedIds: undefined,
  });
  outcome.retireAfter = old ? new Date(retireAfter) : undefined;
  return outcome.finish(
    "Succeeded",
    old
      ? `Rotation Succeeded: every listed ${noun.one} holds key ${pending.accessKeyId}. The old key ${old.accessKeyId} stays active until ${retireAfter} (grace period), then the Retire step deactivates it; the next rotation deletes it.`
      : `Rotation Succeeded: every listed ${noun.one} holds key ${pending.accessKeyId}.`,
  );
}

/**
 * No new rotation while the previous key is in its grace period: the last one is complete, so this run
 * succeeds and its runbook waits for the grace period and retires the old key (in case the run that
 * promoted the key died before its own runbook could).
 */
function handOnRetirement(run: RotationRun, previous: PreviousKey): RunOutcome {
  const { outcome } = run;
  outcome.oldAccessKeyId = previous.accessKeyId;
  outcome.newAccessKeyId = run.state.current?.accessKeyId;
  outcome.retireAfter = new Date(previous.retireAfter);
  return outcome.finish(
    "Succeeded",
    `No new rotation: every listed ${targetNoun(run.targets).one} holds key ${outcome.newAccessKeyId ?? "(none)"}, and the previous key ${previous.accessKeyId} is still in its grace period until ${previous.retireAfter}. This execution deactivates it then; a new key can be created after that. If a schedule started this run, the grace period (pGraceMinutes) is longer than the rotation interval: lower it.`,
  );
}

/**
 * GitHub's primary rate limit stopped the run: InProgress until its reset, when the runbook invokes the function
 * again (it sleeps until `resumeAt`) and the rotation goes on from where it stopped. `checked`: how far the
 * preflight got, when it was the preflight that stopped (nothing was changed yet).
 */
function rateLimited(outcome: OutcomeRecorder, resetAt: Date, checked: string | undefined): RunOutcome {
  outcome.resumeAt = resetAt;
  outcome.resumeReason = RATE_LIMIT_USED_UP;
  const until = `GitHub's primary rate limit for the token is used up until ${isoSeconds(resetAt)}, when the rotation continues`;
  return outcome.finish(
    "InProgress",
    checked === undefined
      ? `Rotation in progress: ${until} where it stopped.`
      : `Rotation in progress (checking the listed ${outcome.noun.many} before creating a key): ${checked}; ${until}. Nothing was changed in IAM or GitHub.`,
  );
}

/** The InProgress outcome: what remains, and when the next invocation may continue. */
function inProgress(run: RotationRun, sync: SyncOutcome, doing: string): RunOutcome {
  const window = sync.budgetWindow;
  recordSync(run, sync);
  const why = !sync.resumeAt
    ? "the next invocation continues"
    : window
      ? `GitHub's write budget (${window.limit} writes ${window.label}) is used up; the rotation continues at ${isoSeconds(sync.resumeAt)}`
      : `${sync.resumeReason ?? "GitHub's write budget is used up"}; the rotation continues at ${isoSeconds(sync.resumeAt)}`;
  return run.outcome.finish(
    "InProgress",
    `Rotation in progress (${doing}): ${countOf(sync.remaining, targetNoun(run.targets))} ${sync.remaining === 1 ? "remains" : "remain"}; ${why}.`,
  );
}

/** What remains of a sync, and when it may continue, for the outcome. */
function recordSync(run: RotationRun, sync: SyncOutcome): void {
  run.outcome.reposRemaining = sync.remaining;
  run.outcome.resumeAt = sync.resumeAt;
  run.outcome.resumeReason = sync.resumeReason;
  run.outcome.budgetWindow = sync.budgetWindow;
  run.outcome.eta = sync.eta;
}

type Room = { readonly ok: true } | { readonly unfinished: SyncOutcome } | { readonly retiring: PreviousKey };

/**
 * Before a new key can be created there must be a free slot (IAM allows two keys). The previous key
 * goes first, but only once no listed target can still hold it (R1) and its grace period is over (R2).
 * Writing the current key to targets added since needs GitHub's write budget too; when the step's time
 * or the budget runs out first, the caller answers InProgress and the next invocation continues.
 */
async function makeRoom(run: RotationRun, spareInactive: readonly AccessKeyInfo[]): Promise<Room> {
  const { deps, outcome } = run;
  const previous = run.state.previous;
  if (previous) {
    let holders = holdersOf(previous, run.targets, run.state.holdings);
    const current = run.state.current;
    if (holders.length > 0 && current?.secretAccessKey) {
      // Targets added since the last rotation get the current key first, so the old one can go.
      const catchUp = await syncKey(run, {
        accessKeyId: current.accessKeyId,
        secretAccessKey: current.secretAccessKey,
      });
      if (catchUp.failed === 0 && catchUp.remaining > 0 && (catchUp.attempted > 0 || catchUp.resumeAt)) {
        return { unfinished: catchUp };
      }
      holders = holdersOf(previous, run.targets, run.state.holdings);
    }
    if (holders.length > 0) {
      throw new IamStateError(
        `The previous key ${previous.accessKeyId} may still be used by ${nameTargets(holders)}, so it cannot be retired to make room for a new key.`,
        `Fix the failed ${targetNoun(run.targets).many} listed above and run Rotate again.`,
      );
    }
    if (deps.clock.now().getTime() < Date.parse(previous.retireAfter)) {
      // The last rotation is complete but its old key is in its grace period. The run that promoted it may
      // have died before its runbook reached Retire, so this one takes the retirement over instead of failing.
      return { retiring: previous };
    }
    await deps.iam.deactivate(previous.accessKeyId);
    await deps.iam.delete(previous.accessKeyId);
    outcome.note(
      `Deleted the previous key ${previous.accessKeyId} (grace period over, no listed ${targetNoun(run.targets).one} holds it).`,
    );
    await run.save({ ...run.state, previous: undefined });
  }
  const keys = await deps.iam.list();
  if (keys.length >= 2) {
    const spare = spareInactive.find((key) => keys.some((k) => k.accessKeyId === key.accessKeyId));
    if (!spare) {
      throw new IamStateError(
        `IAM user ${deps.settings.iamUserName} already has two access keys (${keys.map((k) => k.accessKeyId).join(", ")}) and none can be removed safely.`,
        "Delete the key that is not in use in the IAM console, then run Rotate again.",
      );
    }
    await deps.iam.delete(spare.accessKeyId);
    outcome.note(
      `Deleted the inactive key ${spare.accessKeyId} to make room (inactive keys cannot be in use).`,
    );
  }
  return { ok: true };
}

/** DryRun: what a rotation would do now, from the same reconciliation; changes nothing. */
function planOnly(run: RotationRun, rec: Reconciliation, keys: readonly AccessKeyInfo[]): RunOutcome {
  const { deps, outcome, state, targets } = run;
  const noun = targetNoun(targets);
  outcome.note(`Current keys: ${keys.map((k) => `${k.accessKeyId} (${k.status})`).join(", ") || "(none)"}.`);
  for (const cleanup of rec.deleteNow)
    outcome.note(`Would delete key ${cleanup.accessKeyId}: ${cleanup.reason}.`);
  if (state.previous) {
    outcome.note(
      `Would delete the previous key ${state.previous.accessKeyId} once its grace period ends (${state.previous.retireAfter}).`,
    );
  }
  if (rec.spareInactive.length > 0 && keys.length - rec.deleteNow.length >= 2 && !state.previous) {
    outcome.note(`Would delete the inactive key ${rec.spareInactive[0]?.accessKeyId} to make room.`);
  }
  const pendingId = state.pending?.accessKeyId;
  if (pendingId) outcome.note(`Would resume the unfinished rotation to key ${pendingId}.`);
  else outcome.note("Would create a new access key and verify it with STS.");
  const lacking = new Set(pendingId ? targetsLacking(pendingId, targets, state.holdings) : targets);
  for (const target of targets) {
    const needs = lacking.has(target);
    const writes = targetWrites(target, deps.settings);
    outcome.repo({
      repo: targetLabel(target),
      result: needs ? "would-write" : "already-current",
      detail: needs ? `${writes.names.secretKey} and ${keyIdLabel(writes)}` : "",
    });
  }
  outcome.reposRemaining = lacking.size;
  if (deps.writeBudget && lacking.size > 0) {
    const seconds =
      (deps.writeBudget.finishAt(lacking.size, WRITES_PER_REPO).getTime() - deps.clock.now().getTime()) /
      1000;
    outcome.note(
      `Writing ${countOf(lacking.size, noun)} takes at least ${describeDuration(seconds)} within GitHub's write budget (two writes per ${noun.one}, one a second on average, at most 500 an hour).`,
    );
  }
  const old = state.current?.accessKeyId;
  outcome.note(
    old
      ? `Would keep the old key ${old} active for ${deps.settings.graceMinutes} minutes after every ${noun.one} holds the new key, then deactivate it.`
      : "No old key to retire.",
  );
  return outcome.finish("Succeeded", "Dry run: preflight passed; nothing was changed. Plan:");
}

/** "45 s", "12 min", "1 h 10 min". */
export function describeDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
