import { createHash } from "node:crypto";
import { type RepoRef, repoLabel, repoSlug } from "../domain/repo.ts";
import {
  type SecretNames,
  type SecretStore,
  type Target,
  targetKey,
  targetLabel,
  targetRepo,
} from "../domain/target.ts";
import { type AkmError, GitHubRateLimitError, toAkmError } from "../errors.ts";
import type { Clock, SecretInventory, SecretScope, UnseenRepositories } from "../ports.ts";
import { type CalledWorkflowCache, type RepositoryJob, repositoryJobs, runsIn } from "./workflow-jobs.ts";

/**
 * Shadowing: a copy of one of the key's names at a more specific scope than the one the rotation writes, which
 * jobs read instead of the rotated key (so they keep the old key, and break when it is retired).
 *
 * GitHub's precedence, per store, is the most specific scope first: environment over repository over
 * organization for Actions secrets (https://docs.github.com/en/actions/security-for-github-actions/security-guides/about-secrets#naming-your-secrets)
 * and variables (https://docs.github.com/en/actions/learn-github-actions/variables#configuration-variable-precedence);
 * repository over organization for Codespaces secrets (https://docs.github.com/en/codespaces/managing-codespaces-for-your-organization/managing-development-environment-secrets-for-your-repository-or-organization#naming-secrets).
 * Dependabot secrets have the same two scopes; GitHub's Dependabot pages do not spell the rule out, so the
 * check assumes the same one (a repository's Dependabot secret hides the organization's), which errs on the side
 * of reporting. Workflow runs Dependabot starts read Dependabot secrets, not Actions secrets:
 * https://docs.github.com/en/code-security/dependabot/troubleshooting-dependabot/troubleshooting-dependabot-on-github-actions
 * Environments exist for Actions only.
 *
 * A copy is not a finding when it is itself a listed target (the rotation writes it) or a listed `Unmanaged`
 * entry's (a copy that holds another key on purpose).
 */
export interface ShadowFinding {
  /** The repository, `owner/name` as listed (or as GitHub names it, for an organization target's repositories). */
  readonly repo: string;
  /** The environment holding the copy; undefined: the repository's own secret (or variable). */
  readonly environment?: string;
  readonly store: SecretStore;
  readonly kind: "secret" | "variable";
  /** The copy's name (upper case, as GitHub keeps it). */
  readonly name: string;
  /** `targetLabel` of the listed target whose value the copy hides there. */
  readonly hides: string;
  readonly readers: ShadowReaders;
}

/** Who reads the copy instead of what the rotation writes. */
export type ShadowReaders =
  /** Actions: the jobs that would keep the old key (`more`: how many were left out of `jobs`). */
  | { readonly kind: "jobs"; readonly jobs: readonly ShadowedJob[]; readonly more: number }
  /** Dependabot (its updates, and the workflow runs it starts) in that repository. */
  | { readonly kind: "dependabot" }
  /** Codespaces of that repository. */
  | { readonly kind: "codespaces" };

export interface ShadowedJob {
  /** `.github/workflows/deploy.yml: release` (see RepositoryJob). */
  readonly label: string;
  /** `true`: the job runs there; `false`: it may (its environment is computed at run time: `reason`). */
  readonly certain: boolean;
  readonly reason?: string;
}

/**
 * A check spread over several invocations (a long list at GitHub's pace), kept in the progress document like
 * preflight's `checked`: the repositories checked since `since`, and what they showed.
 */
export interface ShadowCheckProgress {
  /** When this round started (ISO 8601). */
  readonly since: string;
  /** `listDigest` of the list it checks: a changed list starts a new round. */
  readonly list: string;
  /** Slugs of the repositories checked. */
  readonly checked: readonly string[];
  readonly findings: readonly ShadowFinding[];
}

