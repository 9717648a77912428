import { describe, expect, it } from "vitest";
import type { OrganizationTarget, SecretStore, Target } from "../../src/domain/target.ts";
import { GitHubAccessError, GitHubRateLimitError } from "../../src/errors.ts";
import { ShadowedKeyError } from "../../src/lifecycle/shadowed-key-error.ts";
import {
  checkShadowing,
  describeFinding,
  describeUnseen,
  environmentsDigest,
  type ShadowCheckOptions,
  type ShadowCheckResult,
  type ShadowFinding,
} from "../../src/lifecycle/shadowing.ts";
import { MAX_CALLED_WORKFLOW_READS, repositoryJobs } from "../../src/lifecycle/workflow-jobs.ts";
import { FakeClock } from "../support/fakes.ts";
import { MemoryInventory } from "../support/memory-inventory.ts";

const NAMES = { keyId: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" };
const BOTH = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

const DEPLOY_WORKFLOW = `
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps: [{ run: make test }]
  release:
    runs-on: ubuntu-latest
    environment: production
    steps: [{ run: make deploy }]
`;

function repository(slug: string, store: SecretStore = "actions", extra: Partial<Target> = {}): Target {
  const [owner, name] = slug.split("/") as [string, string];
  return { kind: "repository", owner, name, store, ...extra } as Target;
}

function environment(slug: string, env: string, extra: Partial<Target> = {}): Target {
  const [owner, name] = slug.split("/") as [string, string];
  return { kind: "environment", owner, name, environment: env, ...extra } as Target;
}

function organization(
  owner: string,
  visibility: OrganizationTarget["visibility"],
  selected: string[] = [],
  store: SecretStore = "actions",
): OrganizationTarget {
  return { kind: "organization", owner, store, visibility, selectedRepositories: selected };
}

async function check(
  inventory: MemoryInventory,
  targets: Target[],
  options: Partial<ShadowCheckOptions> = {},
): Promise<ShadowCheckResult> {
  return checkShadowing({
    targets,
    unmanaged: [],
    defaultNames: NAMES,
    inventory,
    clock: new FakeClock(),
    ...options,
  });
}

/** `repo [environment] kind NAME hides target` per finding, to compare whole results at a glance. */
function places(findings: readonly ShadowFinding[]): string[] {
  return findings.map(
    (f) =>
      `${f.repo}${f.environment === undefined ? "" : ` [${f.environment}]`} ${f.store} ${f.kind} ${f.name} hides ${f.hides}`,
  );
}

function jobsOf(finding: ShadowFinding | undefined): string[] {
  if (finding?.readers.kind !== "jobs") return [];
  return finding.readers.jobs.map((job) => `${job.certain ? "uses" : "may use"} ${job.label}`);
}

describe("which copies hide what the rotation writes (GitHub's precedence)", () => {
  it("reports an environment's own copy of both names over a listed repository, with the jobs that use it", async () => {
    // Prepare: the issue's reproduction: deployment jobs use an environment holding its own pair.
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: BOTH } },
      secrets: { actions: BOTH },
      workflows: { ".github/workflows/deploy.yml": DEPLOY_WORKFLOW },
    });

    // Act
    const result = await check(inventory, [repository("org/app")]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [production] actions secret AWS_ACCESS_KEY_ID hides org/app",
      "org/app [production] actions secret AWS_SECRET_ACCESS_KEY hides org/app",
    ]);
    expect(jobsOf(result.findings[0])).toEqual(["uses .github/workflows/deploy.yml: release"]);
    expect(result.remaining).toBe(0);
  });

  it("does not report an environment that is itself a listed target", async () => {
    // Prepare: the fix the refusal suggests: list the environment ("Production": GitHub ignores case).
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: BOTH } },
    });

    // Act
    const result = await check(inventory, [repository("org/app"), environment("org/app", "Production")]);

    // Assess
    expect(result.findings).toEqual([]);
  });

  it("does not report a copy that an Unmanaged entry says holds another key on purpose", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: BOTH } },
    });

    // Act
    const result = await check(inventory, [repository("org/app")], {
      unmanaged: [environment("org/app", "production")],
    });

    // Assess
    expect(result.findings).toEqual([]);
  });

  it("reports a copy in a listed environment when that environment's target writes other names", async () => {
    // Prepare: the environment target writes PROD_KEY_ID/PROD_SECRET; its old AWS_* pair still hides org/app's.
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: [...BOTH, "PROD_KEY_ID", "PROD_SECRET"] } },
    });
    const prod = environment("org/app", "production", {
      secretNames: { keyId: "PROD_KEY_ID", secretKey: "PROD_SECRET" },
    });

    // Act
    const result = await check(inventory, [repository("org/app"), prod]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [production] actions secret AWS_ACCESS_KEY_ID hides org/app",
      "org/app [production] actions secret AWS_SECRET_ACCESS_KEY hides org/app",
    ]);
  });

  it("reports a repository's own secret that hides a listed organization secret, and the jobs that read it", async () => {
    // Prepare: the job in "staging" (no copy there) reads the repository's copy too; "production" has its own
    // listed copy, so its job does not.
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: {}, staging: {} },
      secrets: { actions: ["AWS_ACCESS_KEY_ID"] },
      workflows: {
        ".github/workflows/ci.yml": `
on: [push, pull_request]
jobs:
  build: { runs-on: ubuntu-latest, steps: [{ run: make }] }
  stage: { runs-on: ubuntu-latest, environment: staging, steps: [{ run: make stage }] }
  ship: { runs-on: ubuntu-latest, environment: production, steps: [{ run: make ship }] }
`,
      },
    });

    // Act
    const result = await check(inventory, [
      organization("org", "selected", ["app"]),
      environment("org/app", "production"),
    ]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app actions secret AWS_ACCESS_KEY_ID hides organization org (Actions)",
    ]);
    expect(jobsOf(result.findings[0])).toEqual([
      "uses .github/workflows/ci.yml: build",
      "uses .github/workflows/ci.yml: stage",
    ]);
  });

  it("does not report a repository's own secret that is itself a listed target under an organization secret", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", { secrets: { actions: BOTH } });

    // Act
    const result = await check(inventory, [organization("org", "selected", ["app"]), repository("org/app")]);

    // Assess
    expect(result.findings).toEqual([]);
  });

  it("names the repository target, not the organization's, as what an environment copy hides when both are listed", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_SECRET_ACCESS_KEY"] } },
    });

    // Act
    const result = await check(inventory, [organization("org", "all"), repository("org/app")]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [production] actions secret AWS_SECRET_ACCESS_KEY hides org/app",
    ]);
  });

  it("reports an environment copy under an organization secret when the repository has no target of its own", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
    });

    // Act
    const result = await check(inventory, [organization("org", "selected", ["app"])]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [production] actions secret AWS_ACCESS_KEY_ID hides organization org (Actions)",
    ]);
  });

  it("never reports a less specific copy: an organization or repository secret under a listed environment", async () => {
    // Prepare: only the environment is listed; the repository's own pair is less specific, so jobs in the
    // environment read what the rotation writes.
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: BOTH } },
      secrets: { actions: BOTH },
    });

    // Act
    const result = await check(inventory, [environment("org/app", "production")]);

    // Assess: nothing to look at, so nothing asked.
    expect(result.findings).toEqual([]);
    expect(result.total).toBe(0);
    expect(inventory.calls).toEqual([]);
  });

  it("reports a repository's Dependabot secret that hides a listed organization Dependabot secret", async () => {
    // Prepare: the repository's Actions secret of the same name is another store and hides nothing here.
    const inventory = new MemoryInventory().repo("org/app", {
      secrets: { dependabot: ["AWS_SECRET_ACCESS_KEY"], actions: BOTH },
    });

    // Act
    const result = await check(inventory, [organization("org", "selected", ["app"], "dependabot")]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app dependabot secret AWS_SECRET_ACCESS_KEY hides organization org (Dependabot)",
    ]);
    expect(result.findings[0]?.readers).toEqual({ kind: "dependabot" });
    expect(describeFinding(result.findings[0] as ShadowFinding)).toBe(
      "org/app has its own Dependabot secret AWS_SECRET_ACCESS_KEY, which hides organization org (Dependabot) from Dependabot and the workflow runs Dependabot starts.",
    );
  });

  it("reports a repository's Codespaces secret that hides a listed organization Codespaces secret", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      secrets: { codespaces: ["AWS_ACCESS_KEY_ID"] },
    });

    // Act
    const result = await check(inventory, [organization("org", "selected", ["app"], "codespaces")]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app codespaces secret AWS_ACCESS_KEY_ID hides organization org (Codespaces)",
    ]);
    expect(result.findings[0]?.readers).toEqual({ kind: "codespaces" });
  });

  it("asks nothing about a repository's Dependabot or Codespaces target: no scope is more specific", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      secrets: { dependabot: BOTH, codespaces: BOTH },
    });

    // Act
    const result = await check(inventory, [
      repository("org/app", "dependabot"),
      repository("org/app", "codespaces"),
    ]);

    // Assess
    expect(result.findings).toEqual([]);
    expect(inventory.calls).toEqual([]);
  });

  it("reports a variable copy of a key ID written as a variable, and ignores a secret of that name", async () => {
    // Prepare: `vars.AWS_ACCESS_KEY_ID` is hidden by the environment's variable; a secret of the same name is
    // another context (`secrets.`) and hides nothing.
    const inventory = new MemoryInventory().repo("org/app", {
      environments: {
        production: { variables: ["AWS_ACCESS_KEY_ID"] },
        staging: { secrets: ["AWS_ACCESS_KEY_ID"] },
      },
    });

    // Act
    const result = await check(inventory, [repository("org/app", "actions", { keyIdAs: "variable" })]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [production] actions variable AWS_ACCESS_KEY_ID hides org/app",
    ]);
  });

  it("matches names whatever their case, as GitHub does", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("Org/App", {
      environments: { Production: { secrets: ["aws_access_key_id"] } },
    });

    // Act
    const result = await check(inventory, [repository("org/app", "actions", { secretNames: NAMES })]);

    // Assess
    expect(places(result.findings)).toEqual([
      "org/app [Production] actions secret AWS_ACCESS_KEY_ID hides org/app",
    ]);
  });
});

