/**
 * What the readers of each listed target would read, on the emulated GitHub: the jobs (or Dependabot runs, or
 * codespaces) that take the key from that target, and the key ID and secret key GitHub would give them, by its
 * precedence (environment over repository over organization; an organization secret only where it is visible).
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/about-secrets
 *
 * The stack fixture's R1 check asks it after every write (only the readers the written scope can affect, so the
 * check stays cheap at 10,000 repositories) and after every run (every reader).
 */
import { parseReposConfig } from "../../src/config/repos-config.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import {
  type EnvironmentTarget,
  type OrganizationTarget,
  type RepositoryTarget,
  type SecretNames,
  type Target,
  targetLabel,
} from "../../src/domain/target.ts";
import type { GitHubEmulator, JobContext, SecretScope } from "./github-emulator/index.ts";

/**
 * The targets a list names, and the places it marks Unmanaged (copies kept on another key on purpose). `targets`
 * are the readers' targets: what the list names, plus, once resolved (selected-repositories.ts), the repositories
 * its `selections` find.
 */
export interface ListedTargets {
  readonly targets: readonly Target[];
  readonly unmanaged: readonly Target[];
  /** The list's Topic / Property entries (not resolved here). */
  readonly selections: readonly RepositorySelection[];
}

/** One reader of one target and what it would read now. */
export interface TargetRead {
  readonly target: Target;
  /** The reader, e.g. `acme/web reading organization acme (Actions)`, or the target's label. */
  readonly reader: string;
  /** The key ID it would read (a secret, or with `keyIdAs: "variable"` an Actions variable); undefined: none. */
  readonly keyId: string | undefined;
  readonly keyIdScope: SecretScope | undefined;
  /** The secret key it would read; undefined: none. */
  readonly secretKey: string | undefined;
}

/**
 * The targets of a list's text (v1 or v2; its selections unresolved: see selected-repositories.ts), or undefined
 * when the text does not parse (the function then writes nothing).
 */
export function listedTargets(text: string): ListedTargets | undefined {
  try {
    const config = parseReposConfig(text, "repos.json");
    return { targets: config.targets, unmanaged: config.unmanaged, selections: config.selections };
  } catch {
    return undefined;
  }
}

/** The readers of a list's targets, indexed so that a write's affected readers are found without a scan. */
export class TargetReaders {
  /** Repository and environment targets by owner (lower-case). */
  readonly #byOwner = new Map<string, (RepositoryTarget | EnvironmentTarget)[]>();
  /** Repository and environment targets by `owner/name` (lower-case). */
  readonly #byRepo = new Map<string, (RepositoryTarget | EnvironmentTarget)[]>();
  /** Organization targets by organization (lower-case). */
  readonly #byOrg = new Map<string, OrganizationTarget[]>();

