import {
  AutomationDefinitionNotFoundException,
  type AutomationExecution,
  type AutomationExecutionStatus,
  InternalServerError,
} from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createRunbookCommand, type SsmDocumentReader } from "../../scripts/lib/run.ts";
import { loadTemplate } from "../template/dist.ts";
import { runCli } from "./cli-harness.ts";
import { EXECUTION_ID, FakeSsm, RecordingSleeper } from "./fake-ssm.ts";

const DOCUMENT = "GHS-AKM-ci-deployer-Rotate";
const REGION = "eu-west-1";

const PENDING: AutomationExecution = { AutomationExecutionStatus: "Pending", StepExecutions: [] };
const ROTATING: AutomationExecution = {
  AutomationExecutionStatus: "InProgress",
  StepExecutions: [
    {
      StepExecutionId: "s1",
      StepName: "Rotate",
      Action: "aws:invokeLambdaFunction",
      StepStatus: "InProgress",
    },
  ],
};
const ROTATED: AutomationExecution = {
  AutomationExecutionStatus: "InProgress",
  StepExecutions: [
    { StepExecutionId: "s1", StepName: "Rotate", Action: "aws:invokeLambdaFunction", StepStatus: "Success" },
    { StepExecutionId: "s2", StepName: "CheckRotate", Action: "aws:branch", StepStatus: "InProgress" },
  ],
};
const SUCCEEDED: AutomationExecution = {
  AutomationExecutionStatus: "Success",
  StepExecutions: [
    { StepExecutionId: "s1", StepName: "Rotate", Action: "aws:invokeLambdaFunction", StepStatus: "Success" },
    { StepExecutionId: "s2", StepName: "CheckRotate", Action: "aws:branch", StepStatus: "Success" },
  ],
  Outputs: {
    "Rotate.Summary": ["Rotated: 2 repositories hold the new key.\nOld key retires after the grace period."],
    "Rotate.NewAccessKeyId": ["FAKEKEY000000001"],
  },
};

function failedWith(status: AutomationExecutionStatus, message: string): AutomationExecution {
  return {
    AutomationExecutionStatus: status,
    FailureMessage: message,
    StepExecutions: [
      {
        StepExecutionId: "s1",
        StepName: "Rotate",
        Action: "aws:invokeLambdaFunction",
        StepStatus: status,
        FailureMessage: message,
      },
    ],
  };
}

async function run(ssm: FakeSsm, argv: string[], sleeper = new RecordingSleeper()) {
  const command = createRunbookCommand({ ssm: () => ssm, sleep: sleeper.sleep });
  return runCli(command, ["--document", DOCUMENT, "--region", REGION, ...argv]);
}

