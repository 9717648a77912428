import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GitHubEmulator,
  secondaryRateLimitFault,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { repositoryTarget } from "../../src/domain/target.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { WritePacer } from "../../src/github/write-pacer.ts";
import { FakeClock } from "../support/fakes.ts";

const REPO = repositoryTarget({ owner: "octo-org", name: "paced" });
const TOKEN = "test-token-write-pacing";
const SECRET_ROUTE = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";

let github: GitHubEmulator;

beforeAll(async () => {
  github = await startGitHubEmulator();
  github.addRepo(REPO.owner, REPO.name);
  github.addToken(TOKEN, {
    login: "rotation-bot",
    repos: [`${REPO.owner}/${REPO.name}`],
    permission: "write",
  });
});

afterAll(async () => {
  await github.close();
});

/** A client whose write pacer runs on a fake clock: its waits are recorded, not slept. */
function pacedTarget() {
  const clock = new FakeClock();
  const pacer = new WritePacer({ clock });
  const client = createGitHubClient({
    token: new SecretValue(TOKEN),
    baseUrl: github.url,
    userAgent: "aws-github-akm-test",
    // GitHub's retry-after lasts 1 ms per second here; the pacer's own waits are on the fake clock.
    secondMs: 1,
    writePacer: pacer,
  });
  return { clock, pacer, target: new GitHubSecretsTarget({ client, tokenSecretName: "token-secret" }) };
}

describe("the GitHub client's write pacing (WritePacer as plugin-throttling's write group)", () => {
  it("waits for the pacer before every write, and not before reads", async () => {
    // Prepare
    const { clock, pacer, target } = pacedTarget();
    const key = await target.publicKey(REPO);

    // Act
    for (const name of ["A_ONE", "A_TWO", "A_THREE", "A_FOUR"]) {
      await target.writeSecret(REPO, key, name, new SecretValue(`test-${name}`));
    }
    await target.secretUpdatedAt(REPO, "A_ONE");

    // Assess: two back to back, then one a second.
    expect(pacer.recent()).toHaveLength(4);
    expect(clock.sleeps).toEqual([1_000, 1_000]);
  });

  it("counts a write GitHub refused with a secondary rate limit, and slows down before its retry", async () => {
    // Prepare
    const { clock, pacer, target } = pacedTarget();
    const key = await target.publicKey(REPO);
    const before = github.requests.length;
    github.addFault({ method: "PUT", ...secondaryRateLimitFault(2) });

    // Act
    await target.writeSecret(REPO, key, "B_ONE", new SecretValue("test-b"));

    // Assess
    const puts = github.requests.slice(before).filter((r) => r.route === SECRET_ROUTE && r.method === "PUT");
    expect(puts.map((r) => r.status)).toEqual([403, 201]);
    expect(pacer.recent()).toHaveLength(2);
    // Back-off: retry-after, then the pace halved (two seconds for the next write).
    expect(clock.sleeps.at(-1)).toBeGreaterThanOrEqual(2_000);
    expect(github.secretValue(REPO.owner, REPO.name, "B_ONE")).toBe("test-b");
  });
});