export interface ShadowCheckOptions {
  readonly targets: readonly Target[];
  /** `Unmanaged` entries: copies there hold another key on purpose. */
  readonly unmanaged: readonly Target[];
  /** The stack's names (pGitHubSecretName*), for targets without their own. */
  readonly defaultNames: SecretNames;
  readonly inventory: SecretInventory;
  readonly clock: Clock;
  /** An earlier invocation's progress; ignored when it checked another list or is older than `maxAgeMs`. */
  readonly progress?: ShadowCheckProgress | undefined;
  /** No repository but the first starts after this instant. */
  readonly deadline?: Date;
  /** No repository but the first starts once this call has sent this many requests. */
  readonly maxRequests?: number;
  /**
   * No repository starts while GitHub's primary rate limit has this many requests left or fewer: they are kept
   * for the rotation itself. Default 500 (of 5,000 an hour for a personal token).
   * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#primary-rate-limit-for-authenticated-users
   */
  readonly keepRemaining?: number;
  /** A round older than this starts over (default a day, as preflight's). */
  readonly maxAgeMs?: number;
  /** Reusable workflows of other repositories already read (shared by the calls of one invocation). */
  readonly calledWorkflows?: CalledWorkflowCache;
}

export interface RepoCheckFailure {
  readonly repo: RepoRef;
  readonly error: AkmError;
}

/**
 * An organization target whose secret reaches repositories the check may not see (the credential does not list
 * them): a copy there is not found.
 */
export interface UnseenOrganization extends UnseenRepositories {
  /** `targetLabel` of the organization target. */
  readonly target: string;
  readonly owner: string;
  /** How many of the repositories the secret reaches the check sees. */
  readonly seen: number;
}

export interface ShadowCheckResult {
  /** Organization targets whose secret reaches repositories the check may not see (see UnseenOrganization). */
  readonly unseen: readonly UnseenOrganization[];
  /** Every finding of the round so far (earlier invocations' included), in list order. */
  readonly findings: readonly ShadowFinding[];
  /** Repositories that could not be checked in this call (not counted as checked; the next call tries again). */
  readonly failures: readonly RepoCheckFailure[];
  /** What to save for the next invocation. */
  readonly progress: ShadowCheckProgress;
  /** Repositories the check covers, and how many of them are still to check. */
  readonly total: number;
  readonly remaining: number;
  /** Requests this call sent. */
  readonly requests: number;
  /** Why the call stopped with repositories left: its deadline, its request budget, or GitHub's rate limit. */
  readonly stoppedBy?: "deadline" | "requests" | "rate-limit";
  /** With `stoppedBy: "rate-limit"`: when GitHub's window starts over. */
  readonly resumeAt?: Date;
}

const DEFAULT_KEEP_REMAINING = 500;
const DAY_MS = 24 * 60 * 60_000;
/** A finding names at most this many jobs (the rest are counted), so the progress document stays small. */
export const MAX_JOBS_PER_FINDING = 20;

/** One pair the rotation writes, as a job in a repository reads it. */
interface Written {
  readonly store: SecretStore;
  readonly scope: "repository" | "organization";
  readonly kind: "secret" | "variable";
  readonly name: string;
  readonly target: Target;
}

/** What one repository's check needs: what is written for it, and which copies are accounted for. */
interface RepoPlan {
  readonly repo: RepoRef;
  readonly written: Written[];
  /** Copies that are the rotation's own or Unmanaged (`coverKey`). */
  readonly covered: Set<string>;
}

/**
 * Finds every listed repository where a copy of a name the rotation writes exists at a more specific scope
 * (an environment, or the repository's own secret under an organization target) and is neither a listed target
 * nor an Unmanaged entry's, with the jobs that would read it (see ShadowFinding). Resumable: repositories in
 * `progress.checked` are skipped, and the call stops starting repositories at the deadline, at `maxRequests`, or
 * when GitHub's primary rate limit runs low or is used up (GitHubRateLimitError: `resumeAt` is the reset GitHub
 * named); save `progress` and call again. Sequential (GitHub asks clients not
 * to send concurrent requests). Requests per repository: one for its environments (Actions), one per environment
 * or scope that could hold a copy and per kind (secret, variable), and, only for a repository with a finding,
 * its workflow files (one listing, one per file, one per reusable workflow of another repository, cached).
 * An organization target of visibility all or private costs one request per 100 of the organization's
 * repositories at each call (and one for the organization's counts, with a personal token); when the credential
 * may not list every repository it reaches, the result's `unseen` says so (the caller decides). Per-repository errors are returned in `failures`; an error listing an
 * organization's repositories throws.
 */