describe("npm run run", () => {
  it("starts the runbook with every parameter as a list of strings", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await run(ssm, ["--param", "DryRun=true", "--param", "Names=a", "--param", "Names=b=c"]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(ssm.started).toEqual([
      { DocumentName: DOCUMENT, Parameters: { DryRun: ["true"], Names: ["a", "b=c"] } },
    ]);
  });

  it("without --wait, prints the execution ID and how to follow it, and does not poll", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await run(ssm, []);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Started ${DOCUMENT} in ${REGION}: execution ${EXECUTION_ID}`);
    expect(result.stdout).toContain(
      `https://eu-west-1.console.aws.amazon.com/systems-manager/automation/execution/${EXECUTION_ID}?region=eu-west-1`,
    );
    expect(result.stdout).toContain(`--automation-execution-id ${EXECUTION_ID}`);
    expect(ssm.gets).toBe(0);
  });

  it("names the parameters it sends but never prints their values", async () => {
    // Prepare
    const ssm = new FakeSsm();
    const value = "some-value-that-could-be-sensitive";

    // Act
    const result = await run(ssm, ["--param", `GITHUBREPO=${value}`]);

    // Assess
    expect(result.stdout).toContain("with GITHUBREPO");
    expect(`${result.stdout}${result.stderr}`).not.toContain(value);
  });

  it("with --wait, prints each step once per status change and the outputs, and exits 0 on Success", async () => {
    // Prepare
    const ssm = new FakeSsm([PENDING, ROTATING, ROTATING, ROTATED, SUCCEEDED]);

    // Act
    const result = await run(ssm, ["--wait"]);

    // Assess
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines.slice(lines.indexOf("Execution Pending"))).toEqual([
      "Execution Pending",
      "Execution InProgress",
      "  step Rotate (aws:invokeLambdaFunction): InProgress",
      "  step Rotate (aws:invokeLambdaFunction): Success",
      "  step CheckRotate (aws:branch): InProgress",
      "Execution Success",
      "  step CheckRotate (aws:branch): Success",
      `Execution ${EXECUTION_ID} ended Success.`,
      "Outputs:",
      "  Rotate.NewAccessKeyId: FAKEKEY000000001",
      "  Rotate.Summary: Rotated: 2 repositories hold the new key.",
      "    Old key retires after the grace period.",
    ]);
  });

  it("waits the poll interval between checks and not after the end", async () => {
    // Prepare
    const ssm = new FakeSsm([PENDING, ROTATING, SUCCEEDED]);
    const sleeper = new RecordingSleeper();

    // Act
    await run(ssm, ["--wait", "--poll-seconds", "7"], sleeper);

    // Assess
    expect(ssm.gets).toBe(3);
    expect(sleeper.waits).toEqual([7000, 7000]);
  });

  it.each<AutomationExecutionStatus>(["Failed", "TimedOut", "Cancelled"])(
    "exits 3 and prints the failure message when the runbook ends %s",
    async (status) => {
      // Prepare
      const ssm = new FakeSsm([ROTATING, failedWith(status, "Step fails when it is verifying the key.")]);

      // Act
      const result = await run(ssm, ["--wait"]);

      // Assess
      expect(result.exitCode).toBe(3);
      expect(result.stdout).toContain(
        `  step Rotate (aws:invokeLambdaFunction): ${status}: Step fails when it is verifying the key.`,
      );
      expect(result.stdout).toContain(`ended ${status}.`);
      expect(result.stdout).toContain("Failure message: Step fails when it is verifying the key.");
    },
  );

  it("redacts anything shaped like a GitHub token in outputs and failure messages", async () => {
    // Prepare: built at run time so no token-shaped string sits in the source.
    const token = `ghp_${"A1b2C3d4E5".repeat(4)}`;
    const execution = failedWith("Failed", `GitHub refused ${token}`);
    const ssm = new FakeSsm([{ ...execution, Outputs: { "Rotate.Summary": [`token ${token}`] } }]);

    // Act
    const result = await run(ssm, ["--wait"]);

    // Assess
    expect(result.exitCode).toBe(3);
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).toContain("Rotate.Summary: token [redacted]");
  });

  it("exits 1 and names the runbooks the stack creates when the runbook does not exist", async () => {
    // Prepare
    const ssm = new FakeSsm();
    ssm.startError = new AutomationDefinitionNotFoundException({
      message: "Automation definition not found",
      $metadata: { httpStatusCode: 400, requestId: "req-123" },
    });

    // Act
    const result = await run(ssm, ["--wait"]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `run: Could not start runbook ${DOCUMENT} in ${REGION}: AutomationDefinitionNotFoundException: Automation definition not found (HTTP 400, request ID req-123)`,
    );
    expect(result.stderr).toContain(
      "GHS-AKM-<IamUserName>-Rotate, -Get-RepoList, -Add-RepoConfig and -Delete-RepoConfig",
    );
  });

  it("exits 1 and says the execution keeps running when its status cannot be read", async () => {
    // Prepare
    const ssm = new FakeSsm([ROTATING]);
    ssm.getError = new InternalServerError({ message: "Internal error", $metadata: { httpStatusCode: 500 } });

    // Act
    const result = await run(ssm, ["--wait"]);

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`Could not read the status of Automation execution ${EXECUTION_ID}`);
    expect(result.stderr).toContain("The execution keeps running");
  });

  it.each([
    [["--poll-seconds", "0"], "--poll-seconds '0' must be a whole number of seconds from 1 to 300"],
    [["--poll-seconds", "2.5"], "--poll-seconds '2.5'"],
    [["--param", "DryRun"], "--param number 1 has no '='"],
    [["--document", "x y"], "--document 'x y' is not a runbook name"],
    [["--region", "Frankfurt"], "--region 'Frankfurt' is not an AWS region code"],
    [["--wait", "yes"], "Unexpected argument 'yes'"],
  ])("exits 2 without starting anything on bad arguments %j", async (argv, message) => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await run(ssm, argv);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(ssm.started).toEqual([]);
  });

  it("exits 2 when --document is missing", async () => {
    // Prepare
    const command = createRunbookCommand({ ssm: () => new FakeSsm(), sleep: new RecordingSleeper().sleep });

    // Act
    const result = await runCli(command, ["--region", REGION]);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--document is required");
  });
});

