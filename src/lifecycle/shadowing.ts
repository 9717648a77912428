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
  /** Every finding of the round so far: those of the repositories checked, and of `partial`'s environments checked. */
  readonly findings: readonly ShadowFinding[];
  /** The repository whose environments a call stopped in the middle of (not in `checked`); the next call goes on. */
  readonly partial?: EnvironmentCursor | undefined;
}

/**
 * How far the check got in a repository with more environments than one call could check: how many of them, in
 * order of their names (GitHub ignores case in them), and a digest of those names. GitHub does not document the
 * order of its environment listing (https://docs.github.com/en/rest/deployments/environments#list-environments:
 * paged, nothing said about order), and the list may change between calls: a call continues after the first
 * `environments` names only when they are still the same ones (`environmentsDigest`); otherwise (one was added or
 * deleted among them) it checks the repository from its first environment again and forgets the findings of the
 * part before. So a new environment is never skipped: it sorts after the cursor and is checked there, or changes the
 * digest. A few dozen bytes, whatever the number of environments.
 */
export interface EnvironmentCursor {
  /** The repository's slug (`owner/name`, lower case). */
  readonly repo: string;
  /** How many of its environments (in order of their names) were checked. */
  readonly environments: number;
  /** `environmentsDigest` of those environments' names. */
  readonly digest: string;
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
  /**
   * Nothing but the call's first step starts after this instant; a step is a repository, or one environment of a
   * repository (and the repository's own scopes at its end), so a call always makes progress.
   */
  readonly deadline?: Date;
  /** Nothing but the first step starts once this call has sent this many requests. */
  readonly maxRequests?: number;
  /**
   * No step but the first starts while GitHub's primary rate limit has this many requests left or fewer: they are
   * kept for the rotation itself. Default 500 (of 5,000 an hour for a personal token).
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
  /** Repositories the check covers, and how many of them are still to check (a repository checked in part, too). */
  readonly total: number;
  readonly remaining: number;
  /**
   * The repository the call stopped in the middle of (`owner/name` as listed), how many of its environments are
   * checked, and how many it has.
   */
  readonly inRepository?: { readonly repo: string; readonly checked: number; readonly environments: number };
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
 * `progress.checked` are skipped, a repository in `progress.partial` goes on after the environments checked before
 * (see EnvironmentCursor), and the call stops starting steps (a repository, or one environment of one) at the
 * deadline, at `maxRequests`, or when GitHub's primary rate limit runs low or is used up (GitHubRateLimitError:
 * `resumeAt` is the reset GitHub named); save `progress` and call again. Sequential (GitHub asks clients not
 * to send concurrent requests). Requests per repository: one per 100 of its environments to list them (Actions,
 * at every call that checks it), one per environment or scope that could hold a copy and per kind (secret,
 * variable), and, only for a repository with a finding, its workflow files (one listing, one per file, one per
 * reusable workflow of another repository, cached), at each call that finds one there.
 * An organization target of visibility all or private costs one request per 100 of the organization's
 * repositories at each call (and one for the organization's counts, with a personal token); when the credential
 * may not list every repository it reaches, the result's `unseen` says so (the caller decides). Per-repository
 * errors are returned in `failures` (the repository is checked again by a later call, from where the last call
 * that finished a part of it stopped); an error listing an organization's repositories throws.
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
  /** Each repository's place in the list, by slug. */
  const order = new Map(plans.map((p, index) => [repoSlug(p.repo), index]));
  let partial = resumed ? earlier.partial : undefined;
  // An organization secret's repositories can change within a round: one no longer reached is not gone on with.
  if (partial !== undefined && (checked.has(partial.repo) || !order.has(partial.repo))) partial = undefined;
  let findings: ShadowFinding[] = resumed ? [...earlier.findings] : [];
  const failures: RepoCheckFailure[] = [];
  const cache = options.calledWorkflows ?? new Map();
  const keep = options.keepRemaining ?? DEFAULT_KEEP_REMAINING;
  let stoppedBy: ShadowCheckResult["stoppedBy"];
  /** GitHub's reset, when it answered that its primary rate limit is used up. */
  let limitedUntil: Date | undefined;
  let inRepository: ShadowCheckResult["inRepository"];
  let started = 0;
  /** Whether the next step must not start (and why, in `stoppedBy`). */
  const mustStop = (): boolean => {
    const usage = inventory.usage();
    if (options.deadline !== undefined && clock.now().getTime() >= options.deadline.getTime())
      stoppedBy = "deadline";
    else if (options.maxRequests !== undefined && usage.requests - startRequests >= options.maxRequests)
      stoppedBy = "requests";
    else if (usage.remaining !== undefined && usage.remaining <= keep) stoppedBy = "rate-limit";
    return stoppedBy !== undefined;
  };

  for (const repoPlan of plans) {
    const slug = repoSlug(repoPlan.repo);
    if (checked.has(slug)) continue;
    if (started > 0 && mustStop()) break;
    started++;
    const resume = partial?.repo === slug ? partial : undefined;
    const part: RepoPart = {
      findings: resume === undefined ? [] : findings.filter((f) => f.repo.toLowerCase() === slug),
      cursor: resume,
      environments: 0,
    };
    let failed: unknown;
    let ended: "done" | "stopped" | undefined;
    try {
      ended = await checkRepository(repoPlan, inventory, cache, part, mustStop);
    } catch (error) {
      failed = error;
    }
    // What the environments checked showed is kept, even when a later one failed: a later call goes on from there.
    findings = [...findings.filter((f) => f.repo.toLowerCase() !== slug), ...part.findings];
    if (ended === "done") {
      checked.add(slug);
      if (resume !== undefined) partial = undefined;
      continue;
    }
    if (part.cursor !== undefined) partial = part.cursor;
    else if (resume !== undefined) partial = undefined;
    if (ended === "stopped") {
      inRepository = {
        repo: repoLabel(repoPlan.repo),
        checked: part.cursor?.environments ?? 0,
        environments: part.environments,
      };
      break;
    }
    if (failed instanceof GitHubRateLimitError) {
      // GitHub's primary rate limit ran out (other tools share the token): not this repository's fault. No
      // request before the reset GitHub named; the repository is checked again then (after the environments
      // checked before the refusal).
      // https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
      stoppedBy = "rate-limit";
      limitedUntil = failed.resetAt;
      break;
    }
    const failure = toAkmError(
      failed,
      `Looking for copies of the key's secrets in ${repoLabel(repoPlan.repo)}`,
    );
    failures.push({ repo: repoPlan.repo, error: failure });
    // A transient fault (an outage, a rate limit the client gave up waiting for) stops the call: the next
    // invocation resumes where this one stopped.
    if (failure.fault === "transient") break;
  }

  // Only the findings of repositories checked, and of the part of `partial` checked, belong to the round: a
  // repository checked in part whose place `partial` no longer keeps is checked from its start again.
  const kept = findings.filter((f) => {
    const slug = f.repo.toLowerCase();
    return order.has(slug) && (checked.has(slug) || slug === partial?.repo);
  });
  const sorted = kept
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
      ...(partial === undefined ? {} : { partial }),
    },
    total: plans.length,
    remaining,
    ...(inRepository === undefined ? {} : { inRepository }),
    requests: usage.requests - startRequests,
    ...(remaining > 0 && stoppedBy !== undefined ? { stoppedBy } : {}),
    ...(remaining > 0 && stoppedBy === "rate-limit" && resumeAt !== undefined ? { resumeAt } : {}),
  };
}

