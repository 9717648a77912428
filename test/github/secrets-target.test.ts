import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type FaultRule,
  type GitHubEmulator,
  primaryRateLimitFault,
  type RequestLogEntry,
  secondaryRateLimitFault,
  startGitHubEmulator,
  type TokenGrant,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { type RepositoryTarget, repositoryTarget } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient, type GitHubClientOptions } from "../../src/github/client.ts";
import type { GitHubLogEntry } from "../../src/github/github-log.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";

const TOKEN_SECRET = "aws-github-akm/github-token";
const SECRET_NAME = "AWS_ACCESS_KEY_ID";
const PUBLIC_KEY_ROUTE = "/repos/{owner}/{repo}/actions/secrets/public-key";
const SECRET_ROUTE = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";
const SECONDARY_MESSAGE = secondaryRateLimitFault().message ?? "";

let github: GitHubEmulator;

beforeAll(async () => {
  github = await startGitHubEmulator();
});

afterAll(async () => {
  await github.close();
});

afterEach(() => {
  // Assess (every test): the client never sent anything GitHub's API description forbids.
  expect(github.violations).toEqual([]);
  github.clearFaults();
});

interface Arranged {
  readonly repo: RepositoryTarget;
  readonly label: string;
  readonly token: string;
  readonly target: GitHubSecretsTarget;
  readonly logs: GitHubLogEntry[];
  /** Requests the emulator finished for this test's repository (optionally one route and method). */
  requests(route?: string, method?: string): RequestLogEntry[];
  fault(rule: Omit<FaultRule, "owner" | "repo">): ReturnType<GitHubEmulator["addFault"]>;
}

/**
 * A fresh repository and token per test, and a client whose waits last 1 ms per second GitHub asks
 * for, so rate-limit and retry tests run in milliseconds with the real plugins.
 */
function arrange(
  options: {
    client?: Partial<Omit<GitHubClientOptions, "token" | "baseUrl">>;
    grant?: Partial<TokenGrant>;
  } = {},
): Arranged {
  const repo = repositoryTarget({ owner: "octo-org", name: `app-${randomUUID().slice(0, 8)}` });
  const label = `${repo.owner}/${repo.name}`;
  github.addRepo(repo.owner, repo.name);
  const token = `test-token-${randomUUID()}`;
  github.addToken(token, { login: "rotation-bot", repos: [label], permission: "write", ...options.grant });
  const logs: GitHubLogEntry[] = [];
  const client = createGitHubClient({
    token: new SecretValue(token),
    baseUrl: github.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
    log: (entry) => logs.push(entry),
    ...options.client,
  });
  return {
    repo,
    label,
    token,
    logs,
    target: new GitHubSecretsTarget({ client, tokenSecretName: TOKEN_SECRET }),
    requests: (route, method) =>
      github.requests.filter(
        (entry) =>
          entry.repo === label &&
          (route === undefined || entry.route === route) &&
          (method === undefined || entry.method === method),
      ),
    fault: (rule) => github.addFault({ owner: repo.owner, repo: repo.name, ...rule }),
  };
}

/** The rejection of `promise`, which must be a GitHubAccessError. */
async function accessError(promise: Promise<unknown>): Promise<GitHubAccessError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GitHubAccessError);
  return error as GitHubAccessError;
}

