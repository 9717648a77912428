import { NAME_PATTERN } from "../config/list-entry-schema.ts";
import { GitHubAccessError } from "../errors.ts";
import type { FoundRepository, RepositoryFinder, RepositoryMatches } from "../ports.ts";
import type { GitHubClient } from "./client.ts";
import { type GitHubCall, hasStatus, isHttpFailure, toGitHubAccessError } from "./to-github-access-error.ts";

export interface GitHubRepositoryFinderOptions {
  /** The client for an organization (a personal token: the same client for every owner). */
  readonly clientFor: (owner: string) => Promise<GitHubClient>;
  /** Display name of the Secrets Manager secret holding the token, named in fixes. */
  readonly tokenSecretName: string;
}

/** GitHub's largest page for both listings. https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api */
const PAGE = 100;

/** One answer of a listing: a page of items, and GitHub's `link` header to the next. */
interface Page {
  readonly data: unknown;
  readonly headers: { readonly link?: string | undefined };
}

/** What the organization listing tells about one repository. */
interface ListedRepository extends FoundRepository {
  readonly archived: boolean;
  readonly topics: readonly string[];
}

/** One repository's custom property values (GitHub's `org-repo-custom-property-values`). */
interface PropertyValues {
  readonly id: number;
  readonly name: string;
  readonly properties: readonly { readonly name: string; readonly value: unknown }[];
}

/**
 * Dynamic selection's view of GitHub, through the REST API: an organization's repositories by topic or custom
 * property. It lists rather than searches: the search API returns at most 1,000 results for a query
 * (https://docs.github.com/en/rest/search/search#about-search), and an organization may have ten times that.
 *
 * - Topics: `GET /orgs/{org}/repos` returns each repository's `topics` and `archived`
 *   (https://docs.github.com/en/rest/repos/repos#list-organization-repositories); GitHub saves topics in lowercase
 *   (https://docs.github.com/en/rest/repos/repos#replace-all-repository-topics), and the topic is compared so.
 * - Custom properties: `GET /orgs/{org}/properties/values` returns every repository's values, a string or, for a
 *   multi-select property, an array of strings
 *   (https://docs.github.com/en/rest/orgs/custom-properties#list-custom-property-values-for-organization-repositories).
 *   It says nothing about archiving, so the repositories' listing is read too and joined by repository ID. Values
 *   compare exactly; property names ignoring case.
 *
 * Archived repositories are left out (and reported): GitHub refuses to write their secrets ("Repository was
 * archived so is read-only."). Both listings page at 100, following GitHub's `link` header; each organization's
 * repositories are listed once per finder (one finder per run), however many selections read them.
 */
export class GitHubRepositoryFinder implements RepositoryFinder {
  readonly #clientFor: (owner: string) => Promise<GitHubClient>;
  readonly #tokenSecretName: string;
  readonly #repositories = new Map<string, Promise<readonly ListedRepository[]>>();
  readonly #propertyValues = new Map<string, Promise<readonly PropertyValues[]>>();
  #requests = 0;

  constructor(options: GitHubRepositoryFinderOptions) {
    this.#clientFor = options.clientFor;
    this.#tokenSecretName = options.tokenSecretName;
  }

  /** The requests (pages) this finder has sent so far. */
  get requests(): number {
    return this.#requests;
  }

  async withTopic(org: string, topic: string): Promise<RepositoryMatches> {
    const wanted = topic.toLowerCase();
    const repositories = await this.#listRepositories(org);
    return matches(repositories.filter((repo) => repo.topics.some((t) => t.toLowerCase() === wanted)));
  }