/**
 * Tells one list of environment names from another: SHA-256 of the names exactly as GitHub lists them, first 16
 * hex characters. EnvironmentCursor keeps it for the environments checked. Not ignoring case: JavaScript's lower
 * case is not GitHub's (the Kelvin sign "\u212A" becomes "k"), so two names only JavaScript takes as one must
 * not make a changed list look the same; a name whose case changed only starts the repository over.
 */
export function environmentsDigest(names: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(names)).digest("hex").slice(0, 16);
}

/**
 * Environment names in the order the check goes through them: by name ignoring case, then (names equal in lower
 * case) exactly, by code unit — one order whatever order GitHub lists them in, so a call goes on after the same
 * environments the call before checked.
 */
function byName(names: readonly string[]): string[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...names].sort((a, b) => compare(a.toLowerCase(), b.toLowerCase()) || compare(a, b));
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

/** One repository's check as far as it went, across calls (EnvironmentCursor). */
interface RepoPart {
  /** The repository's findings so far: those of the environments checked before (earlier calls') included. */
  findings: ShadowFinding[];
  /** Where the environments checked so far end (undefined: none checked yet). */
  cursor: EnvironmentCursor | undefined;
  /** How many environments the repository has (known once listed). */
  environments: number;
}

/**
 * The copies in one repository that hide what is written for it, added to `part` as each environment is checked:
 * environment by environment in order of their names (from `part.cursor`'s, when the environments before it are
 * still the same), then the repository's own scopes. Before each step but the first of this call it asks
 * `mustStop`, and answers "stopped" (with `part.cursor` where to go on) when it says so.
 */
