import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { diffCommand, readDeployedTemplate } from "../../scripts/lib/diff.ts";
import { awsClientConfig, MOTO_REGION, uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import { ORIGINAL_STACK_FIXTURE, runCli, stubMotoEnvironment } from "./cli-harness.ts";

const endpoint = inject("motoEndpoint");

// A small stack written with short-form tags, as hand-written templates usually are. moto provisions
// the topic; the original stack itself needs SSM documents moto cannot create from a template.
const LEGACY_TEMPLATE = [
  "Parameters:",
  "  pIamUserName:",
  "    Type: String",
  "    Default: ci-deployer",
  "Resources:",
  "  rLegacyTopic:",
  "    Type: AWS::SNS::Topic",
  "    Properties:",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Sub expression, not JS.
  "      DisplayName: !Sub 'legacy-${pIamUserName}'",
  "",
].join("\n");

async function createLegacyStack(parameters: Record<string, string> = {}): Promise<string> {
  const stackName = uniqueName("akm-legacy");
  const cloudFormation = new CloudFormationClient(awsClientConfig(endpoint));
  const declared = Object.keys(parameters)
    .map((name) => `  ${name}:\n    Type: String\n`)
    .join("");
  await cloudFormation.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: LEGACY_TEMPLATE.replace("Parameters:\n", `Parameters:\n${declared}`),
      Parameters: Object.entries(parameters).map(([key, value]) => ({
        ParameterKey: key,
        ParameterValue: value,
      })),
    }),
  );
  return stackName;
}

beforeEach(() => {
  stubMotoEnvironment(endpoint);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("readDeployedTemplate", () => {
  it("reads the stack's template as submitted, with short-form tags in long form", async () => {
    // Prepare
    const stackName = await createLegacyStack();

    // Act
    const deployed = await readDeployedTemplate(
      new CloudFormationClient(awsClientConfig(endpoint)),
      stackName,
      MOTO_REGION,
    );

    // Assess
    expect(deployed.source).toBe(`stack ${stackName} (${MOTO_REGION})`);
    expect(deployed.template.Resources).toEqual({
      rLegacyTopic: {
        Type: "AWS::SNS::Topic",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Sub expression, not JS.
        Properties: { DisplayName: { "Fn::Sub": "legacy-${pIamUserName}" } },
      },
    });
  });
});

describe("npm run diff", () => {
  it("compares a deployed stack with dist/ and lists what the upgrade would remove", async () => {
    // Prepare
    const stackName = await createLegacyStack();

    // Act
    const run = await runCli(diffCommand, ["--stack", stackName, "--region", MOTO_REGION]);

    // Assess
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      `Comparing stack ${stackName} (${MOTO_REGION}) with dist/aws-github-akm.template.yaml.`,
    );
    expect(run.stdout).toMatch(
      /REMOVED \(deleted by the update\): 1\n {2}- rLegacyTopic \(AWS::SNS::Topic\)/,
    );
  });

  it("names each current parameter value of the stack that the new template would refuse", async () => {
    // Prepare
    const stackName = await createLegacyStack({
      pHoursToRotate: "2.5",
      pIamUserArn: "arn:aws:iam::123456789012:user/ci-deployer",
    });

    // Act
    const run = await runCli(diffCommand, ["--stack", stackName, "--region", MOTO_REGION]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Current parameter values the new template REFUSES: 1");
    expect(run.stdout).toContain('  - pHoursToRotate = "2.5": must be a whole number of hours');
  });

  it("says so when the stack's current values all pass", async () => {
    // Prepare
    const stackName = await createLegacyStack({ pHoursToRotate: "24" });

    // Act
    const run = await runCli(diffCommand, ["--stack", stackName, "--region", MOTO_REGION]);

    // Assess
    expect(run.stdout).toContain("Current parameter values: all accepted by the new template.");
  });

  it("compares the original stack's names as a user name resolves them, with --template and --param", async () => {
    // Act
    const run = await runCli(diffCommand, [
      "--template",
      ORIGINAL_STACK_FIXTURE,
      "--param",
      "pIamUserName=ci-deployer",
      "--param",
      "pGitHubMachineUserName=akm-bot",
      "--param",
      "pRepoConfigBucketName=akm-config",
    ]);

    // Assess
    expect(run.exitCode).toBe(0);
    // Only the schedule's role is replaced: its name now carries the stack UUID (README, Upgrading).
    expect(run.stdout).toMatch(/^REPLACED \(.*\): 1$/m);
    expect(run.stdout).toContain("  - rEventsRuleRotateRole (AWS::IAM::Role) because of RoleName");
  });

  it("says which parameters it could not resolve names with, and how to give them", async () => {
    // Act
    const run = await runCli(diffCommand, ["--template", ORIGINAL_STACK_FIXTURE]);

    // Assess
    expect(run.stdout).toMatch(/Names built from .*pIamUserName.* are compared as written/);
    expect(run.stdout).toContain("Give --param NAME=VALUE (or use --stack)");
  });

  it("prints the upgrade summary before the full diff", async () => {
    // Act
    const run = await runCli(diffCommand, ["--template", ORIGINAL_STACK_FIXTURE]);

    // Assess
    expect(run.exitCode).toBe(0);
    const summary = run.stdout.indexOf("In-place upgrade impact");
    const replaced = run.stdout.indexOf("REPLACED");
    const fullDiff = run.stdout.indexOf("Full diff:");
    expect(summary).toBeGreaterThanOrEqual(0);
    expect(replaced).toBeGreaterThan(summary);
    expect(fullDiff).toBeGreaterThan(replaced);
    expect(run.stdout.slice(fullDiff)).toContain("[+] AWS::Lambda::Function rAkmFunction");
  });

  it("exits 1 with a way to list stacks when the stack does not exist", async () => {
    // Prepare
    const stackName = uniqueName("akm-absent");

    // Act
    const run = await runCli(diffCommand, ["--stack", stackName, "--region", MOTO_REGION]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Could not read the template of stack ${stackName}`);
    expect(run.stderr).toContain("aws cloudformation list-stacks --region us-east-1");
  });

  it.each([
    [[], "--stack is required"],
    [["--stack", "akm"], "--region is required"],
    [["--template", "t.yaml", "--stack", "akm"], "either --template FILE or --stack NAME --region REGION"],
    [["--template", "no/such/file.yaml"], "no/such/file.yaml does not exist"],
    [["--stack", "bad_name", "--region", MOTO_REGION], "--stack 'bad_name' is not a valid stack name"],
    [["--stack", "akm", "--region", MOTO_REGION, "--param", "a=b"], "--param goes with --template"],
  ])("exits 2 on bad arguments %j", async (argv, message) => {
    // Act
    const run = await runCli(diffCommand, argv);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
