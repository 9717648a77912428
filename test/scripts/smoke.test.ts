/**
 * `npm run smoke` against a stack in moto (CloudFormation stack and SSM documents) with a fake for the
 * Automation executions moto does not emulate, as `run` is tested. The Rotate runbook here has the contract's
 * shape (a loop, then the result, the grace period and Retire); the checks read the steps from its content.
 */
import { randomBytes } from "node:crypto";
import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import {
  type AutomationExecution,
  SSMClient,
  type StepExecution,
  UpdateDocumentCommand,
} from "@aws-sdk/client-ssm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { createSmokeCommand } from "../../scripts/lib/smoke.ts";
import { awsClientConfig, uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import { runCli } from "./cli-harness.ts";
import { SMOKE_EXECUTION_ID, SmokeSsmStub, SteppingClock } from "./smoke-ssm.ts";

const endpoint = inject("motoEndpoint");
const cloudFormation = new CloudFormationClient(awsClientConfig(endpoint));
const ssmClient = new SSMClient(awsClientConfig(endpoint));
afterAll(() => {
  cloudFormation.destroy();
  ssmClient.destroy();
});

/** A Rotate runbook of the contract's shape (runbook/rotate.yaml after contract v2), small enough for moto. */
const ROTATE = {
  schemaVersion: "0.3",
  description: "Rotate (smoke test fixture)",
  parameters: { DryRun: { type: "Boolean", default: false } },
  outputs: [
    "CheckRotateResult.Next",
    "CheckRotateResult.RetireAfter",
    "CheckRetire.Next",
    "CheckRetire.Summary",
  ],
  mainSteps: [
    {
      name: "RotateLoop",
      action: "aws:loop",
      inputs: {
        MaxIterations: 100,
        LoopCondition: { Variable: "{{ CheckRotate.Next }}", StringEquals: "again" },
        Steps: [
          { name: "Rotate", action: "aws:invokeLambdaFunction", inputs: { FunctionName: "f" } },
          {
            name: "CheckRotate",
            action: "aws:executeScript",
            inputs: { Runtime: "python3.11", Handler: "h" },
          },
          {
            name: "WaitForWriteBudget",
            action: "aws:sleep",
            inputs: { Timestamp: "{{ CheckRotate.ResumeAt }}" },
          },
        ],
      },
    },
    { name: "RotateResult", action: "aws:invokeLambdaFunction", inputs: { FunctionName: "f" } },
    {
      name: "CheckRotateResult",
      action: "aws:executeScript",
      inputs: { Runtime: "python3.11", Handler: "h" },
    },
    { name: "OnResult", action: "aws:branch", inputs: { Choices: [] } },
    {
      name: "WaitForGracePeriod",
      action: "aws:sleep",
      inputs: { Timestamp: "{{ CheckRotateResult.RetireAfter }}" },
    },
    { name: "Retire", action: "aws:invokeLambdaFunction", inputs: { FunctionName: "f" } },
    {
      name: "CheckRetire",
      action: "aws:executeScript",
      isEnd: true,
      inputs: { Runtime: "python3.11", Handler: "h" },
    },
    {
      name: "ContinuesAtNextRun",
      action: "aws:executeScript",
      isEnd: true,
      inputs: { Runtime: "python3.11", Handler: "h" },
    },
  ],
};

const OTHER = {
  schemaVersion: "0.3",
  mainSteps: [{ name: "Run", action: "aws:invokeLambdaFunction", inputs: { FunctionName: "f" } }],
};

interface SmokeStack {
  readonly stack: string;
  readonly rotate: string;
  readonly list: string;
}

/** A CloudFormation stack in moto holding the four runbooks, as the template names them. */
async function deployStack(): Promise<SmokeStack> {
  const user = uniqueName("smoke");
  const stack = `akm-${user}`;
  const document = (suffix: string, content: unknown) => ({
    Type: "AWS::SSM::Document",
    Properties: {
      Name: `GHS-AKM-${user}-${suffix}`,
      DocumentType: "Automation",
      DocumentFormat: "YAML",
      Content: stringify(content),
    },
  });
  const template = {
    Resources: {
      rAkmSsmAutomation: document("Rotate", ROTATE),
      rAkmSsmGetRepoList: document("Get-RepoList", OTHER),
      rAkmSsmAddRepoConfig: document("Add-RepoConfig", OTHER),
      rAkmSsmDeleteRepoConfig: document("Delete-RepoConfig", OTHER),
    },
  };
  await cloudFormation.send(
    new CreateStackCommand({ StackName: stack, TemplateBody: JSON.stringify(template) }),
  );
  return { stack, rotate: `GHS-AKM-${user}-Rotate`, list: `GHS-AKM-${user}-Get-RepoList` };
}

/** A new version of a document that does not become the default (what a stack update leaves when #2539 bites). */
async function addVersion(name: string, content: unknown): Promise<void> {
  await ssmClient.send(
    new UpdateDocumentCommand({
      Name: name,
      Content: `${stringify(content)}# ${randomBytes(4).toString("hex")}\n`,
      DocumentFormat: "YAML",
      DocumentVersion: "$LATEST",
    }),
  );
}

function step(name: string, action: string, extra: Partial<StepExecution> = {}): StepExecution {
  return { StepName: name, Action: action, StepStatus: "Success", StepExecutionId: `${name}-1`, ...extra };
}

const inLoop = { ParentStepDetails: { StepName: "RotateLoop", Action: "aws:loop", Iteration: 1 } };

const DRY_RUN_STEPS: StepExecution[] = [
  step("RotateLoop", "aws:loop"),
  step("Rotate", "aws:invokeLambdaFunction", inLoop),
  step("CheckRotate", "aws:executeScript", inLoop),
  step("WaitForWriteBudget", "aws:sleep", inLoop),
  step("RotateResult", "aws:invokeLambdaFunction"),
  step("CheckRotateResult", "aws:executeScript"),
  step("OnResult", "aws:branch"),
  step("WaitForGracePeriod", "aws:sleep"),
  step("Retire", "aws:invokeLambdaFunction"),
  step("CheckRetire", "aws:executeScript"),
];

const GOOD_OUTPUTS: Record<string, string[]> = {
  "CheckStart.Next": ["rotate"],
  "CheckRotateResult.Next": ["retire"],
  "CheckRotateResult.RetireAfter": ["2026-11-30T12:01:00Z"],
  "CheckRotateResult.NewAccessKeyId": ["none"],
  "CheckRotateResult.OldAccessKeyId": ["FAKEKEY000000001"],
  "CheckRetire.Next": ["done"],
  "CheckRetire.Summary": ["Dry run: would deactivate key FAKEKEY000000001; nothing was changed."],
};

function succeeded(changes: Partial<AutomationExecution> = {}): AutomationExecution {
  return {
    AutomationExecutionStatus: "Success",
    DocumentVersion: "1",
    StepExecutions: DRY_RUN_STEPS,
    Outputs: GOOD_OUTPUTS,
    ...changes,
  };
}

const PENDING: AutomationExecution = { AutomationExecutionStatus: "Pending", StepExecutions: [] };
const RUNNING: AutomationExecution = {
  AutomationExecutionStatus: "InProgress",
  StepExecutions: DRY_RUN_STEPS.slice(0, 2),
};

async function smoke(
  deployed: SmokeStack,
  snapshots: AutomationExecution[],
  options: { argv?: string[]; allSteps?: StepExecution[] } = {},
) {
  const ssm = new SmokeSsmStub(ssmClient, snapshots, options.allSteps);
  const clock = new SteppingClock();
  const command = createSmokeCommand({ cloudFormation: () => cloudFormation, ssm: () => ssm, clock });
  const result = await runCli(command, [
    "--stack",
    deployed.stack,
    "--region",
    "us-east-1",
    ...(options.argv ?? []),
  ]);
  const lines = result.stdout.split("\n");
  return { ...result, ssm, clock, verdict: lines[lines.length - 1] ?? "" };
}

describe("npm run smoke on a healthy stack", () => {
  it("passes: latest versions, a DryRun through every step of the loop and after it, outputs as the contract says", async () => {
    // Prepare
    const deployed = await deployStack();

    // Act
    const result = await smoke(deployed, [PENDING, RUNNING, RUNNING, succeeded()]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.verdict).toMatch(
      /^smoke: PASS — 4 runbooks run their latest version; DryRun execution .* went through all 10 step executions \(loop included\)/,
    );
    expect(result.ssm.started).toEqual([{ DocumentName: deployed.rotate, Parameters: { DryRun: ["true"] } }]);
    expect(result.clock.waits).toEqual([5_000, 5_000, 5_000]);
    expect(result.stdout).toContain(`${deployed.rotate}: default 1, latest 1`);
  });

  it("reads every step of a long execution page by page when SSM truncates the list", async () => {
    // Prepare
    const deployed = await deployStack();
    const truncated = succeeded({ StepExecutions: DRY_RUN_STEPS.slice(0, 3), StepExecutionsTruncated: true });

    // Act
    const result = await smoke(deployed, [truncated], { allSteps: DRY_RUN_STEPS });

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.ssm.stepPages).toEqual([undefined, "2", "4", "6", "8"]);
  });
});