export async function checkShadowing(options: ShadowCheckOptions): Promise<ShadowCheckResult> {
  const { inventory, clock } = options;
  const startRequests = inventory.usage().requests;
  const { plans, unseen } = await plan(options);
  const list = listDigest(options.targets, options.unmanaged, options.defaultNames);
  const now = clock.now();
  const earlier = options.progress;
  const resumed =
    earlier !== undefined &&
    earlier.list === list &&
    now.getTime() - Date.parse(earlier.since) < (options.maxAgeMs ?? DAY_MS);
  const checked = new Set(resumed ? earlier.checked : []);
  const findings: ShadowFinding[] = resumed ? [...earlier.findings] : [];
  const failures: RepoCheckFailure[] = [];
  const cache = options.calledWorkflows ?? new Map();
  const keep = options.keepRemaining ?? DEFAULT_KEEP_REMAINING;
  let stoppedBy: ShadowCheckResult["stoppedBy"];
  /** GitHub's reset, when it answered that its primary rate limit is used up. */
  let limitedUntil: Date | undefined;
  let started = 0;

  for (const repoPlan of plans) {
    const slug = repoSlug(repoPlan.repo);
    if (checked.has(slug)) continue;
    if (started > 0) {
      const usage = inventory.usage();
      if (options.deadline !== undefined && clock.now().getTime() >= options.deadline.getTime())
        stoppedBy = "deadline";
      else if (options.maxRequests !== undefined && usage.requests - startRequests >= options.maxRequests)
        stoppedBy = "requests";
      else if (usage.remaining !== undefined && usage.remaining <= keep) stoppedBy = "rate-limit";
      if (stoppedBy !== undefined) break;
    }
    started++;
    try {
      findings.push(...(await checkRepository(repoPlan, inventory, cache)));
      checked.add(slug);
    } catch (error) {
      if (error instanceof GitHubRateLimitError) {
        // GitHub's primary rate limit ran out (other tools share the token): not this repository's fault. No
        // request before the reset GitHub named; the repository is checked again then.
        // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
        stoppedBy = "rate-limit";
        limitedUntil = error.resetAt;
        break;
      }
      const failure = toAkmError(
        error,
        `Looking for copies of the key's secrets in ${repoLabel(repoPlan.repo)}`,
      );
      failures.push({ repo: repoPlan.repo, error: failure });
      // A transient fault (an outage, a rate limit the client gave up waiting for) stops the call: the next
      // invocation resumes where this one stopped.
      if (failure.fault === "transient") break;
    }
  }

  const order = new Map(plans.map((p, index) => [repoSlug(p.repo), index]));
  const sorted = findings
    .map((finding, index) => ({ finding, index }))
    .sort(
      (a, b) =>
        (order.get(a.finding.repo.toLowerCase()) ?? 0) - (order.get(b.finding.repo.toLowerCase()) ?? 0) ||
        a.index - b.index,
    )
    .map(({ finding }) => finding);
  const remaining = plans.filter((p) => !checked.has(repoSlug(p.repo))).length;
  const usage = inventory.usage();
  const resumeAt = limitedUntil ?? usage.resetAt;
  return {
    unseen,
    findings: sorted,
    failures,
    progress: {
      since: resumed ? earlier.since : now.toISOString(),
      list,
      checked: plans.map((p) => repoSlug(p.repo)).filter((slug) => checked.has(slug)),
      findings: sorted,
    },
    total: plans.length,
    remaining,
    requests: usage.requests - startRequests,
    ...(remaining > 0 && stoppedBy !== undefined ? { stoppedBy } : {}),
    ...(remaining > 0 && stoppedBy === "rate-limit" && resumeAt !== undefined ? { resumeAt } : {}),
  };
}

