/**
 * Where N repositories' workflows read the key from, for the bench's side-by-side of per-repository secrets,
 * one organization secret and a mix of both: the places that hold the key (and that the list names, so the
 * rotation writes them), the jobs whose reads CI downtime is measured on, and the list (repos.json) that names
 * them. Pure data: the stack (stack.ts) arranges the emulator from it, the scenario measures it.
 *
 * A job reads a secret by GitHub's precedence — environment over repository over organization, the organization's
 * only if the repository sees it:
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions
 */
import type { RequiredRequests } from "./bounds.ts";

/** How the key reaches the N repositories' workflows. */
export type LayoutKind = "repository" | "organization" | "mixed";

export const LAYOUT_KINDS: readonly LayoutKind[] = ["repository", "organization", "mixed"];

/** One place that holds the key and is listed (so the rotation writes it). */
export type LayoutPlace =
  | { readonly kind: "repository"; readonly repo: string }
  | { readonly kind: "environment"; readonly repo: string; readonly environment: string }
  /** The organization's Actions secret, visibility `selected`, seen by these repositories. */
  | { readonly kind: "organization"; readonly selected: readonly string[] };

/** A workflow job of a repository, optionally running in an environment (`environment:`), reading Actions secrets. */
export interface LayoutJob {
  readonly repo: string;
  readonly environment?: string;
}

export interface SecretLayout {
  readonly kind: LayoutKind;
  /** The owner (an organization) of every repository. */
  readonly owner: string;
  /** Names of the N repositories, in order. */
  readonly repos: readonly string[];
  readonly places: readonly LayoutPlace[];
  /** One job per repository, plus one in the environment for each repository that has one. */
  readonly jobs: readonly LayoutJob[];
  /** The list's entries (repos.json), in the order of `places`. */
  readonly entries: readonly Readonly<Record<string, unknown>>[];
}

/** The environment the mixed layout's repositories with an environment copy use. */
export const LAYOUT_ENVIRONMENT = "production";

/**
 * The mixed layout's shares: a tenth of the repositories keep their own repository secrets (not shared with the
 * organization secret), the rest read the organization secret, and one in twenty of those deploys from an
 * environment that holds its own copy.
 */
export const MIXED_SHARES = { ownRepositorySecrets: 1 / 10, environmentCopies: 1 / 20 } as const;

/** Name of the i-th repository (1-based). */
export function layoutRepoName(i: number): string {
  return `repo-${i}`;
}

/**
 * The layout of `kind` over `repos` repositories of `owner`:
 * - `repository`: every repository's own Actions secrets (what a version 1 list names);
 * - `organization`: one organization Actions secret with visibility `selected`, the N repositories selected;
 * - `mixed`: see MIXED_SHARES — the organization secret selects the repositories without their own copy, and
 *   environment copies are listed too (an unlisted copy would keep those jobs on the old key).
 */
export function secretLayout(kind: LayoutKind, repos: number, owner: string): SecretLayout {
  if (!(Number.isInteger(repos) && repos >= 1))
    throw new Error(`bench: N must be a whole number ≥ 1, got ${repos}`);
  const names = Array.from({ length: repos }, (_, i) => layoutRepoName(i + 1));
  const places: LayoutPlace[] = [];
  const jobs: LayoutJob[] = names.map((repo) => ({ repo }));
  switch (kind) {
    case "repository":
      places.push(...names.map((repo) => ({ kind: "repository" as const, repo })));
      break;
    case "organization":
      places.push({ kind: "organization", selected: names });
      break;
    case "mixed": {
      const own = Math.floor(repos * MIXED_SHARES.ownRepositorySecrets);
      const shared = names.slice(0, repos - own);
      const every = Math.round(1 / MIXED_SHARES.environmentCopies);
      const withEnvironment = shared.filter((_, i) => (i + 1) % every === 0);
      places.push({ kind: "organization", selected: shared });
      places.push(...names.slice(repos - own).map((repo) => ({ kind: "repository" as const, repo })));
      for (const repo of withEnvironment) {
        places.push({ kind: "environment", repo, environment: LAYOUT_ENVIRONMENT });
        jobs.push({ repo, environment: LAYOUT_ENVIRONMENT });
      }
      break;
    }
  }
  return { kind, owner, repos: names, places, jobs, entries: places.map((place) => listEntry(place, owner)) };
}

/** The repos.json entry (version 2) that names a place. */
function listEntry(place: LayoutPlace, owner: string): Record<string, unknown> {
  switch (place.kind) {
    case "repository":
      return { Owner: owner, Name: place.repo };
    case "environment":
      return { Type: "environment", Owner: owner, Name: place.repo, Environment: place.environment };
    case "organization":
      return {
        Type: "organization",
        Owner: owner,
        Visibility: "selected",
        Repositories: [...place.selected],
      };
  }
}

/** The list's document: version 1 when every place is a repository's (the original tool's format), else 2. */
export function layoutListDocument(layout: SecretLayout): Record<string, unknown> {
  return layout.places.every((place) => place.kind === "repository")
    ? { Repos: layout.entries }
    : { Version: 2, Repos: layout.entries };
}

/**
 * What a rotation must send GitHub for a layout: two writes per place; the selected repositories' names (resolved
 * 100 a read); and the shadowing check's reads — per repository whose jobs read the key, its environments' listing,
 * one per environment, and its own secrets' listing when it reads the organization secret.
 */
export function layoutWork(layout: SecretLayout): RequiredRequests {
  const selected = new Set(
    layout.places.flatMap((place) => (place.kind === "organization" ? place.selected : [])),
  );
  const environments = layout.places.filter((place) => place.kind === "environment").length;
  return {
    writes: 2 * layout.places.length,
    selectedRepositories: selected.size,
    shadowReads: layout.repos.length + selected.size + environments,
  };
}

/** Short label of a layout for tables. */
export function layoutLabel(kind: LayoutKind): string {
  switch (kind) {
    case "repository":
      return "per-repository secrets";
    case "organization":
      return "one organization secret (selected)";
    case "mixed":
      return "mixed";
  }
}
