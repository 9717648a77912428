import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { publishCommand } from "../../scripts/lib/publish/publish-command.ts";
import { awsClientConfig, createConfigBucket, MOTO_REGION, uniqueName } from "../support/aws-fixtures.ts";
import { DIST_TEMPLATE_PATH, runCli, stubMotoEnvironment } from "./cli-harness.ts";

const endpoint = inject("motoEndpoint");

function s3(): S3Client {
  return new S3Client(awsClientConfig(endpoint));
}

async function objectKeys(bucket: string): Promise<string[]> {
  const { Contents } = await s3().send(new ListObjectsV2Command({ Bucket: bucket }));
  return (Contents ?? []).map((object) => object.Key ?? "");
}

/** The lines after a heading line of publish's output. */
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

describe("npm run publish", () => {
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
    const run = await runCli(publishCommand, ["--bucket", bucket, "--region", MOTO_REGION]);

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
    const run = await runCli(publishCommand, [
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

  it("refuses to put the GitHub token in the link and uploads nothing", async () => {
    // Prepare
    const bucket = await createConfigBucket(endpoint, uniqueName("akm-publish"));
    const token = `not-a-real-token-${"z".repeat(24)}`;

    // Act
    const run = await runCli(publishCommand, [
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
    const run = await runCli(publishCommand, [
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
    const run = await runCli(publishCommand, ["--bucket", bucket, "--region", MOTO_REGION], projectRoot);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("aws-github-akm.template.yaml does not exist: run `npm run build` first");
    expect(await objectKeys(bucket)).toEqual([]);
  });

  it("fails with exit code 1 and a fix when the bucket does not exist", async () => {
    // Prepare
    const bucket = uniqueName("akm-missing");

    // Act
    const run = await runCli(publishCommand, ["--bucket", bucket, "--region", MOTO_REGION]);

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
  ])("exits 2 on bad arguments %j", async (argv, message) => {
    // Act
    const run = await runCli(publishCommand, argv);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