  async withProperty(org: string, property: string, value: string): Promise<RepositoryMatches> {
    const values = await this.#listPropertyValues(org);
    const byId = new Map((await this.#listRepositories(org)).map((repo) => [repo.id, repo]));
    const wanted = property.toLowerCase();
    const found = values
      .filter((repo) =>
        repo.properties.some((p) => p.name.toLowerCase() === wanted && hasValue(p.value, value)),
      )
      // A repository created between the two listings is not archived.
      .map((repo) => byId.get(repo.id) ?? { id: repo.id, name: repo.name, archived: false, topics: [] });
    return matches(found);
  }

  #listRepositories(org: string): Promise<readonly ListedRepository[]> {
    return this.#once(this.#repositories, org, async () => {
      const call = this.#call("GET organization repositories", org);
      const items = await this.#pages(call, org, (client) =>
        client.request("GET /orgs/{org}/repos", { org, type: "all", sort: "full_name", per_page: PAGE }),
      );
      const repositories: ListedRepository[] = [];
      for (const item of items) {
        const { id, name, archived, topics } = item as Record<string, unknown>;
        if (typeof id !== "number" || typeof name !== "string")
          throw unexpectedAnswer(call, "a repository without id or name");
        // A name GitHub cannot give a repository ("..", one with "/") would become a request path of its own, and
        // the key would go where it points: the answer is refused, not the repository skipped.
        if (!NAME_PATTERN.test(name)) throw unexpectedAnswer(call, "a repository name GitHub does not allow");
        repositories.push({
          id,
          name,
          archived: archived === true,
          topics: Array.isArray(topics) ? topics.filter((t): t is string => typeof t === "string") : [],
        });
      }
      return repositories;
    });
  }

  #listPropertyValues(org: string): Promise<readonly PropertyValues[]> {
    return this.#once(this.#propertyValues, org, async () => {
      const call = this.#call("GET custom property values", org);
      const items = await this.#pages(call, org, (client) =>
        client.request("GET /orgs/{org}/properties/values", { org, per_page: PAGE }),
      );
      return items.map((item): PropertyValues => {
        const { repository_id: id, repository_name: name, properties } = item as Record<string, unknown>;
        if (typeof id !== "number" || typeof name !== "string" || !Array.isArray(properties)) {
          throw unexpectedAnswer(call, "a repository without repository_id, repository_name or properties");
        }
        if (!NAME_PATTERN.test(name)) throw unexpectedAnswer(call, "a repository name GitHub does not allow");
        return {
          id,
          name,
          properties: properties.map((p) => {
            const { property_name, value } = (p ?? {}) as Record<string, unknown>;
            return { name: typeof property_name === "string" ? property_name : "", value };
          }),
        };
      });
    });
  }

  /** Every page of a listing, following GitHub's `link: <…>; rel="next"`. */
  async #pages(
    call: GitHubCall,
    org: string,
    first: (client: GitHubClient) => Promise<Page>,
  ): Promise<unknown[]> {
    const client = await this.#clientFor(org);
    const items: unknown[] = [];
    try {
      this.#requests++;
      let response: Page = await first(client);
      for (;;) {
        if (!Array.isArray(response.data)) throw unexpectedAnswer(call, "not a list");
        items.push(...response.data);
        const next = nextPage(response.headers.link);
        if (next === undefined) return items;
        this.#requests++;
        response = await client.request({ method: "GET", url: next });
      }
    } catch (error) {
      if (hasStatus(error, 404)) throw noOrganization(call, org);
      throw isHttpFailure(error) ? toGitHubAccessError(error, call) : error;
    }
  }

  /** The listing of `org` in `cache`, started once; a failed one is forgotten so that a later call asks again. */
  #once<T>(cache: Map<string, Promise<T>>, org: string, list: () => Promise<T>): Promise<T> {
    const key = org.toLowerCase();
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const started = list();
    cache.set(key, started);
    started.catch(() => {
      if (cache.get(key) === started) cache.delete(key);
    });
    return started;
  }

  #call(action: string, org: string): GitHubCall {
    return { action, repo: `organization ${org}`, tokenSecretName: this.#tokenSecretName };
  }
}

/** The repositories found, archived ones apart, each A to Z by name. */
function matches(found: readonly ListedRepository[]): RepositoryMatches {
  const byName = (a: string, b: string) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1);
  return {
    repositories: found
      .filter((repo) => !repo.archived)
      .map(({ id, name }) => ({ id, name }))
      .sort((a, b) => byName(a.name, b.name)),
    archived: found
      .filter((repo) => repo.archived)
      .map((repo) => repo.name)
      .sort(byName),
  };
}

/** Whether a property's value is `wanted`: equal to a string value, or one of a multi-select's values. */
function hasValue(value: unknown, wanted: string): boolean {
  if (typeof value === "string") return value === wanted;
  return Array.isArray(value) && value.includes(wanted);
}

/** The `rel="next"` URL of a `link` header, if any. https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api */
function nextPage(link: string | undefined): string | undefined {
  return link
    ?.split(",")
    .map((part) => /<([^>]+)>\s*;\s*rel="next"/.exec(part)?.[1])
    .find((url) => url !== undefined);
}

/** GitHub answers 404 for an organization that does not exist, is invisible to the token, or is a user. */
function noOrganization(call: GitHubCall, org: string): GitHubAccessError {
  return new GitHubAccessError(
    `GitHub refused ${call.action} of ${org} (404): there is no organization ${org}, or the token cannot see it.`,
    {
      repo: `organization ${org}`,
      status: 404,
      fix: `Selecting repositories by topic or property works for an organization's repositories only: check the selection's Owner in repos.json (a user's repositories are listed by name), and that the token in ${call.tokenSecretName} may read the organization's repositories (a fine-grained token needs the organization as its resource owner with "Metadata" read; for custom properties also the organization's "Custom properties" read).`,
    },
  );
}

/** A 2xx answer without the fields the API documents: usually a wrong API URL, or a cut-off body. */
function unexpectedAnswer(call: GitHubCall, problem: string): GitHubAccessError {
  return new GitHubAccessError(
    `GitHub answered ${call.action} of ${call.repo} with an unexpected body (${problem}).`,
    {
      ...(call.repo === undefined ? {} : { repo: call.repo }),
      fix: "Check the GitHub API URL (https://api.github.com, https://HOST/api/v3 for GitHub Enterprise Server, or https://api.SUBDOMAIN.ghe.com for GHE.com), then run the runbook again.",
    },
  );
}