/**
 * Identifies what a round checks: every target and Unmanaged entry with the names it uses. A progress saved for
 * another list is not resumed. Short hex (SHA-256, first 16 characters): it only tells lists apart.
 */
export function listDigest(
  targets: readonly Target[],
  unmanaged: readonly Target[],
  defaultNames: SecretNames,
): string {
  const describe = (target: Target) => {
    const names = target.secretNames ?? defaultNames;
    const extra =
      target.kind === "organization" ? `${target.visibility}:${target.selectedRepositories.join(",")}` : "";
    return `${targetKey(target)}|${names.keyId}|${names.secretKey}|${target.keyIdAs ?? "secret"}|${extra}`.toLowerCase();
  };
  const text = JSON.stringify({
    targets: targets.map(describe).sort(),
    unmanaged: unmanaged.map(describe).sort(),
  });
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** One line per finding, for summaries: where the copy is, what it hides, and who reads it. */
export function describeFinding(finding: ShadowFinding): string {
  const where =
    finding.environment === undefined
      ? `${finding.repo} has its own ${storeName(finding.store)} ${finding.kind} ${finding.name}`
      : `${finding.repo} environment ${finding.environment} has its own ${finding.kind} ${finding.name}`;
  return `${where}, which hides ${finding.hides} from ${readersText(finding)}.`;
}

function readersText(finding: ShadowFinding): string {
  const readers = finding.readers;
  switch (readers.kind) {
    case "dependabot":
      return "Dependabot and the workflow runs Dependabot starts";
    case "codespaces":
      return `the codespaces of ${finding.repo}`;
    case "jobs": {
      if (readers.jobs.length === 0) return "no job today (no workflow runs there)";
      const certain = readers.jobs.filter((job) => job.certain).map((job) => job.label);
      const maybe = readers.jobs
        .filter((job) => !job.certain)
        .map((job) => (job.reason === undefined ? job.label : `${job.label} (${job.reason})`));
      const parts = [
        ...(certain.length > 0 ? [`the jobs ${certain.join(", ")}`] : []),
        ...(maybe.length > 0 ? [`maybe ${maybe.join(", ")}`] : []),
      ];
      const more = readers.more > 0 ? ` and ${readers.more} more job${readers.more === 1 ? "" : "s"}` : "";
      return `${parts.join("; ")}${more}`;
    }
  }
}

function storeName(store: SecretStore): string {
  return { actions: "Actions", dependabot: "Dependabot", codespaces: "Codespaces" }[store];
}

/** The pairs a target writes: the key ID (a secret, or an Actions variable) and the secret key. */
function pairsOf(target: Target, defaults: SecretNames): { kind: "secret" | "variable"; name: string }[] {
  const names = target.secretNames ?? defaults;
  return [
    { kind: target.keyIdAs === "variable" ? "variable" : "secret", name: names.keyId.toUpperCase() },
    { kind: "secret", name: names.secretKey.toUpperCase() },
  ];
}

/** A copy's identity within one repository: `environment|prod|secret|NAME` or `repository|actions|secret|NAME`. */
function coverKey(
  place: { environment: string } | { store: SecretStore },
  kind: "secret" | "variable",
  name: string,
): string {
  return "environment" in place
    ? `environment|${place.environment.toLowerCase()}|${kind}|${name.toUpperCase()}`
    : `repository|${place.store}|${kind}|${name.toUpperCase()}`;
}

/**
 * The repositories to check, in list order (an organization target's after the listed ones before it), and the
 * organization targets whose secret reaches repositories the inventory may not list.
 */
async function plan(
  options: ShadowCheckOptions,
): Promise<{ plans: RepoPlan[]; unseen: UnseenOrganization[] }> {
  const unseen: UnseenOrganization[] = [];
  const plans = new Map<string, RepoPlan>();
  const planFor = (repo: RepoRef): RepoPlan => {
    const slug = repoSlug(repo);
    let found = plans.get(slug);
    if (found === undefined) {
      found = { repo, written: [], covered: new Set() };
      plans.set(slug, found);
    }
    return found;
  };
  const cover = (target: Target, kinds: "written" | "both") => {
    const repo = targetRepo(target);
    if (repo === undefined) return;
    const place =
      target.kind === "environment"
        ? { environment: target.environment }
        : { store: target.kind === "repository" ? target.store : "actions" };
    for (const pair of pairsOf(target, options.defaultNames)) {
      const kindsCovered = kinds === "both" ? (["secret", "variable"] as const) : [pair.kind];
      for (const kind of kindsCovered) planFor(repo).covered.add(coverKey(place, kind, pair.name));
    }
  };

  for (const target of options.targets) {
    if (target.kind === "organization") {
      const seeing = await options.inventory.repositoriesSeeing(target);
      if (seeing.unseen !== undefined) {
        unseen.push({
          ...seeing.unseen,
          target: targetLabel(target),
          owner: target.owner,
          seen: seeing.repos.length,
        });
      }
      for (const repo of seeing.repos) {
        for (const pair of pairsOf(target, options.defaultNames)) {
          planFor(repo).written.push({ store: target.store, scope: "organization", ...pair, target });
        }
      }
      continue;
    }
    cover(target, "written");
    if (target.kind === "repository") {
      const repo = { owner: target.owner, name: target.name };
      for (const pair of pairsOf(target, options.defaultNames)) {
        planFor(repo).written.push({ store: target.store, scope: "repository", ...pair, target });
      }
    }
  }
  for (const entry of options.unmanaged) cover(entry, "both");
  // Only repositories something is written for can hold a copy that hides it (environment targets hide nothing:
  // no scope is more specific).
  return { plans: [...plans.values()].filter((p) => p.written.length > 0), unseen };
}

/** The copies in one repository that hide what is written for it. */
async function checkRepository(
  repoPlan: RepoPlan,
  inventory: SecretInventory,
  cache: CalledWorkflowCache,
): Promise<ShadowFinding[]> {
  const { repo, written, covered } = repoPlan;
  const found: { finding: Omit<ShadowFinding, "readers">; written: Written }[] = [];
  /** Environments known to hold their own copy of a pair (`kind|NAME`): listed, Unmanaged, or found. */
  const environmentCopies = new Map<string, Set<string>>();

  const actions = mostSpecificFirst(written.filter((w) => w.store === "actions"));
  if (actions.length > 0) {
    for (const environment of await inventory.environments(repo)) {
      const copies = new Set<string>();
      environmentCopies.set(environment.toLowerCase(), copies);
      const open: Written[] = [];
      for (const w of actions) {
        if (covered.has(coverKey({ environment }, w.kind, w.name))) copies.add(`${w.kind}|${w.name}`);
        else open.push(w);
      }
      const scope: SecretScope = { kind: "environment", repo, environment };
      for (const w of await present(inventory, scope, open)) {
        copies.add(`${w.kind}|${w.name}`);
        found.push({ finding: findingOf(repo, w, environment), written: w });
      }
    }
  }

  const stores = [...new Set(written.filter((w) => w.scope === "organization").map((w) => w.store))];
  for (const store of stores) {
    const open = mostSpecificFirst(
      written.filter(
        (w) =>
          w.store === store &&
          w.scope === "organization" &&
          !covered.has(coverKey({ store }, w.kind, w.name)),
      ),
    );
    for (const w of await present(inventory, { kind: "repository", repo, store }, open)) {
      found.push({ finding: findingOf(repo, w, undefined), written: w });
    }
  }
  if (found.length === 0) return [];

  let jobs: RepositoryJob[] | undefined;
  const findings: ShadowFinding[] = [];
  for (const { finding, written: w } of found) {
    if (w.store !== "actions") {
      findings.push({ ...finding, readers: { kind: w.store } });
      continue;
    }
    jobs ??= await repositoryJobs(repo, inventory, cache);
    const readers = jobs
      .map((job) => readerOf(job, finding.environment, `${w.kind}|${w.name}`, environmentCopies))
      .filter((reader): reader is ShadowedJob => reader !== undefined);
    findings.push({
      ...finding,
      readers: {
        kind: "jobs",
        jobs: readers.slice(0, MAX_JOBS_PER_FINDING),
        more: Math.max(0, readers.length - MAX_JOBS_PER_FINDING),
      },
    });
  }
  return findings;
}

/** One entry per pair (`kind|NAME`), the repository-scope target first: it is what a job would read otherwise. */
function mostSpecificFirst(written: readonly Written[]): Written[] {
  const byPair = new Map<string, Written>();
  for (const w of written) {
    const key = `${w.kind}|${w.name}`;
    const seen = byPair.get(key);
    if (seen === undefined || (seen.scope === "organization" && w.scope === "repository")) byPair.set(key, w);
  }
  return [...byPair.values()];
}

/** Which of `open` exist at `scope`: one request per kind asked about. */
async function present(inventory: SecretInventory, scope: SecretScope, open: readonly Written[]) {
  const hits: Written[] = [];
  for (const kind of ["secret", "variable"] as const) {
    const wanted = open.filter((w) => w.kind === kind);
    if (wanted.length === 0) continue;
    const names = new Set((await inventory.names(scope, kind)).map((name) => name.toUpperCase()));
    hits.push(...wanted.filter((w) => names.has(w.name)));
  }
  return hits;
}

function findingOf(
  repo: RepoRef,
  w: Written,
  environment: string | undefined,
): Omit<ShadowFinding, "readers"> {
  return {
    repo: repoLabel(repo),
    ...(environment === undefined ? {} : { environment }),
    store: w.store,
    kind: w.kind,
    name: w.name,
    hides: targetLabel(w.target),
  };
}

/**
 * Whether a job reads the copy: one in an environment copy reads it when it runs in that environment; one in the
 * repository's own secrets when the job runs outside any environment or in one without its own copy.
 */
function readerOf(
  job: RepositoryJob,
  environment: string | undefined,
  pair: string,
  environmentCopies: ReadonlyMap<string, ReadonlySet<string>>,
): ShadowedJob | undefined {
  if (job.environment.kind === "unknown") {
    return { label: job.label, certain: false, reason: job.environment.reason };
  }
  if (environment !== undefined) {
    const runs = runsIn(job, environment);
    return runs === "no" ? undefined : { label: job.label, certain: true };
  }
  if (job.environment.kind === "none") return { label: job.label, certain: true };
  const readsRepository = job.environment.names.some(
    (name) => !environmentCopies.get(name.toLowerCase())?.has(pair),
  );
  return readsRepository ? { label: job.label, certain: true } : undefined;
}

/**
 * What the summary says about an organization target whose secret reaches repositories the check may not see:
 * how many it saw, that the others were not looked at, why, and the fix.
 */
export function describeUnseen(unseen: UnseenOrganization): string {
  return `${unseenProblem(unseen)} ${unseen.fix}`;
}

/** describeUnseen without the fix (an error's message; its fix is separate). */
export function unseenProblem(unseen: UnseenOrganization): string {
  const repositories = (count: number) => `${count} ${count === 1 ? "repository" : "repositories"}`;
  const counted = unseen.total === undefined ? "" : ` of the ${repositories(unseen.total)} it reaches`;
  const head = unseen.certain
    ? `The organization secret ${unseen.target} reaches repositories the check for copies of the key's secrets cannot see: it looked at ${repositories(unseen.seen)}${counted}, and not at the others.`
    : `The check for copies of the key's secrets cannot confirm it saw every repository the organization secret ${unseen.target} reaches: it looked at ${repositories(unseen.seen)} of ${unseen.owner}.`;
  return `${head} ${unseen.reason} A copy of the key's secrets in a repository it did not look at would keep that repository's jobs on the old key, and they would break when it is retired.`;
}