describe("GitHubSecretsTarget against the GitHub emulator", () => {
  describe("reading and writing", () => {
    it("returns the login the token belongs to", async () => {
      // Prepare
      const { target } = arrange({ grant: { login: "machine-user" } });

      // Act
      const owner = await target.whoAmI();

      // Assess
      expect(owner).toEqual({ login: "machine-user", expiresAt: undefined });
    });

    it("writes a secret that GitHub decrypts to the written value and reports its update time", async () => {
      // Prepare
      const { target, repo } = arrange();
      const value = `test-value-${randomUUID()}`;

      // Act
      const key = await target.publicKey(repo);
      await target.writeSecret(repo, key, SECRET_NAME, new SecretValue(value));
      const updatedAt = await target.secretUpdatedAt(repo, SECRET_NAME);

      // Assess
      expect(github.secretValue(repo.owner, repo.name, SECRET_NAME)).toBe(value);
      expect(updatedAt?.toISOString()).toBe(
        new Date(github.secretMeta(repo.owner, repo.name, SECRET_NAME)?.updatedAt ?? "").toISOString(),
      );
    });

    it("reports no update time for a secret the repository does not have", async () => {
      // Prepare
      const { target, repo } = arrange();

      // Act
      const updatedAt = await target.secretUpdatedAt(repo, "NOT_THERE");

      // Assess
      expect(updatedAt).toBeUndefined();
    });

    it("fetches a repository's public key once for two secret writes", async () => {
      // Prepare
      const { target, repo, requests } = arrange();

      // Act
      const first = await target.publicKey(repo);
      await target.writeSecret(repo, first, "AWS_ACCESS_KEY_ID", new SecretValue("test-id-value"));
      const second = await target.publicKey(
        repositoryTarget({ owner: repo.owner.toUpperCase(), name: repo.name }),
      );
      await target.writeSecret(repo, second, "AWS_SECRET_ACCESS_KEY", new SecretValue("test-secret-value"));

      // Assess
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(1);
      expect(requests(SECRET_ROUTE, "PUT")).toHaveLength(2);
      expect(github.secretValue(repo.owner, repo.name, "AWS_SECRET_ACCESS_KEY")).toBe("test-secret-value");
    });

    it("fetches the new key and writes again when GitHub rotated the repository key (422)", async () => {
      // Prepare
      const { target, repo, requests } = arrange();
      const stale = await target.publicKey(repo);
      const rotated = github.rotateRepoPublicKey(repo.owner, repo.name);

      // Act
      await target.writeSecret(repo, stale, SECRET_NAME, new SecretValue("test-after-rotation"));

      // Assess
      expect(github.secretValue(repo.owner, repo.name, SECRET_NAME)).toBe("test-after-rotation");
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(2);
      expect(requests(SECRET_ROUTE, "PUT").map((entry) => entry.status)).toEqual([422, 201]);
      expect(await target.publicKey(repo)).toEqual(rotated);
    });

    it("does not rewrite when a 422 is not about the key, and says to check the secret name", async () => {
      // Prepare
      const { target, repo, label, requests, fault } = arrange();
      const key = await target.publicKey(repo);
      fault({ method: "PUT", route: SECRET_ROUTE, status: 422, message: "Validation Failed" });

      // Act
      const error = await accessError(target.writeSecret(repo, key, SECRET_NAME, new SecretValue("test-v")));

      // Assess
      expect(error.message).toBe(
        `GitHub refused PUT secret ${SECRET_NAME} on ${label} (422 Validation Failed).`,
      );
      expect(error.fix).toContain(`Check the secret name ${SECRET_NAME}`);
      expect(requests(SECRET_ROUTE, "PUT")).toHaveLength(1);
    });
  });

  describe("refusals", () => {
    it("says the token was rejected, and where to store a new one, when GitHub answers 401", async () => {
      // Prepare
      const { target, token } = arrange();
      github.revokeToken(token);

      // Act
      const error = await accessError(target.whoAmI());

      // Assess
      expect(error).toMatchObject({ status: 401, fault: "user", repo: undefined });
      expect(error.message).toBe("GitHub refused GET /user (401 Bad credentials): the token was rejected.");
      expect(error.fix).toContain("The GitHub token was rejected (expired or revoked)");
      expect(error.fix).toContain(`store it in the secret ${TOKEN_SECRET} (Secrets Manager)`);
    });

    it("names the repository when a repository request gets 401", async () => {
      // Prepare
      const { target, token, repo, label } = arrange();
      github.revokeToken(token);

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ status: 401, fault: "user", repo: label });
      expect(error.message).toContain(`GET public key on ${label} (401 Bad credentials)`);
    });

    it("says which permission the token lacks when GitHub answers 403", async () => {
      // Prepare
      const { target, repo, label } = arrange({ grant: { permission: "read" } });

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ status: 403, fault: "user", repo: label });
      expect(error.message).toBe(
        `GitHub refused GET public key on ${label} (403 Resource not accessible by personal access token): the fine-grained token lacks a permission the request needs (GitHub asks for secrets=read).`,
      );
      expect(error.fix).toContain('"Secrets" to "Read and write"');
      expect(error.fix).toContain('"repo" scope');
      expect(error.fix).toContain(TOKEN_SECRET);
    });

    it("names the secret and the repository when a write is refused", async () => {
      // Prepare
      const { target, repo, label, fault } = arrange();
      const key = await target.publicKey(repo);
      fault({ method: "PUT", status: 403, message: "Resource not accessible by personal access token" });

      // Act
      const error = await accessError(target.writeSecret(repo, key, SECRET_NAME, new SecretValue("test-v")));

      // Assess
      expect(error.message).toBe(
        `GitHub refused PUT secret ${SECRET_NAME} on ${label} (403 Resource not accessible by personal access token): the fine-grained token lacks a permission the request needs.`,
      );
      expect(error.repo).toBe(label);
    });

    it("says the repository is missing or invisible to the token when GitHub answers 404", async () => {
      // Prepare
      const { target, label } = arrange();
      const unseen = repositoryTarget({ owner: "octo-org", name: `hidden-${randomUUID().slice(0, 8)}` });
      github.addRepo(unseen.owner, unseen.name);

      // Act
      const error = await accessError(target.publicKey(unseen));

      // Assess
      expect(error).toMatchObject({ status: 404, fault: "user", repo: `${unseen.owner}/${unseen.name}` });
      expect(error.message).toContain("does not exist or the token cannot see it");
      expect(error.fix).toContain("in repos.json");
      expect(error.fix).toContain("access to the repository");
      expect(label).not.toBe(error.repo);
    });

    it("finds an archived repository before any write, saying unarchive it or remove it from the list", async () => {
      // Prepare
      const { target, repo, label, requests } = arrange();
      github.archiveRepo(repo.owner, repo.name);

      // Act
      const error = await accessError(target.checkWritable(repo));

      // Assess
      expect(error).toMatchObject({ fault: "user", repo: label });
      expect(error.message).toBe(
        `${label} is archived, so GitHub refuses to write its secrets ("Repository was archived so is read-only."). Nothing was changed.`,
      );
      expect(error.fix).toMatch(/^Unarchive it or remove it from the list/);
      expect(requests(undefined, "PUT")).toEqual([]);
    });

    it("says a write to an archived repository is refused because it is archived, not for the token", async () => {
      // Prepare
      const { target, repo, label } = arrange();
      const key = await target.publicKey(repo);
      github.archiveRepo(repo.owner, repo.name);

      // Act
      const error = await accessError(target.writeSecret(repo, key, SECRET_NAME, new SecretValue("test-v")));

      // Assess
      expect(error.message).toBe(
        `GitHub refused PUT secret ${SECRET_NAME} on ${label} (403 Repository was archived so is read-only.): the repository is archived, so it is read-only.`,
      );
      expect(error.fix).toContain("or remove it from the list");
    });

    it("finds a machine user without the admin role before any write, naming the role it has and needs", async () => {
      // Prepare
      const { target, repo, label } = arrange({
        grant: { login: "writer-bot", kind: "classic", scopes: ["repo"], role: "write" },
      });
      await target.whoAmI();

      // Act
      const error = await accessError(target.checkWritable(repo));

      // Assess
      expect(error.message).toBe(
        `GitHub reports that the machine user writer-bot has the write role on ${label}; writing Actions secrets needs the admin role (GitHub answers "Must have admin rights to Repository."). Nothing was changed.`,
      );
      expect(error.fix).toContain(`Give the machine user writer-bot the admin role on ${label}`);
    });

    it("finds a classic token without the repo scope before any write", async () => {
      // Prepare
      const { target, repo } = arrange({ grant: { kind: "classic", scopes: ["read:org", "workflow"] } });

      // Act
      const error = await accessError(target.checkWritable(repo));

      // Assess
      expect(error.message).toContain('has the scopes read:org, workflow but not "repo"');
      expect(error.fix).toContain('tick the "repo" scope');
    });

    it("passes a repository an admin's token can write, classic or fine-grained, with its GitHub ID", async () => {
      // Prepare
      const classic = arrange({ grant: { kind: "classic" } });
      const fineGrained = arrange();

      // Act
      const checks = Promise.all([
        classic.target.checkWritable(classic.repo),
        fineGrained.target.checkWritable(fineGrained.repo),
      ]);

      // Assess
      await expect(checks).resolves.toEqual([
        { id: github.repoId(classic.repo.owner, classic.repo.name) },
        { id: github.repoId(fineGrained.repo.owner, fineGrained.repo.name) },
      ]);
    });

    it("names GitHub's answer when a machine user without admin rights reads the public key", async () => {
      // Prepare
      const { target, repo } = arrange({ grant: { login: "writer-bot", kind: "classic", role: "write" } });
      await target.whoAmI();

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error.message).toContain(
        "(403 Must have admin rights to Repository.): the machine user writer-bot is not an admin of the repository.",
      );
    });

    it("does not cache a failed public key fetch", async () => {
      // Prepare
      const { target, repo, requests, fault } = arrange({ client: { retries: 0 } });
      fault({ route: PUBLIC_KEY_ROUTE, status: 503 });
      await accessError(target.publicKey(repo));

      // Act
      const key = await target.publicKey(repo);

      // Assess
      expect(key).toEqual(github.publicKey(repo.owner, repo.name));
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(2);
    });
  });

  describe("retries", () => {
    it("retries server errors and then succeeds", async () => {
      // Prepare
      const { target, repo, requests, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, status: 502, times: 2 });

      // Act
      const key = await target.publicKey(repo);

      // Assess
      expect(key.keyId).toBe(github.publicKey(repo.owner, repo.name).keyId);
      expect(requests(PUBLIC_KEY_ROUTE).map((entry) => entry.status)).toEqual([502, 502, 200]);
    });

    it("reports a transient failure once the server-error retries are exhausted", async () => {
      // Prepare
      const { target, repo, label, requests, fault } = arrange({ client: { retries: 2 } });
      fault({ route: PUBLIC_KEY_ROUTE, status: 500, times: Number.POSITIVE_INFINITY });

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ status: 500, fault: "transient", repo: label });
      expect(error.message).toBe(
        `GitHub failed GET public key on ${label} (500 Server Error); retries were exhausted.`,
      );
      expect(error.fix).toContain("the next scheduled run resumes");
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(3);
    });

    it("does not retry refusals such as 404", async () => {
      // Prepare
      const { target, repo, requests, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, status: 404 });

      // Act
      await accessError(target.publicKey(repo));

      // Assess
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(1);
    });

    it("retries after a dropped connection", async () => {
      // Prepare
      const { target, repo, requests, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, drop: true });

      // Act
      const key = await target.publicKey(repo);

      // Assess
      expect(key.keyId).toBe(github.publicKey(repo.owner, repo.name).keyId);
      expect(requests(PUBLIC_KEY_ROUTE).map((entry) => entry.dropped)).toEqual([true, false]);
    });

    it("aborts an attempt that gets no answer in time and retries it", async () => {
      // Prepare: the first attempt gets no answer (for 10 minutes); the retry gets one in its own time, which the
      // timeout leaves room for on a loaded machine (only the hung attempt waits for it).
      const { target, repo, fault } = arrange({ client: { requestTimeoutMs: 10_000 } });
      const hang = fault({ route: PUBLIC_KEY_ROUTE, delayMs: 10 * 60_000 });

      // Act
      const key = await target.publicKey(repo);

      // Assess
      expect(key.keyId).toBe(github.publicKey(repo.owner, repo.name).keyId);
      expect(hang.hits).toBe(1);
    });

    it("reports a transient failure when every attempt times out", async () => {
      // Prepare
      const { target, repo, label, fault } = arrange({ client: { requestTimeoutMs: 300, retries: 1 } });
      const hang = fault({ route: PUBLIC_KEY_ROUTE, delayMs: 60_000, times: Number.POSITIVE_INFINITY });

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ fault: "transient", repo: label });
      expect(error.message).toMatch(
        new RegExp(`^Could not reach GitHub for GET public key on ${label} \\(.*timeout`),
      );
      expect(hang.hits).toBe(2);
    });
  });

  describe("rate limits", () => {
    it("waits for retry-after after a secondary rate limit (403) and then succeeds", async () => {
      // Prepare
      const { target, repo, requests, logs, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, ...secondaryRateLimitFault(7) });

      // Act
      await target.publicKey(repo);

      // Assess
      expect(requests(PUBLIC_KEY_ROUTE).map((entry) => entry.status)).toEqual([403, 200]);
      expect(logs.map((entry) => entry.message)).toEqual([
        "GitHub secondary rate limit on GET /repos/{owner}/{repo}/actions/secrets/public-key; retry 1 of 3 in 7 s.",
      ]);
    });

    it("waits for retry-after after a secondary rate limit answered with 429", async () => {
      // Prepare
      const { target, repo, requests, logs, fault } = arrange();
      fault({ method: "PUT", ...secondaryRateLimitFault(5), status: 429 });
      const key = await target.publicKey(repo);

      // Act
      await target.writeSecret(repo, key, SECRET_NAME, new SecretValue("test-after-429"));

      // Assess
      expect(requests(SECRET_ROUTE, "PUT").map((entry) => entry.status)).toEqual([429, 201]);
      expect(logs.map((entry) => entry.message)).toEqual([expect.stringMatching(/retry 1 of 3 in 5 s\.$/)]);
      expect(github.secretValue(repo.owner, repo.name, SECRET_NAME)).toBe("test-after-429");
    });

    it("waits a minute, then two, when a secondary rate limit comes without retry-after", async () => {
      // Prepare
      const { target, repo, requests, logs, fault } = arrange({
        client: { rateLimitWaitBudgetSeconds: 600 },
      });
      fault({ route: PUBLIC_KEY_ROUTE, status: 403, message: SECONDARY_MESSAGE, times: 2 });

      // Act
      await target.publicKey(repo);

      // Assess
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(3);
      expect(logs.map((entry) => entry.message)).toEqual([
        expect.stringMatching(/retry 1 of 3 in 60 s\.$/),
        expect.stringMatching(/retry 2 of 3 in 120 s\.$/),
      ]);
    });

    it("waits until x-ratelimit-reset after the primary rate limit and then succeeds", async () => {
      // Prepare
      const { target, repo, requests, logs, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, ...primaryRateLimitFault(Math.ceil(Date.now() / 1000) + 5) });

      // Act
      await target.publicKey(repo);

      // Assess
      expect(requests(PUBLIC_KEY_ROUTE).map((entry) => entry.status)).toEqual([403, 200]);
      expect(logs.map((entry) => entry.message)).toEqual([
        expect.stringMatching(/^GitHub rate limit on GET .*; retry 1 of 3 in [1-7] s\.$/),
      ]);
    });

    it("reports a transient failure once the rate-limit retries are exhausted", async () => {
      // Prepare
      const { target, repo, label, requests, fault } = arrange({ client: { rateLimitRetries: 2 } });
      fault({ route: PUBLIC_KEY_ROUTE, ...secondaryRateLimitFault(1), times: Number.POSITIVE_INFINITY });

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ status: 403, fault: "transient", repo: label });
      expect(error.message).toMatch(
        new RegExp(
          `^GitHub rate-limited GET public key on ${label} \\(403 You have exceeded a secondary rate limit`,
        ),
      );
      expect(error.fix).toContain("the next scheduled run resumes");
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(3);
    });

    it("fails at once instead of waiting longer than the run's rate-limit budget", async () => {
      // Prepare
      const { target, repo, requests, logs, fault } = arrange();
      fault({ route: PUBLIC_KEY_ROUTE, ...primaryRateLimitFault(Math.ceil(Date.now() / 1000) + 3600) });

      // Act
      const error = await accessError(target.publicKey(repo));

      // Assess
      expect(error).toMatchObject({ status: 403, fault: "transient" });
      expect(requests(PUBLIC_KEY_ROUTE)).toHaveLength(1);
      expect(logs.map((entry) => entry.message)).toEqual([
        expect.stringMatching(/would exceed the 120 s budget/),
      ]);
    });

    it("shares the wait budget between the requests of one client", async () => {
      // Prepare
      const { target, repo, requests, fault } = arrange({ client: { rateLimitWaitBudgetSeconds: 10 } });
      fault({ route: PUBLIC_KEY_ROUTE, ...secondaryRateLimitFault(6) });
      await target.publicKey(repo);
      fault({ method: "PUT", ...secondaryRateLimitFault(6) });

      // Act
      const error = await accessError(
        target.writeSecret(repo, await target.publicKey(repo), SECRET_NAME, new SecretValue("test-v")),
      );

      // Assess
      expect(error).toMatchObject({ fault: "transient" });
      expect(requests(SECRET_ROUTE, "PUT")).toHaveLength(1);
    });
  });

  describe("secrecy", () => {
    it("never puts the token into an error or a log line", async () => {
      // Prepare
      const { target, repo, token, logs, fault } = arrange({ client: { retries: 1, rateLimitRetries: 1 } });
      const errors: unknown[] = [];
      const collect = (promise: Promise<unknown>) => promise.catch((error: unknown) => errors.push(error));

      // Act
      fault({ route: PUBLIC_KEY_ROUTE, status: 502, times: 2 });
      await collect(target.publicKey(repo));
      fault({ route: PUBLIC_KEY_ROUTE, drop: true, times: 2 });
      await collect(target.publicKey(repo));
      fault({ route: PUBLIC_KEY_ROUTE, ...secondaryRateLimitFault(1), times: 2 });
      await collect(target.publicKey(repo));
      fault({ route: PUBLIC_KEY_ROUTE, status: 403, message: `echoing ${token}` });
      await collect(target.publicKey(repo));
      github.revokeToken(token);
      await collect(target.whoAmI());

      // Assess
      expect(errors).toHaveLength(5);
      const printed = [
        ...errors.map((error) => inspect(error, { depth: 10, showHidden: true })),
        ...errors.map((error) => JSON.stringify(error)),
        ...logs.map((entry) => entry.message),
      ].join("\n");
      expect(logs.length).toBeGreaterThan(0);
      expect(printed).not.toContain(token);
      expect(printed).not.toMatch(/authorization/i);
    });
  });
});
