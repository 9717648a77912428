import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { createLaunchLinkCommand, ORGANIZATION_READ_SID } from "../../scripts/lib/launch-link.ts";
import { UsageError } from "../../scripts/lib/shared/cli.ts";
import {
  awsClientConfig,
  createConfigBucket,
  MOTO_REGION,
  uniqueName,
} from "../../scripts/local-stack/aws-fixtures.ts";
import { userNameOf } from "../template/form-values.ts";
import { DIST_TEMPLATE_PATH, runCli, stubMotoEnvironment } from "./cli-harness.ts";

const endpoint = inject("motoEndpoint");

function s3(): S3Client {
  return new S3Client(awsClientConfig(endpoint));
}

async function objectKeys(bucket: string): Promise<string[]> {
  const { Contents } = await s3().send(new ListObjectsV2Command({ Bucket: bucket }));
  return (Contents ?? []).map((object) => object.Key ?? "");
}

/** The line after a heading line of launch-link's output. */
function lineAfter(output: string, heading: string): string {
  const lines = output.split("\n");
  return lines[lines.findIndex((line) => line.startsWith(heading)) + 1] ?? "";
}

beforeEach(() => {
  stubMotoEnvironment(endpoint);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

// dist/ freshness is checked once for real below; the other cases take it as fresh.
const launchLink = createLaunchLinkCommand({ requireFreshDist: async () => {} });

describe("npm run launch-link", () => {
  it("uploads the exact bytes of dist/ as text/yaml under the package version", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
    const { version } = JSON.parse(
      await readFile(join(import.meta.dirname, "../../package.json"), "utf8"),
    ) as {
      version: string;
    };
    const key = `aws-github-akm/${version}/aws-github-akm.template.yaml`;

    // Act
    const run = await runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION]);

    // Assess
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(object.ContentType).toBe("text/yaml");
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? [])).toEqual(
      await readFile(DIST_TEMPLATE_PATH),
    );
  });

  it("prints a quick-create link to the uploaded object and a Launch Stack button for it", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, [
      "--bucket",
      bucket,
      "--region",
      MOTO_REGION,
      "--key",
      "t/akm.yaml",
      "--stack-name",
      "akm-ci",
      "--param",
      "pIamUserName=ci-deployer",
    ]);

    // Assess
    expect(run.exitCode).toBe(0);
    const url = new URL(lineAfter(run.stdout, "Quick-create link"));
    const query = new URLSearchParams(url.hash.slice(url.hash.indexOf("?") + 1));
    expect(query.get("templateURL")).toBe(`https://${bucket}.s3.${MOTO_REGION}.amazonaws.com/t/akm.yaml`);
    expect(query.get("stackName")).toBe("akm-ci");
    expect(query.get("param_pIamUserName")).toBe("ci-deployer");
    expect(lineAfter(run.stdout, 'Markdown "Launch Stack" button')).toContain(`](${url.href})`);
  });

  it("proposes one stack per IAM user, so a second user's stack does not collide", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const runs = await Promise.all(
      ["ci-deployer", "ci@example.com"].map((user) =>
        runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION, "--param", `pIamUserName=${user}`]),
      ),
    );

    // Assess
    const names = runs.map((run) => {
      const url = new URL(lineAfter(run.stdout, "Quick-create link"));
      return new URLSearchParams(url.hash.slice(url.hash.indexOf("?") + 1)).get("stackName");
    });
    expect(names).toEqual(["aws-github-akm-ci-deployer", "aws-github-akm-ci-example-com"]);
  });

  it.each([1, 49, 50, 64])(
    "accepts an IAM user name of %d characters with IAM's + = , . @ _ -, and proposes a valid stack name",
    async (length) => {
      // Prepare
      const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
      const user = userNameOf(length);

      // Act
      const run = await runCli(launchLink, [
        "--bucket",
        bucket,
        "--region",
        MOTO_REGION,
        "--param",
        `pIamUserName=${user}`,
        "--param",
        `pIamUserArn=arn:aws:iam::123456789012:user/${user}`,
      ]);

      // Assess
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      const url = new URL(lineAfter(run.stdout, "Quick-create link"));
      const query = new URLSearchParams(url.hash.slice(url.hash.indexOf("?") + 1));
      expect(query.get("param_pIamUserName")).toBe(user);
      expect(query.get("stackName")).toMatch(/^[A-Za-z][A-Za-z0-9-]{0,127}$/);
    },
  );

  it("proposes no stack name without a user name, so the console asks for one", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION]);

    // Assess
    const url = new URL(lineAfter(run.stdout, "Quick-create link"));
    expect(url.hash).not.toContain("stackName=");
    expect(run.stdout).toContain("Stack name: none proposed");
  });

  it("lets an AWS Organization read the template, keeping the bucket's other statements", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
    const other = {
      Sid: "SomeoneElses",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:DeleteBucket",
      Resource: `arn:aws:s3:::${bucket}`,
    };
    await s3().send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [other] }),
      }),
    );

    // Act
    const run = await runCli(launchLink, [
      "--bucket",
      bucket,
      "--region",
      MOTO_REGION,
      "--key",
      "t/akm.yaml",
      "--org-id",
      "o-a1b2c3d4e5",
    ]);

    // Assess
    expect(run.stderr).toBe("");
    const { Policy } = await s3().send(new GetBucketPolicyCommand({ Bucket: bucket }));
    const statements = (JSON.parse(Policy ?? "{}") as { Statement: unknown[] }).Statement;
    expect(statements).toEqual([
      other,
      {
        Sid: ORGANIZATION_READ_SID,
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: [`arn:aws:s3:::${bucket}/t/akm.yaml`],
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
      },
    ]);
  });

  it("refuses a dist/ that is stale against the sources, and uploads nothing", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
    const stale = createLaunchLinkCommand({
      requireFreshDist: async () => {
        throw new UsageError(
          "dist/ is not what the sources produce, so the link would launch a stale template",
        );
      },
    });

    // Act
    const run = await runCli(stale, ["--bucket", bucket, "--region", MOTO_REGION]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("stale template");
    expect(await objectKeys(bucket)).toEqual([]);
  });

  it("checks dist/ against a fresh build of the sources before uploading", async () => {
    // Prepare: the real check (the test run builds dist/ first).
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(createLaunchLinkCommand(), ["--bucket", bucket, "--region", MOTO_REGION]);

    // Assess
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  it("refuses an IAM user ARN and name of two different users, naming both", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, [
      "--bucket",
      bucket,
      "--region",
      MOTO_REGION,
      "--param",
      "pIamUserName=ci-deployer",
      "--param",
      "pIamUserArn=arn:aws:iam::123456789012:user/ci-other",
    ]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("is user ci-other, but pIamUserName is ci-deployer");
  });

  it.each([
    ["pHoursToRotate=2.5", "whole number of hours"],
    ["pGraceMinutes=30.5", "whole number of minutes"],
    ["pIamUserName=ci deployer", "IAM user's name"],
    [`pIamUserName=${"x".repeat(65)}`, "1 to 64"],
  ])("refuses the form value %s that would fail after deploying", async (param, message) => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION, "--param", param]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("refuses to put the GitHub token in the link and uploads nothing", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
    const token = `not-a-real-token-${"z".repeat(24)}`;

    // Act
    const run = await runCli(launchLink, [
      "--bucket",
      bucket,
      "--region",
      MOTO_REGION,
      "--param",
      `pGitHubToken=${token}`,
    ]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("pGitHubToken is a NoEcho (secret) parameter");
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
    expect(await objectKeys(bucket)).toEqual([]);
  });

  it("names the valid parameters when one is unknown", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, [
      "--bucket",
      bucket,
      "--region",
      MOTO_REGION,
      "--param",
      "pHours=24",
    ]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /pHours is not a parameter of the template\. Prefillable parameters: .*pHoursToRotate/,
    );
  });

  it("tells the user to build first when dist/ has no template", async () => {
    // Prepare: a project without a build.
    const projectRoot = await mkdtemp(join(tmpdir(), "akm-publish-"));
    await writeFile(join(projectRoot, "package.json"), JSON.stringify({ name: "x", version: "1.0.0" }));
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));

    // Act
    const run = await runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION], projectRoot);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("aws-github-akm.template.yaml does not exist: run `npm run build` first");
    expect(await objectKeys(bucket)).toEqual([]);
  });

  it("fails with exit code 1 and a fix when the bucket does not exist", async () => {
    // Prepare
    const bucket = uniqueName("akm-missing");

    // Act
    const run = await runCli(launchLink, ["--bucket", bucket, "--region", MOTO_REGION]);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`Could not upload the template to s3://${bucket}/`);
    expect(run.stderr).toContain("NoSuchBucket");
    expect(run.stderr).toContain("Create the bucket in us-east-1 first");
  });

  it.each([
    [["--region", MOTO_REGION], "--bucket is required"],
    [["--bucket", "b-b-b"], "--region is required"],
    [["--bucket", "b-b-b", "--region", "Ireland"], "--region 'Ireland' is not an AWS region code"],
    [["--bucket", "b-b-b", "--region", MOTO_REGION, "--stack-name", "1st"], "is not a valid stack name"],
    [["--bucket", "b-b-b", "--region", MOTO_REGION, "--color"], "Unknown option '--color'"],
    [
      ["--bucket", "b-b-b", "--region", MOTO_REGION, "--org-id", "123456789012"],
      "is not an AWS Organizations ID",
    ],
  ])("exits 2 on bad arguments %j", async (argv, message) => {
    // Act
    const run = await runCli(launchLink, argv);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
