import type { RepositoryFinder, RepositoryMatches } from "../../src/ports.ts";

/** One repository of the fake organization. */
export interface FakeRepo {
  readonly name: string;
  readonly id: number;
  readonly topics?: readonly string[];
  readonly properties?: Readonly<Record<string, string | readonly string[]>>;
  readonly archived?: boolean;
}

/**
 * A RepositoryFinder over repositories in memory (every organization has the same ones, or `repos` changed
 * between calls); `calls` records every request, e.g. `octo topic aws`.
 */
export function fakeRepositoryFinder(repos: FakeRepo[]): RepositoryFinder & {
  readonly calls: string[];
  readonly repos: FakeRepo[];
} {
  const calls: string[] = [];
  const matches = (found: readonly FakeRepo[]): RepositoryMatches => ({
    repositories: found
      .filter((r) => !r.archived)
      .map(({ name, id }) => ({ name, id }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    archived: found.filter((r) => r.archived).map((r) => r.name),
  });
  return {
    calls,
    repos,
    async withTopic(org, topic) {
      calls.push(`${org} topic ${topic}`);
      return matches(repos.filter((r) => r.topics?.includes(topic)));
    },
    async withProperty(org, property, value) {
      calls.push(`${org} property ${property}=${value}`);
      return matches(
        repos.filter((r) => {
          const v = r.properties?.[property];
          return typeof v === "string" ? v === value : (v?.includes(value) ?? false);
        }),
      );
    },
  };
}
