import { describe, expect, it } from "vitest";
import { MAX_WORKFLOW_TEXT } from "../../src/domain/workflow.ts";
import { parseWorkflow, parseWorkflowRef } from "../../src/github/workflow-jobs.ts";

const PATH = ".github/workflows/w.yml";

describe("reading a workflow file's jobs", () => {
  it("reads a job's environment written as a name or as a map with a name, and a job without one", () => {
    // Act
    const file = parseWorkflow(
      PATH,
      `
on: push
jobs:
  a: { runs-on: x, environment: production }
  b: { runs-on: x, environment: { name: staging, url: "https://example.com" } }
  c: { runs-on: x }
  d: { runs-on: x, environment: { url: "https://example.com" } }
`,
    );

    // Assess
    expect(file.jobs).toEqual([
      { id: "a", environment: { kind: "named", names: ["production"] } },
      { id: "b", environment: { kind: "named", names: ["staging"] } },
      { id: "c", environment: { kind: "none" } },
      { id: "d", environment: { kind: "none" } },
    ]);
    expect(file.problem).toBeUndefined();
  });

  it("keeps `on` as an event name (YAML 1.2), in each of its three shapes", () => {
    // Act
    const triggers = [
      "on: push\njobs: {}\n",
      "on: [push, workflow_call]\njobs: {}\n",
      "on:\n  workflow_call: {}\njobs: {}\n",
    ].map((text) => parseWorkflow(PATH, text).triggers);

    // Assess
    expect(triggers).toEqual([["push"], ["push", "workflow_call"], ["workflow_call"]]);
  });

  it("tells an input reference, a matrix of plain names and any other expression apart", () => {
    // Act
    const file = parseWorkflow(
      PATH,
      `
on: push
jobs:
  input: { runs-on: x, environment: "\${{ inputs.target }}" }
  matrix:
    runs-on: x
    strategy: { matrix: { env: [qa, staging], include: [{ env: production }, { other: 1 }] } }
    environment: { name: "\${{ matrix.env }}" }
  computed-matrix:
    runs-on: x
    strategy: { matrix: { env: "\${{ fromJSON(needs.plan.outputs.envs) }}" } }
    environment: \${{ matrix.env }}
  matrix-with-expression:
    runs-on: x
    strategy: { matrix: { env: [qa, "\${{ vars.EXTRA }}"] } }
    environment: \${{ matrix.env }}
  partial: { runs-on: x, environment: "pr-\${{ github.event.number }}" }
`,
    );

    // Assess
    expect(file.jobs.map((job) => [job.id, job.environment])).toEqual([
      ["input", { kind: "input", input: "target" }],
      ["matrix", { kind: "named", names: ["qa", "staging", "production"] }],
      ["computed-matrix", { kind: "expression", expression: `\${{ matrix.env }}` }],
      ["matrix-with-expression", { kind: "expression", expression: `\${{ matrix.env }}` }],
      ["partial", { kind: "expression", expression: `pr-\${{ github.event.number }}` }],
    ]);
  });

  it("reads a call to a reusable workflow with the values it passes, and a reusable workflow's input defaults", () => {
    // Act
    const file = parseWorkflow(
      PATH,
      `
on:
  workflow_call:
    inputs:
      environment: { type: string, default: production }
      region: { type: string, default: "\${{ vars.REGION }}" }
jobs:
  local: { uses: ./.github/workflows/deploy.yml, with: { environment: staging, dry-run: true } }
  remote: { uses: org/shared/.github/workflows/deploy.yml@v1, with: { environment: "\${{ inputs.environment }}" } }
`,
    );

    // Assess
    expect(file.inputDefaults).toEqual({ environment: "production" });
    expect(file.jobs).toEqual([
      {
        id: "local",
        environment: { kind: "none" },
        calls: {
          workflow: { repo: undefined, path: ".github/workflows/deploy.yml", ref: undefined },
          with: { environment: "staging", "dry-run": "true" },
        },
      },
      {
        id: "remote",
        environment: { kind: "none" },
        calls: {
          workflow: {
            repo: { owner: "org", name: "shared" },
            path: ".github/workflows/deploy.yml",
            ref: "v1",
          },
          with: { environment: `\${{ inputs.environment }}` },
        },
      },
    ]);
  });

  it("treats a job calling something that is not a workflow reference as one whose environment is unknown", () => {
    // Act
    const file = parseWorkflow(PATH, `on: push\njobs:\n  odd: { uses: "\${{ vars.WORKFLOW }}" }\n`);

    // Assess
    expect(file.jobs).toEqual([
      { id: "odd", environment: { kind: "expression", expression: `\${{ vars.WORKFLOW }}` } },
    ]);
  });

  it("returns a file that is not YAML, or has no jobs map, with the problem and no jobs", () => {
    // Act
    const broken = parseWorkflow(PATH, "on: push\njobs: [unclosed\n");
    const noJobs = parseWorkflow(PATH, "on: push\n");

    // Assess
    expect(broken.jobs).toEqual([]);
    expect(broken.problem).toMatch(/^it is not valid YAML \(/);
    expect(noJobs.problem).toBe("it has no jobs map");
  });
});

describe("reading a hostile workflow file", () => {
  it("describes an environment name that is a YAML alias bomb in a few words instead of expanding it", () => {
    // Prepare: 500 bytes of YAML whose environment name, expanded, is a million strings (each level multiplies by ten).
    let text = `l0: &l0 [${Array(10).fill("lol").join(", ")}]\n`;
    for (let level = 1; level <= 5; level++) {
      text += `l${level}: &l${level} [${Array(10)
        .fill(`*l${level - 1}`)
        .join(", ")}]\n`;
    }
    text += "on: push\njobs:\n  bomb: { runs-on: x, environment: { name: *l5 } }\n";

    // Act
    const file = parseWorkflow(PATH, text);

    // Assess
    expect(text.length).toBeLessThan(1_000);
    expect(file.jobs).toEqual([{ id: "bomb", environment: { kind: "expression", expression: "a list" } }]);
  });

  it("reads a matrix of 200,000 names without running out of stack, and never throws", () => {
    // Prepare: about 600 KB, under the 1 MB the contents API sends.
    const names = Array.from({ length: 200_000 }, (_, i) => `e${i}`).join(", ");
    const text = `on: push\njobs:\n  wide:\n    runs-on: x\n    strategy: { matrix: { env: [${names}] } }\n    environment: \${{ matrix.env }}\n`;

    // Act
    const file = parseWorkflow(PATH, text);

    // Assess
    const environment = file.jobs[0]?.environment;
    expect(environment?.kind).toBe("named");
    expect(environment?.kind === "named" ? environment.names.length : 0).toBe(200_000);
  });

  it("cuts a job ID or an environment expression of thousands of characters, and shows control characters escaped", () => {
    // Prepare
    const long = `\${{ format('{0}', '${"x".repeat(5_000)}') }}`;
    const text = `on: push\njobs:\n  "${"j".repeat(5_000)}\\nRotation succeeded": { runs-on: x, environment: "${long}" }\n`;

    // Act
    const file = parseWorkflow(PATH, text);

    // Assess
    const [job] = file.jobs;
    expect(job?.id.length).toBeLessThanOrEqual(MAX_WORKFLOW_TEXT);
    expect(job?.id).toMatch(/^j+\.\.\.$/);
    const environment = job?.environment;
    expect(environment?.kind).toBe("expression");
    const expression = environment?.kind === "expression" ? environment.expression : "";
    expect(expression.length).toBeLessThanOrEqual(MAX_WORKFLOW_TEXT);
    expect(expression).toMatch(/^\$\{\{ format\('\{0\}', 'x+\.\.\.$/);
    expect(parseWorkflow(PATH, 'on: push\njobs:\n  "a\\nb\\u202ec": { runs-on: x }\n').jobs[0]?.id).toBe(
      "a\\u000ab\\u202ec",
    );
  });
});

describe("reading a reusable workflow reference", () => {
  it("reads the same repository's and another repository's forms, and refuses anything else", () => {
    expect(parseWorkflowRef("./.github/workflows/a.yml")).toEqual({
      repo: undefined,
      path: ".github/workflows/a.yml",
      ref: undefined,
    });
    expect(parseWorkflowRef("octo-org/example-repo/.github/workflows/a.yaml@refs/heads/main")).toEqual({
      repo: { owner: "octo-org", name: "example-repo" },
      path: ".github/workflows/a.yaml",
      ref: "refs/heads/main",
    });
    expect(parseWorkflowRef("octo-org/example-repo/.github/workflows/a.yml")).toBeUndefined();
    expect(parseWorkflowRef("docker://alpine:3")).toBeUndefined();
  });
});