describe("npm run smoke finds", () => {
  it("a runbook whose default is not its latest version, and does not start a DryRun of an old Rotate", async () => {
    // Prepare
    const deployed = await deployStack();
    await addVersion(deployed.rotate, ROTATE);

    // Act
    const result = await smoke(deployed, [succeeded()]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toBe(
      `smoke: FAIL — runbook ${deployed.rotate} runs version 1 by default, not its latest version 2: the schedule and the console run older content ` +
        `(Systems Manager > Documents > ${deployed.rotate} > Versions (us-east-1)). Fix: update the stack again (its custom resource rRunbookDefaultVersions sets the default), ` +
        `or run \`aws ssm update-document-default-version --region us-east-1 --name ${deployed.rotate} --document-version 2\`. (1 more problem above)`,
    );
    expect(result.stdout).toContain("the DryRun was not started");
    expect(result.ssm.started).toEqual([]);
  });

  it("a stale default of another runbook, while still checking the DryRun", async () => {
    // Prepare
    const deployed = await deployStack();
    await addVersion(deployed.list, OTHER);

    // Act
    const result = await smoke(deployed, [succeeded()]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toContain(
      `runbook ${deployed.list} runs version 1 by default, not its latest version 2`,
    );
    expect(result.ssm.started).toHaveLength(1);
  });

  it("a failed DryRun: the execution's message, the failed step and the console link", async () => {
    // Prepare
    const deployed = await deployStack();
    const message = "Invalid repository list s3://b/repos.json: not found. Fix: upload repos.json.";
    const failed: AutomationExecution = {
      AutomationExecutionStatus: "Failed",
      FailureMessage: message,
      StepExecutions: [
        step("RotateLoop", "aws:loop", { StepStatus: "Failed" }),
        step("CheckRotate", "aws:executeScript", {
          ...inLoop,
          StepStatus: "Failed",
          FailureMessage: message,
        }),
      ],
      Outputs: {},
    };

    // Act
    const result = await smoke(deployed, [failed]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toMatch(
      /^smoke: FAIL — the DryRun execution ended Failed: Invalid repository list/,
    );
    expect(result.verdict).toContain(
      `https://us-east-1.console.aws.amazon.com/systems-manager/automation/execution/${SMOKE_EXECUTION_ID}?region=us-east-1`,
    );
    expect(result.stdout).toContain(
      "step CheckRotate (loop RotateLoop, iteration 1) ended Failed: Invalid repository list",
    );
    expect(result.stdout).toContain(
      "step Retire did not run to Success, although a DryRun goes through every step",
    );
  });

  it("a loop whose inner steps did not all run", async () => {
    // Prepare
    const deployed = await deployStack();
    const withoutWait = DRY_RUN_STEPS.filter((s) => s.StepName !== "WaitForWriteBudget");

    // Act
    const result = await smoke(deployed, [succeeded({ StepExecutions: withoutWait })]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toContain("step WaitForWriteBudget inside loop RotateLoop never ran to Success");
  });

  it("outputs outside the contract: each one named", async () => {
    // Prepare
    const deployed = await deployStack();
    const outputs = {
      ...GOOD_OUTPUTS,
      "CheckRotateResult.Next": ["maybe"],
      "CheckRotateResult.RetireAfter": ["2026-11-30 12:01"],
      "CheckRotateResult.NewAccessKeyId": [""],
      "CheckRetire.Next": ["{{ CheckRetire.Next }}"],
      "CheckRetire.Summary": [`Retired. secret_access_key=${"Ab1".repeat(13)}x`],
    };

    // Act
    const result = await smoke(deployed, [succeeded({ Outputs: outputs })]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      'output CheckRotateResult.Next is "maybe", not one of again, done, failed, retire, continues, rotate, leave',
    );
    expect(result.stdout).toContain(
      'output CheckRotateResult.RetireAfter is "2026-11-30 12:01", not a time in the form YYYY-MM-DDThh:mm:ssZ',
    );
    expect(result.stdout).toContain(
      'output CheckRotateResult.NewAccessKeyId is "", neither an access key ID nor "none"',
    );
    expect(result.stdout).toContain("output CheckRetire.Next was never set");
    expect(result.stdout).toContain("output CheckRetire.Summary holds a value shaped like a secret");
    expect(result.stdout).not.toContain("Ab1Ab1Ab1");
  });

  it("a secret access key's shape in an output even without a label", async () => {
    // Prepare
    const deployed = await deployStack();
    const outputs = { ...GOOD_OUTPUTS, "CheckRetire.Summary": [`done ${"wJalr".repeat(7)}XUtn9`] };

    // Act
    const result = await smoke(deployed, [succeeded({ Outputs: outputs })]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toContain("output CheckRetire.Summary holds a value shaped like a secret");
    expect(result.stdout).not.toContain("wJalrwJalr");
  });

  it("an execution that does not end in time, after waiting on its clock only", async () => {
    // Prepare
    const deployed = await deployStack();

    // Act
    const result = await smoke(deployed, [RUNNING], {
      argv: ["--timeout-minutes", "1", "--poll-seconds", "20"],
    });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toMatch(/^smoke: FAIL — the DryRun execution is still InProgress after 1 minutes/);
    expect(result.clock.waits).toEqual([20_000, 20_000, 20_000]);
  });

  it("a stack that does not exist: says so, with how to list the stacks", async () => {
    // Act
    const result = await smoke({ stack: uniqueName("no-such-stack"), rotate: "", list: "" }, []);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.verdict).toMatch(
      /^smoke: FAIL — could not list the resources of stack no-such-stack-\w+ in us-east-1: ValidationError/,
    );
    expect(result.verdict).toContain("aws cloudformation list-stacks --region us-east-1");
  });
});

describe("npm run smoke arguments", () => {
  it.each([
    [["--region", "us-east-1"], "--stack is required"],
    [["--stack", "akm"], "--region is required"],
    [["--stack", "akm", "--region", "Ireland"], "is not an AWS region code"],
    [["--stack", "akm", "--region", "eu-west-1", "--timeout-minutes", "0"], "--timeout-minutes '0' must be"],
  ])("refuses %j with exit 2", async (argv, message) => {
    const command = createSmokeCommand({
      cloudFormation: () => cloudFormation,
      ssm: () => new SmokeSsmStub(ssmClient, []),
      clock: new SteppingClock(),
    });

    const result = await runCli(command, argv);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