/** Answers GetDocument with the content the stack deploys for a runbook (dist/, by logical ID). */
function documents(logicalId: string, error?: Error): SsmDocumentReader {
  const { template } = loadTemplate();
  const content = stringify(template.Resources[logicalId]?.Properties.Content);
  return {
    send: async () => {
      if (error) throw error;
      return { Content: content, DocumentFormat: "YAML", $metadata: {} };
    },
  };
}

async function runChecked(
  ssm: FakeSsm,
  argv: string[],
  logicalId = "rAkmSsmAutomation",
  document = DOCUMENT,
) {
  const command = createRunbookCommand({
    ssm: () => ssm,
    documents: () => documents(logicalId),
    sleep: new RecordingSleeper().sleep,
  });
  return runCli(command, ["--document", document, "--region", REGION, ...argv]);
}

describe("npm run run: parameters checked against the runbook before starting", () => {
  it.each([
    [
      ["--param", "dryrun=true"],
      "dryrun is not a parameter of GHS-AKM-ci-deployer-Rotate: names are case-sensitive, write DryRun.",
    ],
    [["--param", "DryRun=True"], "DryRun=True: must be one of true, false (values are case-sensitive)."],
    [
      ["--param", "Names=a"],
      "Names is not a parameter of GHS-AKM-ci-deployer-Rotate; its parameters are DryRun, ReplaceOlderKey, StartedBy.",
    ],
    [
      ["--param", "StartedBy=Schedule"],
      "StartedBy=Schedule: must be one of user, schedule (values are case-sensitive).",
    ],
  ])("refuses %j and starts nothing", async (argv, message) => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await runChecked(ssm, argv);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(ssm.started).toEqual([]);
  });

  it("names a required parameter that is missing", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await runChecked(
      ssm,
      ["--param", "GITHUBREPO=my-repo"],
      "rAkmSsmAddRepoConfig",
      "GHS-AKM-ci-deployer-Add-RepoConfig",
    );

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("GITHUBOWNER is required by GHS-AKM-ci-deployer-Add-RepoConfig");
  });

  it("refuses a kind of entry Add-RepoConfig does not know, listing the ones it does", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await runChecked(
      ssm,
      ["--param", "GITHUBOWNER=my-org", "--param", "TargetType=org", "--param", "Visibility=all"],
      "rAkmSsmAddRepoConfig",
      "GHS-AKM-ci-deployer-Add-RepoConfig",
    );

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      "TargetType=org: must be one of repository, environment, organization (values are case-sensitive).",
    );
    expect(ssm.started).toEqual([]);
  });

  it("starts Add-RepoConfig for an organization secret with only the parameters that kind needs", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await runChecked(
      ssm,
      [
        "--param",
        "GITHUBOWNER=my-org",
        "--param",
        "TargetType=organization",
        "--param",
        "Visibility=selected",
        "--param",
        "Repositories=api,web",
      ],
      "rAkmSsmAddRepoConfig",
      "GHS-AKM-ci-deployer-Add-RepoConfig",
    );

    // Assess
    expect(result.exitCode).toBe(0);
    expect(ssm.started).toHaveLength(1);
  });

  it("starts the runbook when every parameter is declared and allowed", async () => {
    // Prepare
    const ssm = new FakeSsm();

    // Act
    const result = await runChecked(ssm, ["--param", "DryRun=true", "--param", "ReplaceOlderKey=false"]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(ssm.started).toHaveLength(1);
  });

  it("starts anyway, saying so, when the runbook cannot be read", async () => {
    // Prepare
    const ssm = new FakeSsm();
    const denied = Object.assign(new Error("no"), { name: "AccessDeniedException" });
    const command = createRunbookCommand({
      ssm: () => ssm,
      documents: () => documents("rAkmSsmAutomation", denied),
      sleep: new RecordingSleeper().sleep,
    });

    // Act
    const result = await runCli(command, [
      "--document",
      DOCUMENT,
      "--region",
      REGION,
      "--param",
      "DryRun=true",
    ]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("could not read the parameters of GHS-AKM-ci-deployer-Rotate");
    expect(ssm.started).toHaveLength(1);
  });
});

