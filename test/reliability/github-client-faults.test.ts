/**
 * GitHub misbehaving, at the adapter (GitHubSecretsTarget over the production client against the emulator),
 * for what the end-to-end suite (github-faults.test.ts) cannot show in reasonable time or at all: variants of
 * rate-limit answers, with the client's `secondMs` at 1 ms so every wait GitHub asks for lasts milliseconds.
 * GitHub documents 429 as a secondary-rate-limit answer and says to wait `retry-after` seconds, also when
 * the message does not say "secondary rate limit".
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FaultRule,
  type GitHubEmulator,
  primaryRateLimitFault,
  type RequestLogEntry,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { repositoryTarget } from "../../src/domain/target.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { writeFigures } from "./figures.ts";

const PUBLIC_KEY_ROUTE = "/repos/{owner}/{repo}/actions/secrets/public-key";

let github: GitHubEmulator;
const tally = { tried: 0, asDocumented: 0 };

beforeAll(async () => {
  github = await startGitHubEmulator();
});

afterAll(async () => {
  await github.close();
  writeFigures("github-client-faults", [
    { label: "Rate-limit answer variants tried at the adapter", value: String(tally.tried) },
    { label: "… handled as GitHub documents", value: String(tally.asDocumented) },
  ]);
});

/** A fresh repository, a client with 1 ms seconds, and the repository's public-key requests. */
function arrange(rule: FaultRule) {
  const repo = repositoryTarget({ owner: "octo-org", name: `app-${randomUUID().slice(0, 8)}` });
  github.addRepo(repo.owner, repo.name);
  const token = `test-token-${randomUUID()}`;
  github.addToken(token, {
    login: "rotation-bot",
    repos: [`${repo.owner}/${repo.name}`],
    permission: "write",
  });
  github.addFault({ owner: repo.owner, repo: repo.name, route: PUBLIC_KEY_ROUTE, ...rule });
  const client = createGitHubClient({
    token: new SecretValue(token),
    baseUrl: github.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
  });
  const target = new GitHubSecretsTarget({ client, tokenSecretName: "token-secret" });
  const statuses = () =>
    github.requests
      .filter((e: RequestLogEntry) => e.repo === `${repo.owner}/${repo.name}`)
      .map((e) => (e.dropped ? "dropped" : e.status));
  return { repo, target, statuses };
}

describe("GitHub client and rate-limit answers GitHub documents", () => {
  it("waits until x-ratelimit-reset after a primary rate limit answered with 429, then succeeds", async () => {
    // Prepare
    tally.tried++;
    const { repo, target, statuses } = arrange({
      ...primaryRateLimitFault(Math.ceil(Date.now() / 1000) + 1),
      status: 429,
    });

    // Act
    const key = await target.publicKey(repo);

    // Assess
    expect(key.keyId).toBe(github.publicKey(repo.owner, repo.name).keyId);
    expect(statuses()).toEqual([429, 200]);
    tally.asDocumented++;
  });

  // plugin-throttling only recognises a 403/429 whose message matches /secondary rate/ or whose
  // x-ratelimit-remaining is "0"; the client waits for retry-after on the others itself.
  it("waits for retry-after after a plain 429 that does not name the secondary rate limit, then succeeds", async () => {
    // Prepare
    tally.tried++;
    const { repo, target, statuses } = arrange({ status: 429, headers: { "retry-after": "1" } });

    // Act
    const key = await target.publicKey(repo);

    // Assess
    expect(key.keyId).toBe(github.publicKey(repo.owner, repo.name).keyId);
    expect(statuses()).toEqual([429, 200]);
    tally.asDocumented++;
  });
});
