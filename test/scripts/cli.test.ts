import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exitCodeForStatus } from "../../scripts/lib/run.ts";
import { AwsCallError, describeAwsError, statusKind } from "../../scripts/lib/shared/aws.ts";
import {
  type Command,
  ExitCode,
  PROJECT_ROOT,
  redactSecrets,
  UsageError,
} from "../../scripts/lib/shared/cli.ts";
import { runCli } from "./cli-harness.ts";

function commandThatThrows(error: unknown): Command {
  return {
    name: "demo",
    help: "Usage: demo",
    run: async () => {
      throw error;
    },
  };
}

describe("runCommand", () => {
  it("prints the help and exits 0 when --help is anywhere, even among bad arguments", async () => {
    // Act
    const run = await runCli(commandThatThrows(new Error("not reached")), ["--bogus", "-h"]);

    // Assess
    expect(run).toEqual({ exitCode: 0, stdout: "Usage: demo", stderr: "" });
  });

  it("prints a user error prefixed with the script name and exits 2", async () => {
    // Act
    const run = await runCli(commandThatThrows(new UsageError("--bucket is required.")), []);

    // Assess
    expect(run).toEqual({ exitCode: 2, stdout: "", stderr: "demo: --bucket is required." });
  });

  it("prints an AWS failure with the request ID and exits 1", async () => {
    // Prepare
    const cause = Object.assign(new Error("Access Denied"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403, requestId: "REQ1" },
    });

    // Act
    const run = await runCli(
      commandThatThrows(new AwsCallError("upload x", cause, "Grant s3:PutObject.")),
      [],
    );

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe(
      "demo: Could not upload x: AccessDenied: Access Denied (HTTP 403, request ID REQ1)\nGrant s3:PutObject.",
    );
  });

  it("reports anything else as an unexpected error with its stack and exits 1", async () => {
    // Act
    const run = await runCli(commandThatThrows(new TypeError("x is undefined")), []);

    // Assess
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("demo: unexpected error (a bug in this script, please report it):");
    expect(run.stderr).toContain("TypeError: x is undefined\n    at ");
  });
});

describe("describeAwsError", () => {
  const noCredentials = Object.assign(new Error("Could not load credentials from any providers"), {
    name: "CredentialsProviderError",
  });

  it("says to check --region when the endpoint's host name does not resolve", () => {
    // Prepare: what the SDK throws for a region code that no AWS region has.
    const error = Object.assign(new Error("getaddrinfo ENOTFOUND ssm.eu-fake-9.amazonaws.com"), {
      code: "ENOTFOUND",
      $metadata: { attempts: 3 },
    });

    // Act
    const text = describeAwsError(error);

    // Assess
    expect(text).toContain("ssm.eu-fake-9.amazonaws.com does not resolve: check --region");
  });

  it("names the profile from AWS_PROFILE when it yields no credentials, instead of saying to set it", () => {
    // Act
    const text = describeAwsError(noCredentials, { AWS_PROFILE: "nope-profile" });

    // Assess
    expect(text).toContain("No usable AWS credentials for profile 'nope-profile' (from AWS_PROFILE)");
    expect(text).toContain("aws configure list-profiles");
    expect(text).not.toMatch(/Name a profile with AWS_PROFILE|Set AWS_PROFILE/);
  });

  it("says how to give credentials when no profile is named", () => {
    // Act
    const text = describeAwsError(noCredentials, {});

    // Assess
    expect(text).toContain("Name a profile with AWS_PROFILE");
  });
});

describe("Automation statuses", () => {
  it.each([
    ["Success", "succeeded", ExitCode.Success],
    ["CompletedWithSuccess", "succeeded", ExitCode.Success],
    ["Failed", "failed", ExitCode.RunbookFailed],
    ["TimedOut", "failed", ExitCode.RunbookFailed],
    ["Cancelled", "failed", ExitCode.RunbookFailed],
    ["CompletedWithFailure", "failed", ExitCode.RunbookFailed],
  ])("%s has ended: %s, exit %i", (status, kind, exitCode) => {
    // Act
    const result = [statusKind(status), exitCodeForStatus(status)];

    // Assess
    expect(result).toEqual([kind, exitCode]);
  });

  it.each(["Pending", "InProgress", "Waiting", "Cancelling", "PendingApproval", undefined])(
    "%s has not ended yet",
    (status) => {
      // Act
      const kind = statusKind(status);

      // Assess
      expect(kind).toBe("running");
    },
  );
});

describe("redactSecrets", () => {
  it("hides GitHub tokens of every kind and labelled AWS secret keys, and keeps the rest", () => {
    // Prepare: built at run time so no credential-shaped string sits in the source.
    const classic = `ghp_${"a1B2".repeat(9)}`;
    const fineGrained = `github_pat_${"x9_Y".repeat(10)}`;
    const installation = `ghs_${"Q7w8".repeat(9)}`;
    const awsSecret = "wJalrXUtnFEMI/K7MDENG/".padEnd(40, "z");
    const text = `a ${classic} b ${fineGrained} c ${installation} SecretAccessKey: ${awsSecret} key FAKEKEY1`;

    // Act
    const redacted = redactSecrets(text);

    // Assess
    expect(redacted).toBe("a [redacted] b [redacted] c [redacted] SecretAccessKey: [redacted] key FAKEKEY1");
  });
});

/** Runs a script as `npm run <name> -- ...` does (tsx), returning its exit code and output. */
function runScript(
  script: string,
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const childEnv = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
        join(PROJECT_ROOT, "scripts", script),
        ...argv,
      ],
      { cwd: PROJECT_ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

describe("the script entry points", () => {
  it.each(["launch-link.ts", "diff.ts", "run.ts"])(
    "%s --help prints usage and exit codes, exiting 0",
    async (script) => {
      // Act
      const result = await runScript(script, ["--help"]);

      // Assess
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/^Usage: npm run /);
      expect(result.stdout).toContain("Exit codes:");
    },
  );

  it("answers a well-formed region code that no AWS region has with 'check --region'", async () => {
    // Act: a real SDK call with fake keys; the endpoint's host name cannot resolve.
    const result = await runScript("diff.ts", ["--stack", "akm", "--region", "eu-fake-9"], {
      // Generated here, and not shaped like a real key: the call never reaches AWS.
      AWS_ACCESS_KEY_ID: `TESTKEY${randomBytes(6).toString("hex").toUpperCase()}`,
      AWS_SECRET_ACCESS_KEY: `test-secret-${randomBytes(12).toString("hex")}`,
      AWS_ENDPOINT_URL: undefined,
      AWS_PROFILE: undefined,
    });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      "cloudformation.eu-fake-9.amazonaws.com does not resolve: check --region",
    );
  });

  it("names an unknown AWS_PROFILE rather than asking to set it", async () => {
    // Act
    const result = await runScript("diff.ts", ["--stack", "akm", "--region", "eu-west-1"], {
      AWS_PROFILE: "nope-akm-profile",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_ENDPOINT_URL: undefined,
    });

    // Assess
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      "No usable AWS credentials for profile 'nope-akm-profile' (from AWS_PROFILE)",
    );
  });

  it("sets the process exit code from the command: 2 for a bad argument", async () => {
    // Act
    const result = await runScript("run.ts", ["--document", "GHS-AKM-x-Rotate", "--region", "nowhere"]);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("run: --region 'nowhere' is not an AWS region code");
  });
});