async function checkRepository(
  repoPlan: RepoPlan,
  inventory: SecretInventory,
  cache: CalledWorkflowCache,
  part: RepoPart,
  mustStop: () => boolean,
): Promise<"done" | "stopped"> {
  const { repo, written, covered } = repoPlan;
  const slug = repoSlug(repo);
  /** Environments known to hold their own copy of a pair (`kind|NAME`): listed, Unmanaged, or found. */
  const environmentCopies = new Map<string, Set<string>>();
  let jobs: RepositoryJob[] | undefined;
  const withReaders = async (finding: Omit<ShadowFinding, "readers">, w: Written): Promise<ShadowFinding> => {
    if (w.store !== "actions") return { ...finding, readers: { kind: w.store } };
    jobs ??= await repositoryJobs(repo, inventory, cache);
    const readers = jobs
      .map((job) => readerOf(job, finding.environment, `${w.kind}|${w.name}`, environmentCopies))
      .filter((reader): reader is ShadowedJob => reader !== undefined);
    return {
      ...finding,
      readers: {
        kind: "jobs",
        jobs: readers.slice(0, MAX_JOBS_PER_FINDING),
        more: Math.max(0, readers.length - MAX_JOBS_PER_FINDING),
      },
    };
  };
  /** Steps this call took in the repository: every one but the first asks `mustStop` first. */
  let steps = 0;
  const mayStep = () => steps++ === 0 || !mustStop();

  const actions = mostSpecificFirst(written.filter((w) => w.store === "actions"));
  if (actions.length > 0) {
    const environments = byName(await inventory.environments(repo));
    part.environments = environments.length;
    const resume = part.cursor;
    const goesOn =
      resume !== undefined &&
      resume.environments <= environments.length &&
      environmentsDigest(environments.slice(0, resume.environments)) === resume.digest;
    if (!goesOn) {
      // An environment was added or deleted among those checked before (or nothing was): from the first again.
      part.cursor = undefined;
      part.findings = [];
    }
    const from = goesOn ? resume.environments : 0;
    for (const [index, environment] of environments.entries()) {
      const copies = new Set<string>();
      environmentCopies.set(environment.toLowerCase(), copies);
      const open: Written[] = [];
      for (const w of actions) {
        if (covered.has(coverKey({ environment }, w.kind, w.name))) copies.add(`${w.kind}|${w.name}`);
        else open.push(w);
      }
      if (index < from) {
        // Checked by an earlier call: its copies are those it found.
        for (const finding of part.findings) {
          if (finding.environment?.toLowerCase() === environment.toLowerCase()) {
            copies.add(`${finding.kind}|${finding.name}`);
          }
        }
        continue;
      }
      if (!mayStep()) return "stopped";
      const scope: SecretScope = { kind: "environment", repo, environment };
      for (const w of await present(inventory, scope, open)) {
        copies.add(`${w.kind}|${w.name}`);
        part.findings.push(await withReaders(findingOf(repo, w, environment), w));
      }
      part.cursor = {
        repo: slug,
        environments: index + 1,
        digest: environmentsDigest(environments.slice(0, index + 1)),
      };
    }
  }

  const stores = [...new Set(written.filter((w) => w.scope === "organization").map((w) => w.store))];
  if (stores.length > 0 && !mayStep()) return "stopped";
  // The repository's own scopes are one step, taken whole: what an earlier call found there before it failed is
  // found again now.
  part.findings = part.findings.filter((finding) => finding.environment !== undefined);
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
      part.findings.push(await withReaders(findingOf(repo, w, undefined), w));
    }
  }
  return "done";
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