describe("which repositories an organization secret reaches (visibility)", () => {
  function orgWithCopies(): MemoryInventory {
    return new MemoryInventory()
      .repo("org/web", { secrets: { actions: ["AWS_ACCESS_KEY_ID"] } })
      .repo("org/api", { private: true, secrets: { actions: ["AWS_ACCESS_KEY_ID"] } })
      .repo("org/ops", { private: true });
  }

  it("checks every repository of the organization for visibility all", async () => {
    // Act
    const result = await check(orgWithCopies(), [organization("org", "all")]);

    // Assess
    expect(result.findings.map((f) => f.repo)).toEqual(["org/web", "org/api"]);
    expect(result.total).toBe(3);
  });

  it("checks only the repositories that are not public for visibility private", async () => {
    // Act
    const result = await check(orgWithCopies(), [organization("org", "private")]);

    // Assess
    expect(result.findings.map((f) => f.repo)).toEqual(["org/api"]);
    expect(result.total).toBe(2);
  });

  it("checks only the selected repositories for visibility selected", async () => {
    // Act
    const result = await check(orgWithCopies(), [organization("org", "selected", ["web", "ops"])]);

    // Assess
    expect(result.findings.map((f) => f.repo)).toEqual(["org/web"]);
    expect(result.total).toBe(2);
  });
});