  /**
   * @param github the emulated GitHub to read from
   * @param listed the targets whose readers to watch: the list's, and the repositories its selections find
   * @param defaultNames the stack's pGitHubSecretName* names, for targets without their own
   */
  constructor(
    private readonly github: GitHubEmulator,
    private readonly listed: Pick<ListedTargets, "targets" | "unmanaged">,
    private readonly defaultNames: SecretNames,
  ) {
    for (const target of listed.targets) {
      if (target.kind === "organization") {
        push(this.#byOrg, target.owner.toLowerCase(), target);
      } else {
        push(this.#byOwner, target.owner.toLowerCase(), target);
        push(this.#byRepo, `${target.owner}/${target.name}`.toLowerCase(), target);
      }
    }
  }

  /** What every reader of every listed target would read now. */
  all(): TargetRead[] {
    return this.listed.targets.flatMap((target) => this.#reads(target));
  }

  /**
   * What the readers a write to `scope` can change would read now: a repository's or environment's own readers,
   * and an organization's readers in that repository; for an organization scope, every reader in the organization.
   */
  affectedBy(scope: SecretScope): TargetRead[] {
    switch (scope.kind) {
      case "environment":
        return (this.#byRepo.get(`${scope.owner}/${scope.repo}`.toLowerCase()) ?? [])
          .filter(
            (target) =>
              target.kind === "environment" &&
              target.environment.toLowerCase() === scope.environment.toLowerCase(),
          )
          .flatMap((target) => this.#reads(target));
      case "repository":
        return [
          ...(this.#byRepo.get(`${scope.owner}/${scope.repo}`.toLowerCase()) ?? [])
            .filter((target) => storeOf(target) === scope.store)
            .flatMap((target) => this.#reads(target)),
          ...(this.#byOrg.get(scope.owner.toLowerCase()) ?? [])
            .filter((target) => target.store === scope.store)
            .flatMap((target) => this.#reads(target, scope.repo)),
        ];
      case "organization":
        return [
          ...(this.#byOrg.get(scope.org.toLowerCase()) ?? [])
            .filter((target) => target.store === scope.store)
            .flatMap((target) => this.#reads(target)),
          ...(this.#byOwner.get(scope.org.toLowerCase()) ?? [])
            .filter((target) => storeOf(target) === scope.store)
            .flatMap((target) => this.#reads(target)),
        ];
    }
  }

  /** The reads of a target's readers (of an organization target: in `onlyRepo` only, when given). */
  #reads(target: Target, onlyRepo?: string): TargetRead[] {
    const names = target.secretNames ?? this.defaultNames;
    const asVariable = target.keyIdAs === "variable";
    if (target.kind === "organization") {
      const seeing = this.github.reposSeeing(
        target.owner,
        names.keyId,
        asVariable ? "variable" : "secret",
        target.store,
      );
      return seeing
        .filter((repo) => onlyRepo === undefined || repo.toLowerCase() === onlyRepo.toLowerCase())
        .flatMap((repo) =>
          this.#read(target, `${target.owner}/${repo} reading ${targetLabel(target)}`, names, {
            owner: target.owner,
            repo,
            store: target.store,
          }),
        );
    }
    if (!this.github.hasRepo(target.owner, target.name)) return []; // moved or deleted by the test
    const job: JobContext =
      target.kind === "environment"
        ? { owner: target.owner, repo: target.name, environment: target.environment }
        : { owner: target.owner, repo: target.name, store: target.store };
    if (
      job.environment !== undefined &&
      !this.github
        .environmentNames(target.owner, target.name)
        .some((name) => name.toLowerCase() === job.environment?.toLowerCase())
    ) {
      return []; // the environment does not exist: no job reads it
    }
    return this.#read(target, targetLabel(target), names, job);
  }

  /** One reader's read; none when what it reads comes from a place the list marks Unmanaged. */
  #read(target: Target, reader: string, names: SecretNames, job: JobContext): TargetRead[] {
    const keyId =
      target.keyIdAs === "variable"
        ? this.github.effectiveVariable(
            {
              owner: job.owner,
              repo: job.repo,
              ...(job.environment ? { environment: job.environment } : {}),
            },
            names.keyId,
          )
        : this.github.effectiveSecret(job, names.keyId);
    if (keyId !== undefined && this.#unmanaged(keyId.scope)) return [];
    return [
      {
        target,
        reader,
        keyId: keyId?.value,
        keyIdScope: keyId?.scope,
        secretKey: this.github.effectiveSecret(job, names.secretKey)?.value,
      },
    ];
  }

  /** Whether the list marks this scope Unmanaged (it holds another key on purpose). */
  #unmanaged(scope: SecretScope): boolean {
    return this.listed.unmanaged.some((target) => {
      if (target.kind === "organization" || scope.kind === "organization") return false;
      const sameRepo =
        target.owner.toLowerCase() === scope.owner.toLowerCase() &&
        target.name.toLowerCase() === scope.repo.toLowerCase();
      if (!sameRepo) return false;
      if (target.kind === "environment") {
        return (
          scope.kind === "environment" && target.environment.toLowerCase() === scope.environment.toLowerCase()
        );
      }
      return scope.kind === "repository" && scope.store === target.store;
    });
  }
}

/** The store a repository or environment target's readers read (environments: Actions). */
function storeOf(target: RepositoryTarget | EnvironmentTarget): string {
  return target.kind === "environment" ? "actions" : target.store;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
