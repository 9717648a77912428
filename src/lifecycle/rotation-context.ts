import type { Target } from "../domain/target.ts";
import type {
  Clock,
  IamKeys,
  IdentityProbe,
  RepoPublicKey,
  RunLock,
  SecretInventory,
  SecretsTarget,
  StateStore,
  TargetList,
  WriteBudget,
} from "../ports.ts";
import type { OutcomeRecorder } from "./outcome.ts";
import { pruneHoldings } from "./prune-holdings.ts";
import type { SelectionContext } from "./selected-targets.ts";
import type { RotationState } from "./state.ts";
import type { VerifyOptions } from "./verify-key.ts";

/** Everything a rotation needs, injected so the logic runs the same in the Lambda and in tests. */
export interface RotationDeps {
  readonly iam: IamKeys;
  readonly probe: IdentityProbe;
  readonly state: StateStore;
  /** The list: where the key goes. */
  readonly list: TargetList;
  /**
   * Resolves the list's selections (repositories by topic or custom property). Without it, a list with selections
   * is refused before any change.
   */
  readonly selection?: SelectionContext;
  readonly github: SecretsTarget;
  readonly lock: RunLock;
  /**
   * GitHub's write budget, shared with the client behind `github` (which enforces it). The rotation plans
   * around it: it stops with a resume time when the budget is used up, and keeps the hourly count in its
   * state. Without it (in-memory tests) writes are not planned.
   */
  readonly writeBudget?: WriteBudget;
  /**
   * What GitHub holds besides what the rotation writes, for the shadowing check (src/lifecycle/shadowing.ts):
   * preflight, DryRun and Retire look for copies of the key's names that would hide it. Without it (in-memory
   * tests of other behaviour) there is no such check.
   */
  readonly inventory?: SecretInventory;
  readonly clock: Clock;
  readonly settings: RotationSettings;
  /** Progress lines for the Lambda log; never receives a secret. */
  readonly log: (line: string) => void;
}

export interface RotationSettings {
  readonly iamUserName: string;
  readonly iamUserArn: string;
  /** pGitHubMachineUserName: the login the token should belong to. */
  readonly machineUserName: string;
  /** The Secrets Manager secret holding the GitHub token, named where a new token should go. */
  readonly tokenSecretId: string;
  /** The GitHub API the key goes through, named in every rotation summary. */
  readonly githubApiUrl: string;
  readonly secretNameKeyId: string;
  readonly secretNameSecretKey: string;
  readonly graceMinutes: number;
  readonly verify?: VerifyOptions;
  /** Holdings are saved after this many repos (Secrets Manager keeps a bounded number of versions). */
  readonly saveEvery?: number;
}

/** Longer than one runbook step (300 s), so a live run never loses its lease; short enough to recover from a crash. */
export const LOCK_TTL_MS = 10 * 60_000;

export interface RotateOptions {
  /** Who runs: the Automation execution ID (the lease owner; the same across an execution's steps). */
  readonly owner: string;
  readonly dryRun: boolean;
  readonly replaceOlderKey: boolean;
  /** Stop starting new repositories after this instant and return InProgress (step time budget). */
  readonly deadline: Date;
}

/**
 * One invocation's working context, shared by the steps of a rotation (make room, create, verify, sync,
 * promote) instead of long parameter lists. `state` is the latest saved state; `save` stamps, persists and
 * adopts the next one.
 */
export interface RotationRun {
  readonly deps: RotationDeps;
  readonly outcome: OutcomeRecorder;
  /** Stop starting new repositories after this instant (the step's time budget). */
  readonly deadline: Date;
  /** Where the list says the key goes (repository, environment and organization secrets), in list order. */
  readonly targets: readonly Target[];
  /** Public keys read in preflight, by targetKey (a resumed rotation reads them as it writes). */
  readonly publicKeys: ReadonlyMap<string, RepoPublicKey>;
  /**
   * targetKeys of the targets this rotation's preflight checked before the key was created (in this invocation or
   * an earlier one of the same round). Any other target — a resumed rotation's — is checked as it is written.
   */
  readonly checked: ReadonlySet<string>;
  state: RotationState;
  save(next: RotationState): Promise<RotationState>;
}

/**
 * Creates the run context; `save` prunes the holdings of targets no longer listed that cannot hold a live key
 * (src/lifecycle/prune-holdings.ts), stamps `updatedAt` from the clock, persists, and becomes `run.state`.
 */
export function startRun(
  deps: RotationDeps,
  outcome: OutcomeRecorder,
  init: {
    readonly deadline: Date;
    readonly targets: readonly Target[];
    readonly publicKeys: ReadonlyMap<string, RepoPublicKey>;
    readonly checked?: ReadonlySet<string>;
    readonly state: RotationState;
  },
): RotationRun {
  const run: RotationRun = {
    deps,
    outcome,
    deadline: init.deadline,
    targets: init.targets,
    publicKeys: init.publicKeys,
    checked: init.checked ?? new Set(init.publicKeys.keys()),
    state: init.state,
    async save(next) {
      // Targets dropped from the list are forgotten once they cannot hold a live key.
      const stamped = { ...pruneHoldings(next, init.targets), updatedAt: deps.clock.now().toISOString() };
      await deps.state.save(stamped);
      run.state = stamped;
      return stamped;
    },
  };
  return run;
}