describe("which jobs would keep the old key", () => {
  async function jobsFor(workflows: Record<string, string>, remote?: MemoryInventory): Promise<string[]> {
    const inventory = (remote ?? new MemoryInventory()).repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
      workflows,
    });
    const result = await check(inventory, [repository("org/app")]);
    return jobsOf(result.findings[0]);
  }

  it("counts a job whose environment is a map with a name", async () => {
    const jobs = await jobsFor({
      ".github/workflows/d.yml": `
on: push
jobs:
  deploy: { runs-on: x, environment: { name: production, url: "https://example.com" }, steps: [] }
`,
    });
    expect(jobs).toEqual(["uses .github/workflows/d.yml: deploy"]);
  });

  it("reports a job whose environment is an expression as one that may use it", async () => {
    const jobs = await jobsFor({
      ".github/workflows/d.yml": `
on: { workflow_dispatch: { inputs: { target: { type: string } } } }
jobs:
  deploy: { runs-on: x, environment: "\${{ inputs.target }}", steps: [] }
  review: { runs-on: x, environment: "review-\${{ github.event.number }}", steps: [] }
`,
    });
    expect(jobs).toEqual([
      "may use .github/workflows/d.yml: deploy",
      "may use .github/workflows/d.yml: review",
    ]);
  });

  it("counts a matrix job when the matrix names the environment", async () => {
    const jobs = await jobsFor({
      ".github/workflows/d.yml": `
on: push
jobs:
  deploy:
    runs-on: x
    strategy: { matrix: { env: [staging], include: [{ env: production }] } }
    environment: \${{ matrix.env }}
    steps: []
  other:
    runs-on: x
    strategy: { matrix: { env: [staging, qa] } }
    environment: \${{ matrix.env }}
    steps: []
`,
    });
    expect(jobs).toEqual(["uses .github/workflows/d.yml: deploy"]);
  });

  it("follows a call to a reusable workflow of the same repository into the environment its caller passes", async () => {
    const jobs = await jobsFor({
      ".github/workflows/release.yml": `
on: push
jobs:
  to-prod: { uses: ./.github/workflows/deploy.yml, with: { environment: production }, secrets: inherit }
  to-staging: { uses: ./.github/workflows/deploy.yml, with: { environment: staging }, secrets: inherit }
`,
      ".github/workflows/deploy.yml": `
on:
  workflow_call:
    inputs: { environment: { type: string, required: true } }
jobs:
  deploy: { runs-on: x, environment: "\${{ inputs.environment }}", steps: [] }
`,
    });
    // The reusable workflow is not listed on its own: nothing but its callers starts it.
    expect(jobs).toEqual([
      "uses .github/workflows/release.yml: to-prod → .github/workflows/deploy.yml: deploy",
    ]);
  });

  it("uses a reusable workflow's input default when the caller passes nothing", async () => {
    const jobs = await jobsFor({
      ".github/workflows/release.yml": "on: push\njobs:\n  ship: { uses: ./.github/workflows/deploy.yml }\n",
      ".github/workflows/deploy.yml": `
on:
  workflow_call:
    inputs: { environment: { type: string, default: production } }
  workflow_dispatch: {}
jobs:
  deploy: { runs-on: x, environment: "\${{ inputs.environment }}", steps: [] }
`,
    });
    // Also started by hand (workflow_dispatch), where the input is unknown: listed on its own as "may use".
    expect(jobs).toEqual([
      "uses .github/workflows/release.yml: ship → .github/workflows/deploy.yml: deploy",
      "may use .github/workflows/deploy.yml: deploy",
    ]);
  });

  it("reads a reusable workflow of another repository once for every repository that calls it", async () => {
    // Prepare
    const caller = `
on: push
jobs:
  ship: { uses: org/shared/.github/workflows/deploy.yml@v1, with: { environment: production } }
`;
    const inventory = new MemoryInventory()
      .repo("org/shared", {
        workflows: {
          ".github/workflows/deploy.yml": `
on: { workflow_call: { inputs: { environment: { type: string } } } }
jobs:
  deploy: { runs-on: x, environment: "\${{ inputs.environment }}", steps: [] }
`,
        },
      })
      .repo("org/app", {
        environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
        workflows: { ".github/workflows/ship.yml": caller },
      })
      .repo("org/api", {
        environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
        workflows: { ".github/workflows/ship.yml": caller },
      });

    // Act
    const result = await check(inventory, [repository("org/app"), repository("org/api")]);

    // Assess
    const through =
      "uses .github/workflows/ship.yml: ship → org/shared/.github/workflows/deploy.yml@v1: deploy";
    expect(result.findings.map(jobsOf)).toEqual([[through], [through]]);
    expect(inventory.calls.filter((call) => call.startsWith("workflow org/shared"))).toHaveLength(1);
  });

  it("reports a job calling a reusable workflow it cannot read as one that may use the environment", async () => {
    const jobs = await jobsFor({
      ".github/workflows/ship.yml":
        "on: push\njobs:\n  ship: { uses: other/private/.github/workflows/x.yml@main }\n",
    });
    expect(jobs).toEqual(["may use .github/workflows/ship.yml: ship"]);
  });

  it("reads at most MAX_CALLED_WORKFLOW_READS reusable workflows of other repositories for one repository, the jobs calling more as may use", async () => {
    // Prepare: a file of 150 jobs, each calling a workflow of another repository (each read would be a request).
    const calls = Array.from(
      { length: 150 },
      (_, i) => `  j${i}: { uses: other/r${i}/.github/workflows/x.yml@main }`,
    ).join("\n");
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
      workflows: { ".github/workflows/many.yml": `on: push\njobs:\n${calls}\n` },
    });

    // Act
    const result = await check(inventory, [repository("org/app")]);

    // Assess
    expect(inventory.calls.filter((call) => call.startsWith("workflow other/"))).toHaveLength(
      MAX_CALLED_WORKFLOW_READS,
    );
    const readers = result.findings[0]?.readers;
    expect(readers?.kind === "jobs" ? readers.jobs.length + readers.more : 0).toBe(150);
    expect(readers?.kind === "jobs" ? readers.jobs.every((job) => !job.certain) : false).toBe(true);
    const notRead = await repositoryJobs({ owner: "org", name: "app" }, inventory, new Map());
    expect(notRead.at(-1)).toEqual({
      label: ".github/workflows/many.yml: j149",
      environment: {
        kind: "unknown",
        reason: `the reusable workflow other/r149/.github/workflows/x.yml@main was not read (the check reads at most ${MAX_CALLED_WORKFLOW_READS} reusable workflows of other repositories for one repository)`,
      },
    });
  });

  it("reports the jobs of a workflow file that is not valid YAML as unknown", async () => {
    // Act
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
      workflows: { ".github/workflows/broken.yml": "on: push\njobs: [unclosed\n" },
    });
    const result = await check(inventory, [repository("org/app")]);

    // Assess
    const readers = result.findings[0]?.readers;
    expect(readers?.kind === "jobs" ? readers.jobs : []).toEqual([
      {
        label: ".github/workflows/broken.yml",
        certain: false,
        reason: expect.stringContaining("not valid YAML"),
      },
    ]);
  });

  it("reports a copy no job reads today, and says so", async () => {
    // Prepare
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
    });

    // Act
    const result = await check(inventory, [repository("org/app")]);

    // Assess
    expect(describeFinding(result.findings[0] as ShadowFinding)).toBe(
      "org/app environment production has its own secret AWS_ACCESS_KEY_ID, which hides org/app from no job today (no workflow runs there).",
    );
  });

  it("names at most 20 jobs per finding and counts the rest", async () => {
    // Prepare
    const jobs = Array.from(
      { length: 25 },
      (_, i) => `  j${i}: { runs-on: x, environment: production, steps: [] }`,
    );
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: { secrets: ["AWS_ACCESS_KEY_ID"] } },
      workflows: { ".github/workflows/many.yml": `on: push\njobs:\n${jobs.join("\n")}\n` },
    });

    // Act
    const result = await check(inventory, [repository("org/app")]);

    // Assess
    const readers = result.findings[0]?.readers;
    expect(readers?.kind === "jobs" ? [readers.jobs.length, readers.more] : []).toEqual([20, 5]);
    expect(describeFinding(result.findings[0] as ShadowFinding)).toMatch(/j19 and 5 more jobs\.$/);
  });
});

