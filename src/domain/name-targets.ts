import { type Target, targetLabel } from "./target.ts";

/**
 * Names targets for a message, at most `max` of them: "acme/app, organization acme (Actions) and 9,998 more" —
 * messages stay short at any list size.
 */
export function nameTargets(targets: readonly Target[], max = 10): string {
  const shown = targets.slice(0, max).map(targetLabel).join(", ");
  const more = targets.length - max;
  return more > 0 ? `${shown} and ${more.toLocaleString("en-US")} more` : shown;
}

/** The word messages use for what a list names. */
export interface TargetNoun {
  readonly one: string;
  readonly many: string;
}

export const REPOSITORY_NOUN: TargetNoun = { one: "repository", many: "repositories" };
const TARGET_NOUN: TargetNoun = { one: "target", many: "targets" };

/**
 * "repository" while every target is a repository's Actions secrets (every v1 list, whose messages stay as they
 * were), else "target": an environment or an organization secret is not a repository.
 */
export function targetNoun(targets: readonly Target[]): TargetNoun {
  return targets.every((t) => t.kind === "repository" && t.store === "actions")
    ? REPOSITORY_NOUN
    : TARGET_NOUN;
}

/** "1 repository", "3 targets". */
export function countOf(count: number, noun: TargetNoun): string {
  return `${count} ${count === 1 ? noun.one : noun.many}`;
}
