// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${{ ... }}" here is GitHub Actions expression syntax.
/**
 * The release workflow, read as data (actionlint checks its syntax and expressions in `npm test`; this checks
 * what it does): least permissions, actions pinned by commit, the checks before anything is attached, and the
 * S3 publishing only when the maintainers configured it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../scripts/lib/shared/cli.ts";

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string>>;
}

interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly permissions?: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

interface Workflow {
  readonly on: Readonly<Record<string, unknown>>;
  readonly permissions: Readonly<Record<string, string>>;
  readonly jobs: Readonly<Record<string, Job>>;
}

const workflow = parse(
  readFileSync(join(PROJECT_ROOT, ".github", "workflows", "release.yml"), "utf8"),
) as Workflow;
const attach = workflow.jobs.attach as Job;
const publish = workflow.jobs.publish as Job;

/** Index of the first step whose command contains `text`; fails the test when none does. */
function stepRunning(job: Job, text: string): number {
  const index = job.steps.findIndex((step) => step.run?.includes(text));
  expect(index, `a step running ${text}`).toBeGreaterThanOrEqual(0);
  return index;
}

describe("the release workflow", () => {
  it("runs when a release is published", () => {
    // Assess
    expect(workflow.on).toEqual({ release: { types: ["published"] } });
  });

  it("grants nothing by default, contents: write to the job attaching files, and OIDC only to the publishing job", () => {
    // Assess
    expect(workflow.permissions).toEqual({});
    expect(attach.permissions).toEqual({ contents: "write" });
    expect(publish.permissions).toEqual({ "id-token": "write", contents: "read" });
  });

  it("pins every action by a full commit SHA", () => {
    // Prepare
    const uses = Object.values(workflow.jobs).flatMap((job) =>
      job.steps.flatMap((step) => (step.uses === undefined ? [] : [step.uses])),
    );

    // Assess
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("checks out without keeping the token in the working copy", () => {
    // Prepare
    const checkouts = Object.values(workflow.jobs).flatMap((job) =>
      job.steps.filter((step) => step.uses?.startsWith("actions/checkout@")),
    );

    // Assess
    expect(checkouts).toHaveLength(2);
    for (const step of checkouts) expect(step.with?.["persist-credentials"]).toBe(false);
  });

  it("installs the lockfile, checks the tag and dist/ against the sources, then attaches the template and its SHA-256", () => {
    // Act
    const install = stepRunning(attach, "npm ci");
    const tag = stepRunning(attach, 'require("./package.json").version');
    const check = stepRunning(attach, "npm run build -- --check");
    const checksum = stepRunning(attach, "sha256sum aws-github-akm.template.yaml");
    const upload = stepRunning(attach, "gh release upload");

    // Assess
    expect([install, tag, check, checksum, upload]).toEqual(
      [...[install, tag, check, checksum, upload]].sort(),
    );
    const command = attach.steps[upload]?.run ?? "";
    expect(command).toContain(
      "release/aws-github-akm.template.yaml release/aws-github-akm.template.yaml.sha256",
    );
    expect(attach.steps[upload]?.env?.GH_TOKEN).toBe("${{ github.token }}");
  });

  it("publishes to S3 only when both the bucket and the role are configured, after attaching", () => {
    // Assess
    expect(publish.needs).toBe("attach");
    expect(publish.if).toBe("vars.AKM_TEMPLATE_BUCKET_PREFIX != '' && vars.AKM_RELEASE_ROLE_ARN != ''");
  });

  it("assumes the role by OIDC (no stored AWS keys) and uploads with launch-link, which checks dist/ again", () => {
    // Prepare
    const credentials = publish.steps.find((step) =>
      step.uses?.startsWith("aws-actions/configure-aws-credentials@"),
    );

    // Act
    const upload = stepRunning(publish, "npm run --silent launch-link --");

    // Assess
    expect(credentials?.with).toEqual({
      "role-to-assume": "${{ vars.AKM_RELEASE_ROLE_ARN }}",
      "role-session-name": "aws-github-akm-release",
      "aws-region": "${{ matrix.region }}",
    });
    expect(publish.steps.indexOf(credentials as Step)).toBeLessThan(upload);
    expect(JSON.stringify(workflow)).not.toMatch(/secrets\.AWS_/);
  });
});