describe("bounded and resumable at 10,000 repositories", () => {
  function manyRepos(count: number): { inventory: MemoryInventory; targets: Target[] } {
    const inventory = new MemoryInventory();
    const targets: Target[] = [];
    for (let i = 0; i < count; i++) {
      inventory.repo(`org/r${i}`, i === count - 1 ? { environments: { prod: { secrets: BOTH } } } : {});
      targets.push(repository(`org/r${i}`));
    }
    return { inventory, targets };
  }

  it("spends one request per repository without environments, and stops at its request budget", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(10_000);

    // Act
    const first = await check(inventory, targets, { maxRequests: 1_000 });

    // Assess
    expect(first.requests).toBe(1_000);
    expect(first.remaining).toBe(9_000);
    expect(first.stoppedBy).toBe("requests");
    expect(first.progress.checked).toHaveLength(1_000);
  });

  it("resumes where the previous call stopped and checks every repository exactly once", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(10_000);
    const clock = new FakeClock();

    // Act: calls of 2,500 requests each, as separate invocations would.
    let result = await check(inventory, targets, { maxRequests: 2_500, clock });
    let calls = 1;
    while (result.remaining > 0) {
      clock.advance(5 * 60_000);
      result = await check(inventory, targets, { maxRequests: 2_500, clock, progress: result.progress });
      calls++;
    }

    // Assess: the last repository's two copies, found once; one request per repository, plus the copies' names
    // and the workflow listing for the one with a finding: no repository asked twice.
    expect(calls).toBe(4);
    expect(places(result.findings)).toEqual([
      "org/r9999 [prod] actions secret AWS_ACCESS_KEY_ID hides org/r9999",
      "org/r9999 [prod] actions secret AWS_SECRET_ACCESS_KEY hides org/r9999",
    ]);
    expect(inventory.calls).toHaveLength(10_002);
    expect(result.stoppedBy).toBeUndefined();
  });

  it("stops while GitHub's rate limit is low and says when it starts over", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(100);
    inventory.remaining = 520;
    inventory.resetAt = new Date("2026-01-01T01:00:00Z");

    // Act
    const result = await check(inventory, targets);

    // Assess: 20 repositories, then 500 requests are left for the rotation.
    expect(result.progress.checked).toHaveLength(20);
    expect(result.stoppedBy).toBe("rate-limit");
    expect(result.resumeAt).toEqual(new Date("2026-01-01T01:00:00Z"));
  });

  it("stops when GitHub answers that its primary rate limit is used up, and resumes at the reset GitHub named", async () => {
    // Prepare: other tools used the token up; GitHub refuses the second repository's listing until its reset.
    const { inventory, targets } = manyRepos(5);
    const resetAt = new Date("2026-01-01T01:00:00Z");
    inventory.fail(
      "org/r1",
      new GitHubRateLimitError("GitHub's primary rate limit for the token is used up.", {
        status: 403,
        repo: "org/r1",
        resetAt,
        fix: "Wait.",
      }),
    );

    // Act
    const result = await check(inventory, targets);

    // Assess: no request after the refusal, and the repository it stopped at is not a failure: it is checked again.
    expect(result.progress.checked).toEqual(["org/r0"]);
    expect(result.failures).toEqual([]);
    expect(result.remaining).toBe(4);
    expect(result.stoppedBy).toBe("rate-limit");
    expect(result.resumeAt).toEqual(resetAt);
    expect(inventory.calls.at(-1)).toContain("org/r1");
  });

  it("stops at its deadline, after the first repository at least", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(10);
    const clock = new FakeClock();

    // Act
    const result = await check(inventory, targets, { clock, deadline: clock.now() });

    // Assess
    expect(result.progress.checked).toEqual(["org/r0"]);
    expect(result.stoppedBy).toBe("deadline");
  });

  it("starts over when the list changed since the saved progress", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(10);
    const first = await check(inventory, targets, { maxRequests: 5 });

    // Act
    const second = await check(inventory, targets.slice(1), { progress: first.progress });

    // Assess
    expect(second.progress.checked).toHaveLength(9);
    expect(inventory.calls).toHaveLength(5 + 9 + 2);
  });

  it("starts over when the saved progress is older than a day", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(10);
    const clock = new FakeClock();
    const first = await check(inventory, targets, { maxRequests: 5, clock });
    clock.advance(25 * 60 * 60_000);

    // Act
    const second = await check(inventory, targets, { clock, progress: first.progress });

    // Assess
    expect(second.progress.since).toBe(clock.now().toISOString());
    expect(inventory.calls).toHaveLength(5 + 10 + 2);
  });

  it("returns a repository it could not read as a failure, checks the others, and retries it next time", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(3);
    inventory.fail(
      "org/r1",
      new GitHubAccessError("GitHub answered 403 for org/r1.", {
        status: 403,
        repo: "org/r1",
        fix: "Grant it.",
      }),
    );

    // Act
    const result = await check(inventory, targets);

    // Assess
    expect(result.failures.map((f) => f.repo.name)).toEqual(["r1"]);
    expect(result.progress.checked).toEqual(["org/r0", "org/r2"]);
    expect(result.remaining).toBe(1);
  });

  it("stops at a transient failure so the next invocation resumes there", async () => {
    // Prepare
    const { inventory, targets } = manyRepos(3);
    inventory.fail(
      "org/r1",
      new GitHubAccessError("GitHub answered 502.", {
        status: 502,
        repo: "org/r1",
        fix: "Retry.",
        fault: "transient",
      }),
    );

    // Act
    const result = await check(inventory, targets);

    // Assess
    expect(result.progress.checked).toEqual(["org/r0"]);
    expect(result.remaining).toBe(2);
  });
});