const GRACE: AutomationExecution = {
  AutomationExecutionStatus: "InProgress",
  StepExecutions: [
    { StepExecutionId: "s1", StepName: "Rotate", Action: "aws:invokeLambdaFunction", StepStatus: "Success" },
    { StepExecutionId: "s2", StepName: "CheckRotate", Action: "aws:branch", StepStatus: "Success" },
    { StepExecutionId: "s3", StepName: "WaitForGracePeriod", Action: "aws:sleep", StepStatus: "InProgress" },
  ],
};

describe("npm run run --wait on a real Rotate", () => {
  it("says up front that it waits through the grace period, and how not to", async () => {
    // Prepare
    const ssm = new FakeSsm([ROTATING, SUCCEEDED]);

    // Act
    const result = await run(ssm, ["--wait"]);

    // Assess
    expect(result.exitCode).toBe(0);
    const notice = result.stdout.indexOf("Waiting to the end: after the rotation, step WaitForGracePeriod");
    expect(notice).toBeGreaterThan(result.stdout.indexOf("Started"));
    expect(notice).toBeLessThan(result.stdout.indexOf("Execution InProgress"));
    expect(result.stdout).toContain("--wait=rotation next time");
  });

  it("--wait=rotation stops waiting at the grace period; the execution goes on", async () => {
    // Prepare
    const ssm = new FakeSsm([ROTATING, GRACE, SUCCEEDED]);

    // Act
    const result = await run(ssm, ["--wait=rotation"]);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(ssm.gets).toBe(2);
    expect(result.stdout).toContain("The rotation is done: every listed repository holds the new key.");
    expect(result.stdout).not.toContain("Waiting to the end");
  });

  it("--wait=rotation still reports a rotation that failed before the grace period", async () => {
    // Prepare
    const ssm = new FakeSsm([ROTATING, failedWith("Failed", "GitHub rejected the token (401)")]);

    // Act
    const result = await run(ssm, ["--wait=rotation"]);

    // Assess
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toContain("Failure message: GitHub rejected the token (401)");
  });

  it.each([
    [["--param", "DryRun=true", "--wait=rotation"], "--wait=rotation is for a real Rotate"],
    [["--wait=forever"], "--wait=forever is not known"],
  ])("refuses %j", async (argv, message) => {
    // Act
    const result = await run(new FakeSsm(), argv);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
