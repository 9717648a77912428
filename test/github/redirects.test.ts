/**
 * The GitHub client never follows a redirect: a renamed or transferred repository (GitHub's 301/307 to
 * `/repositories/{id}`) is refused naming where it moved, and a server that redirects elsewhere — another origin,
 * plain http — gets no request there. Against the GitHub emulator, through the real Octokit plugins.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { type RepositoryTarget, repositoryTarget } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import type { GitHubLogEntry } from "../../src/github/github-log.ts";
import { GitHubRepositoryFinder } from "../../src/github/repository-finder.ts";
import { GitHubSecretInventory } from "../../src/github/secret-inventory.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { startJsonServer } from "../support/json-server.ts";

const TOKEN_SECRET = "aws-github-akm/github-token";

let github: GitHubEmulator;

beforeAll(async () => {
  github = await startGitHubEmulator();
});

afterAll(async () => {
  await github.close();
});

afterEach(() => {
  // Assess (every test): nothing the client sent is outside GitHub's API description (no /repositories/{id}).
  expect(github.violations).toEqual([]);
  github.clearFaults();
});

function arrange(grant: { expiresAt?: Date } = {}) {
  const repo: RepositoryTarget = repositoryTarget({
    owner: "octo-org",
    name: `app-${randomUUID().slice(0, 8)}`,
  });
  github.addRepo(repo.owner, repo.name);
  const token = `test-token-${randomUUID()}`;
  github.addToken(token, { login: "rotation-bot", repos: "all", permission: "write", ...grant });
  const logs: GitHubLogEntry[] = [];
  const client = createGitHubClient({
    token: new SecretValue(token),
    baseUrl: github.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
    log: (entry) => logs.push(entry),
  });
  const target = new GitHubSecretsTarget({ client, tokenSecretName: TOKEN_SECRET });
  const requests = () => github.requests.filter((entry) => entry.repo?.startsWith(`${repo.owner}/`));
  return { repo, label: `${repo.owner}/${repo.name}`, target, logs, requests };
}

async function refusal(promise: Promise<unknown>): Promise<GitHubAccessError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GitHubAccessError);
  return error as GitHubAccessError;
}

describe("a renamed or transferred repository", () => {
  it("is refused in the preflight check, naming the repository ID it moved to, with one request", async () => {
    // Prepare
    const { repo, label, target, requests } = arrange();
    const id = github.repoId(repo.owner, repo.name);
    github.moveRepo(repo.owner, repo.name, { owner: repo.owner, name: `${repo.name}-renamed` });
    github.resetCounters();

    // Act
    const error = await refusal(target.checkWritable(repo));

    // Assess
    expect(error.message).toBe(
      `${label} was renamed or transferred: GitHub answered GET repository on ${label} with 301, a redirect to "${github.url}/repositories/${id}", GitHub's repository ID ${id}. Redirects are never followed, so nothing was sent there. Nothing was changed.`,
    );
    expect(error.fix).toMatch(new RegExp(`^Moved to repository ID ${id}: update the list\\.`));
    expect(error.repo).toBe(label);
    expect(error.fault).toBe("user");
    expect(requests().map((r) => `${r.method} ${r.status}`)).toEqual(["GET 301"]);
  });

  it("gets no secret: a write to its old name is refused (307), not retried, and GitHub stores nothing", async () => {
    // Prepare
    const { repo, label, target, requests } = arrange();
    const key = await target.publicKey(repo);
    github.moveRepo(repo.owner, repo.name, { owner: "another-org", name: repo.name });
    github.resetCounters();

    // Act
    const error = await refusal(
      target.writeSecret(repo, key, "AWS_SECRET_ACCESS_KEY", new SecretValue("s3cr3t")),
    );

    // Assess
    expect(error.message).toContain(`${label} was renamed or transferred`);
    expect(error.message).toContain("with 307");
    expect(requests().map((r) => `${r.method} ${r.status}`)).toEqual(["PUT 307"]);
    expect(github.secretNames("another-org", repo.name)).toEqual([]);
  });

  it("is refused when reading its public key (301)", async () => {
    // Prepare
    const { repo, label, target } = arrange();
    github.moveRepo(repo.owner, repo.name, { owner: repo.owner, name: `${repo.name}-2` });

    // Act
    const error = await refusal(target.publicKey(repo));

    // Assess
    expect(error.message).toContain(`${label} was renamed or transferred`);
  });
});

describe("a server that redirects elsewhere", () => {
  it.each([
    ["another origin", "https://github.example.net/api/v3/user"],
    ["plain http", "http://api.github.com/user"],
  ])("gets no request at %s: the redirect is refused with the API URL fix", async (_, location) => {
    // Prepare
    const { target, logs } = arrange();
    github.addFault({ route: "users/get-authenticated", status: 302, headers: { location } });
    github.resetCounters();

    // Act
    const error = await refusal(target.whoAmI());

    // Assess
    expect(error.message).toBe(
      `GitHub answered GET /user with 302, a redirect to "${location}". The function never follows redirects (the token would go along, maybe to another server or over plain http), so the request was not sent there.`,
    );
    expect(error.fix).toContain("AKM_GITHUB_API_URL");
    expect(github.requests).toHaveLength(1);
    expect(logs.filter((entry) => /retry/i.test(entry.message))).toEqual([]);
  });
});

describe("the token's expiry", () => {
  it("is read from GitHub-Authentication-Token-Expiration on GET /user", async () => {
    // Prepare
    const { target } = arrange({ expiresAt: new Date("2099-06-03T19:52:44Z") });

    // Act
    const owner = await target.whoAmI();

    // Assess
    expect(owner).toEqual({ login: "rotation-bot", expiresAt: new Date("2099-06-03T19:52:44Z") });
  });
});

describe("a next page on another server", () => {
  it.each(["the repositories a selection reads", "the environments the shadowing check lists"])(
    "gets no request, and no token, when GitHub's link header points %s elsewhere",
    async (what) => {
      // Prepare: the API answers the first page with a `link` whose next page is on another origin (another port).
      const elsewhere = await startJsonServer(() => ({ body: [] }));
      const api = await startJsonServer(() => ({
        body: what.includes("selection")
          ? [{ id: 1, name: "app", archived: false, topics: ["aws"] }]
          : { total_count: 2, environments: [{ name: "production" }] },
        headers: { link: `<${elsewhere.url}/steal?page=2>; rel="next"` },
      }));
      const token = `test-token-${randomUUID()}`;
      const client = createGitHubClient({
        token: new SecretValue(token),
        baseUrl: api.url,
        userAgent: "aws-github-akm-test",
        secondMs: 1,
      });
      const options = { clientFor: async () => client, tokenSecretName: TOKEN_SECRET };

      try {
        // Act
        const error = await refusal(
          what.includes("selection")
            ? new GitHubRepositoryFinder(options).withTopic("octo-org", "aws")
            : new GitHubSecretInventory(options).environments({ owner: "octo-org", name: "app" }),
        );

        // Assess
        expect(elsewhere.received).toEqual([]);
        expect(api.received).toHaveLength(1);
        expect(error.message).toContain(`${elsewhere.url}/steal?page=2`);
        expect(error.message).toContain("not sent");
        expect(error.message).not.toContain(token);
        expect(error.fix).toContain("AKM_GITHUB_API_URL");
      } finally {
        await Promise.all([api.close(), elsewhere.close()]);
      }
    },
  );
});