describe("a repository with more environments than one call can check", () => {
  /** `env-00` … in a shuffled order (GitHub does not document its listing's order); copies in `withCopies`. */
  function environments(
    count: number,
    withCopies: readonly number[],
  ): Record<string, { secrets?: string[] }> {
    const names = Array.from({ length: count }, (_, i) => `env-${String(i).padStart(2, "0")}`);
    const shuffled = names.map((name, i) => names[(i * 7) % count] ?? name);
    return Object.fromEntries(
      shuffled.map((name) => [name, withCopies.includes(Number(name.slice(4))) ? { secrets: BOTH } : {}]),
    );
  }

  /** Each environment's secret listing moves the clock on by ten seconds, as GitHub's pace would. */
  function tenSecondsAnEnvironment(inventory: MemoryInventory, clock: FakeClock): void {
    inventory.onCall = (call) => {
      if (call.startsWith("names environment")) clock.advance(10_000);
    };
  }

  /** Calls as separate invocations would, each with a deadline 95 s after it starts, until none is left. */
  async function untilDone(
    inventory: MemoryInventory,
    targets: Target[],
    clock: FakeClock,
    between: (result: ShadowCheckResult, call: number) => void = () => {},
  ): Promise<{ results: ShadowCheckResult[] }> {
    const results: ShadowCheckResult[] = [];
    let progress: ShadowCheckResult["progress"] | undefined;
    do {
      const deadline = new Date(clock.now().getTime() + 95_000);
      const result = await check(inventory, targets, { clock, deadline, progress });
      results.push(result);
      progress = result.progress;
      between(result, results.length);
      clock.advance(60_000);
    } while (progress !== undefined && (results.at(-1)?.remaining ?? 0) > 0 && results.length < 50);
    return { results };
  }

  function environmentListings(inventory: MemoryInventory): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of inventory.calls) {
      const name = /^names environment (\S+) secret org\/big$/.exec(call)?.[1];
      if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  it("checks it over several calls, every environment exactly once, and reports what each part found", async () => {
    // Prepare: 40 environments, copies in three of them that different calls reach; a job deploys from env-23.
    const clock = new FakeClock();
    const inventory = new MemoryInventory()
      .repo("org/big", {
        environments: environments(40, [3, 23, 38]),
        workflows: {
          ".github/workflows/deploy.yml":
            "on: push\njobs:\n  ship: { runs-on: ubuntu-latest, environment: env-23, steps: [{ run: make }] }\n",
        },
      })
      .repo("org/web");
    tenSecondsAnEnvironment(inventory, clock);
    const parts: string[] = [];

    // Act
    const { results } = await untilDone(
      inventory,
      [repository("org/big"), repository("org/web")],
      clock,
      (result) => {
        if (result.inRepository !== undefined) {
          parts.push(`${result.inRepository.checked} of ${result.inRepository.environments}`);
        }
      },
    );

    // Assess: ten environments a call (the deadline comes after the tenth; the fourth call finishes org/big and
    // the fifth checks org/web), each asked about once; the copies of every part reported, in order of the
    // environments' names, with the job that reads env-23's.
    const last = results.at(-1);
    expect(parts).toEqual(["10 of 40", "20 of 40", "30 of 40"]);
    expect(results.map((result) => result.progress.partial?.environments)).toEqual([
      10,
      20,
      30,
      undefined,
      undefined,
    ]);
    expect([...environmentListings(inventory).values()]).toEqual(Array.from({ length: 40 }, () => 1));
    expect(environmentListings(inventory).size).toBe(40);
    expect(places(last?.findings ?? [])).toEqual([
      "org/big [env-03] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-03] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
      "org/big [env-23] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-23] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
      "org/big [env-38] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-38] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
    ]);
    expect(jobsOf(last?.findings[2])).toEqual(["uses .github/workflows/deploy.yml: ship"]);
    expect(jobsOf(last?.findings[0])).toEqual([]);
    expect(last?.remaining).toBe(0);
    expect(last?.progress.checked).toEqual(["org/big", "org/web"]);
    expect(last?.progress.partial).toBeUndefined();
  });

  it("says which repository it stopped in, and counts it among those left", async () => {
    // Prepare
    const clock = new FakeClock();
    const inventory = new MemoryInventory().repo("org/Big", { environments: environments(30, []) });
    tenSecondsAnEnvironment(inventory, clock);

    // Act
    const result = await check(inventory, [repository("org/Big")], {
      clock,
      deadline: new Date(clock.now().getTime() + 95_000),
    });

    // Assess
    expect(result.stoppedBy).toBe("deadline");
    expect(result.remaining).toBe(1);
    expect(result.inRepository).toEqual({ repo: "org/Big", checked: 10, environments: 30 });
    expect(result.progress.checked).toEqual([]);
    expect(result.progress.partial).toMatchObject({ repo: "org/big", environments: 10 });
  });

  it("always checks one environment, even when a call starts past its deadline", async () => {
    // Prepare
    const clock = new FakeClock();
    const inventory = new MemoryInventory().repo("org/big", { environments: environments(5, []) });
    let progress: ShadowCheckResult["progress"] | undefined;

    // Act
    const checkedPerCall: number[] = [];
    for (let call = 0; call < 5; call++) {
      const result = await check(inventory, [repository("org/big")], {
        clock,
        deadline: clock.now(),
        progress,
      });
      progress = result.progress;
      checkedPerCall.push(result.progress.partial?.environments ?? -1);
    }

    // Assess
    expect(checkedPerCall).toEqual([1, 2, 3, 4, -1]);
    expect(progress?.checked).toEqual(["org/big"]);
  });

  it("goes on after the environments checked when one is added after them", async () => {
    // Prepare
    const clock = new FakeClock();
    const spec = { environments: environments(20, []) };
    const inventory = new MemoryInventory().repo("org/big", spec);
    tenSecondsAnEnvironment(inventory, clock);
    const targets = [repository("org/big")];
    const first = await check(inventory, targets, {
      clock,
      deadline: new Date(clock.now().getTime() + 45_000),
    });
    spec.environments["zz-preview"] = { secrets: ["AWS_ACCESS_KEY_ID"] };

    // Act
    const second = await check(inventory, targets, { clock, progress: first.progress });

    // Assess: the first five not asked about again; the new one checked, and its copy found.
    expect(first.progress.partial?.environments).toBe(5);
    expect([...environmentListings(inventory).values()].every((count) => count === 1)).toBe(true);
    expect(environmentListings(inventory).size).toBe(21);
    expect(places(second.findings)).toEqual([
      "org/big [zz-preview] actions secret AWS_ACCESS_KEY_ID hides org/big",
    ]);
    expect(second.remaining).toBe(0);
  });

  it("checks the repository from its first environment again when one was added among those checked, never skipping it", async () => {
    // Prepare: the first call checks env-00 … env-04 and finds env-01's copy; then an environment that sorts
    // before them appears with a copy of its own.
    const clock = new FakeClock();
    const spec = { environments: environments(20, [1]) };
    const inventory = new MemoryInventory().repo("org/big", spec);
    tenSecondsAnEnvironment(inventory, clock);
    const targets = [repository("org/big")];
    const first = await check(inventory, targets, {
      clock,
      deadline: new Date(clock.now().getTime() + 45_000),
    });
    spec.environments["a-preview"] = { secrets: ["AWS_ACCESS_KEY_ID"] };

    // Act
    const second = await check(inventory, targets, { clock, progress: first.progress });

    // Assess: the new environment checked, env-01's copy reported once, every environment asked about again.
    expect(places(first.findings)).toHaveLength(2);
    expect(places(second.findings)).toEqual([
      "org/big [a-preview] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-01] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-01] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
    ]);
    expect(environmentListings(inventory).get("a-preview")).toBe(1);
    expect(environmentListings(inventory).get("env-00")).toBe(2);
    expect(environmentListings(inventory).get("env-19")).toBe(1);
  });

  it("checks the repository from its first environment again when one checked was deleted, forgetting its copy", async () => {
    // Prepare
    const clock = new FakeClock();
    const spec = { environments: environments(20, [1]) };
    const inventory = new MemoryInventory().repo("org/big", spec);
    tenSecondsAnEnvironment(inventory, clock);
    const targets = [repository("org/big")];
    const first = await check(inventory, targets, {
      clock,
      deadline: new Date(clock.now().getTime() + 45_000),
    });
    delete spec.environments["env-01"];

    // Act
    const second = await check(inventory, targets, { clock, progress: first.progress });

    // Assess
    expect(places(first.findings)).toHaveLength(2);
    expect(second.findings).toEqual([]);
    expect(second.remaining).toBe(0);
  });

  it("checks every environment once when two names are equal in lower case only to JavaScript, whatever order GitHub lists them in", async () => {
    // Prepare: "\u212Aube" starts with the Kelvin sign, which JavaScript lower-cases to "k": a name GitHub may keep
    // apart from "kube". GitHub documents no order for its listing; here the two swap places between the calls.
    const clock = new FakeClock();
    const kelvin = "\u212Aube";
    const spec: { environments: Record<string, { secrets?: string[] }> } = {
      environments: { [kelvin]: {}, kube: { secrets: BOTH } },
    };
    const inventory = new MemoryInventory().repo("org/big", spec);
    const targets = [repository("org/big")];
    const first = await check(inventory, targets, { clock, deadline: clock.now() });
    spec.environments = { kube: { secrets: BOTH }, [kelvin]: {} };

    // Act
    const second = await check(inventory, targets, {
      clock,
      deadline: clock.now(),
      progress: first.progress,
    });

    // Assess
    expect(first.progress.partial?.environments).toBe(1);
    expect(second.remaining).toBe(0);
    expect([...environmentListings(inventory).keys()].sort()).toEqual(["kube", kelvin]);
    expect(places(second.findings)).toEqual([
      "org/big [kube] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [kube] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
    ]);
  });

  it.each([
    ["counts more environments than the repository has", { environments: 30, names: 30, upper: false }],
    ["has the digest of other environments", { environments: 5, names: 0, upper: false }],
    ["has the digest of the environments in another letter case", { environments: 5, names: 5, upper: true }],
  ])("checks every environment when the stored place in a repository %s", async (_, tamper) => {
    // Prepare: a first call stops after five of twenty environments; then the stored place is changed.
    const clock = new FakeClock();
    const inventory = new MemoryInventory().repo("org/big", { environments: environments(20, [2]) });
    tenSecondsAnEnvironment(inventory, clock);
    const targets = [repository("org/big")];
    const first = await check(inventory, targets, {
      clock,
      deadline: new Date(clock.now().getTime() + 45_000),
    });
    const names = Array.from({ length: tamper.names }, (_, i) => `env-${String(i).padStart(2, "0")}`);
    const progress = {
      ...first.progress,
      findings: [],
      partial: {
        repo: "org/big",
        environments: tamper.environments,
        digest: environmentsDigest(
          tamper.names === 0 ? ["other"] : names.map((n) => (tamper.upper ? n.toUpperCase() : n)),
        ),
      },
    };

    // Act
    const second = await check(inventory, targets, { clock, progress });

    // Assess: env-02's copy (forgotten with the findings) found again: every environment asked about again.
    expect(first.progress.partial?.environments).toBe(5);
    expect(second.remaining).toBe(0);
    expect(environmentListings(inventory).get("env-00")).toBe(2);
    expect(environmentListings(inventory).size).toBe(20);
    expect(places(second.findings)).toEqual([
      "org/big [env-02] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-02] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
    ]);
  });

  it("keeps the environments checked when GitHub's rate limit runs out in the middle, and goes on from there", async () => {
    // Prepare: other tools used the token up; GitHub refuses env-12's listing until its reset.
    const clock = new FakeClock();
    const inventory = new MemoryInventory().repo("org/big", { environments: environments(20, [4]) });
    const resetAt = new Date("2026-01-01T01:00:00Z");
    let refused = false;
    inventory.onCall = (call) => {
      if (call === "names environment env-12 secret org/big" && !refused) {
        refused = true;
        throw new GitHubRateLimitError("GitHub's primary rate limit for the token is used up.", {
          status: 403,
          repo: "org/big",
          resetAt,
          fix: "Wait.",
        });
      }
    };
    const targets = [repository("org/big")];

    // Act
    const first = await check(inventory, targets, { clock });
    const second = await check(inventory, targets, { clock, progress: first.progress });

    // Assess
    expect(first.stoppedBy).toBe("rate-limit");
    expect(first.resumeAt).toEqual(resetAt);
    expect(first.progress.partial?.environments).toBe(12);
    expect(places(first.findings)).toHaveLength(2);
    expect(environmentListings(inventory).get("env-12")).toBe(2);
    expect(environmentListings(inventory).get("env-11")).toBe(1);
    expect(places(second.findings)).toEqual([
      "org/big [env-04] actions secret AWS_ACCESS_KEY_ID hides org/big",
      "org/big [env-04] actions secret AWS_SECRET_ACCESS_KEY hides org/big",
    ]);
    expect(second.remaining).toBe(0);
  });

  it("reports the repository's own copy once when a call failed after finding it, among its own scopes", async () => {
    // Prepare: Actions and Dependabot organization secrets; the repository's own Actions copy is found, then
    // GitHub fails the listing of its Dependabot secrets once (after its environment was checked).
    const inventory = new MemoryInventory().repo("org/app", {
      environments: { production: {} },
      secrets: { actions: ["AWS_ACCESS_KEY_ID"] },
    });
    let listings = 0;
    inventory.onCall = (call) => {
      if (call === "names repository secret org/app" && ++listings === 2) {
        throw new GitHubAccessError("GitHub answered 502.", {
          status: 502,
          repo: "org/app",
          fix: "Retry.",
          fault: "transient",
        });
      }
    };
    const targets = [
      organization("org", "selected", ["app"]),
      organization("org", "selected", ["app"], "dependabot"),
    ];
    const first = await check(inventory, targets);

    // Act
    const second = await check(inventory, targets, { progress: first.progress });

    // Assess
    expect(first.failures).toHaveLength(1);
    expect(first.progress.partial?.environments).toBe(1);
    expect(second.remaining).toBe(0);
    expect(places(second.findings)).toEqual([
      "org/app actions secret AWS_ACCESS_KEY_ID hides organization org (Actions)",
    ]);
  });

  it("under an organization secret, counts environment copies found by earlier calls when naming the jobs that read the repository's own copy", async () => {
    // Prepare: the repository's own AWS_ACCESS_KEY_ID hides the organization's; env-02 has its own pair (found
    // by the first call), so its job does not read the repository's; the job in env-17 (no copy) does.
    const clock = new FakeClock();
    const inventory = new MemoryInventory().repo("org/big", {
      environments: environments(20, [2]),
      secrets: { actions: ["AWS_ACCESS_KEY_ID"] },
      workflows: {
        ".github/workflows/ci.yml": `
on: push
jobs:
  early: { runs-on: ubuntu-latest, environment: env-02, steps: [{ run: make }] }
  late: { runs-on: ubuntu-latest, environment: env-17, steps: [{ run: make }] }
`,
      },
    });
    tenSecondsAnEnvironment(inventory, clock);

    // Act
    const { results } = await untilDone(inventory, [organization("org", "selected", ["big"])], clock);

    // Assess
    const last = results.at(-1);
    expect(results.length).toBeGreaterThan(2);
    expect(places(last?.findings ?? [])).toEqual([
      "org/big [env-02] actions secret AWS_ACCESS_KEY_ID hides organization org (Actions)",
      "org/big [env-02] actions secret AWS_SECRET_ACCESS_KEY hides organization org (Actions)",
      "org/big actions secret AWS_ACCESS_KEY_ID hides organization org (Actions)",
    ]);
    expect(jobsOf(last?.findings[2])).toEqual(["uses .github/workflows/ci.yml: late"]);
  });
});

describe("the refusal while a copy is unmanaged", () => {
  function finding(repo: string, name: string, environment?: string): ShadowFinding {
    return {
      repo,
      ...(environment === undefined ? {} : { environment }),
      store: "actions",
      kind: "secret",
      name,
      hides: repo,
      readers: {
        kind: "jobs",
        jobs: [{ label: ".github/workflows/deploy.yml: release", certain: true }],
        more: 0,
      },
    };
  }

  it("names each repository and environment once with its names, says nothing changed, and gives the three fixes", () => {
    // Act
    const error = new ShadowedKeyError(
      [
        finding("org/app", "AWS_ACCESS_KEY_ID", "production"),
        finding("org/app", "AWS_SECRET_ACCESS_KEY", "production"),
      ],
      { stage: "rotate" },
    );

    // Assess
    expect(error.message).toBe(
      "Rotation refused: copies of the key's secrets that this stack does not manage would hide the new key from the jobs that read them, which would keep using the old key and break when it is retired: org/app environment production (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Nothing was changed.",
    );
    expect(error.fix).toContain(
      '{"Owner":"org","Name":"app","Type":"environment","Environment":"production"}',
    );
    expect(error.fix).toContain('"Unmanaged": true');
    expect(error.fix).toContain("delete the copy");
    expect(error.details()).toEqual([
      "org/app environment production has its own secret AWS_ACCESS_KEY_ID, which hides org/app from the jobs .github/workflows/deploy.yml: release.",
      "org/app environment production has its own secret AWS_SECRET_ACCESS_KEY, which hides org/app from the jobs .github/workflows/deploy.yml: release.",
    ]);
  });

  it("says at Retire that the old key stays active, and counts places beyond ten", () => {
    // Act
    const error = new ShadowedKeyError(
      Array.from({ length: 12 }, (_, i) => finding(`org/r${i}`, "AWS_ACCESS_KEY_ID")),
      { stage: "retire", oldAccessKeyId: "TESTOLDKEY000001" },
    );

    // Assess
    expect(error.message).toMatch(
      /^Retire refused: the old key TESTOLDKEY000001 stays active, because copies/,
    );
    expect(error.message).toMatch(/org\/r9 \(AWS_ACCESS_KEY_ID\); and 2 more\.$/);
    expect(error.fix).toContain('{"Owner":"org","Name":"r0"}');
  });
});

describe("an organization secret that reaches repositories the credential cannot list", () => {
  const APP_SELECTED = {
    certain: true,
    total: 2,
    reason: "The GitHub App is installed on selected repositories of org only, and sees no other.",
    fix: 'Choose "All repositories" for the App.',
  };

  it("says how many repositories it looked at, that the others were not, why, and the fix", async () => {
    // Prepare: the credential lists org/app; GitHub says the secret reaches 2 repositories.
    const inventory = new MemoryInventory().repo("org/app").unseen("org", APP_SELECTED);

    // Act
    const result = await check(inventory, [organization("org", "all")]);

    // Assess
    expect(result.unseen).toEqual([
      { ...APP_SELECTED, target: "organization org (Actions)", owner: "org", seen: 1 },
    ]);
    expect(result.total).toBe(1);
    const [unseen] = result.unseen;
    if (unseen === undefined) throw new Error("no unseen organization");
    expect(describeUnseen(unseen)).toBe(
      "The organization secret organization org (Actions) reaches repositories the check for copies of the key's secrets cannot see: it looked at 1 repository of the 2 repositories it reaches, and not at the others. The GitHub App is installed on selected repositories of org only, and sees no other. A copy of the key's secrets in a repository it did not look at would keep that repository's jobs on the old key, and they would break when it is retired. Choose \"All repositories\" for the App.",
    );
  });

  it("says the check cannot confirm it saw every repository when GitHub gives no count", async () => {
    // Prepare
    const inventory = new MemoryInventory()
      .repo("org/app", { private: true })
      .unseen("org", { certain: false, reason: "No count.", fix: "Give the token every repository." });

    // Act
    const result = await check(inventory, [organization("org", "private")]);

    // Assess
    const [unseen] = result.unseen;
    if (unseen === undefined) throw new Error("no unseen organization");
    expect(describeUnseen(unseen)).toMatch(
      /^The check for copies of the key's secrets cannot confirm it saw every repository the organization secret organization org \(Actions\) reaches: it looked at 1 repository of org\. No count\./,
    );
  });
});
