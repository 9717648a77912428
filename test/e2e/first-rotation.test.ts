import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, inject, it } from "vitest";
import { MOTO_REGION } from "../../scripts/local-stack/aws-fixtures.ts";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

async function callerArn(accessKeyId: string, secretAccessKey: string): Promise<string | undefined> {
  const sts = new STSClient({ region: MOTO_REGION, endpoint, credentials: { accessKeyId, secretAccessKey } });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  } finally {
    sts.destroy();
  }
}

describe("Rotate runbook on a user without access keys", () => {
  it("ends Success with one active key that every listed repository holds and can use", async () => {
    // Prepare
    const stack = await createStack();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const keys = await stack.keys();
    expect(keys.map((key) => key.status)).toEqual(["Active"]);
    const keyId = keys[0]?.accessKeyId ?? "";
    const issuedSecret = await stack.issuedSecretOf(keyId);
    for (const repo of stack.repos) {
      const held = stack.secretValues(repo);
      expect(held.accessKeyId, repo).toBe(keyId);
      expect(held.secretAccessKey === issuedSecret, `${repo} holds the secret IAM issued`).toBe(true);
      expect(await callerArn(keyId, held.secretAccessKey ?? "")).toBe(stack.user.userArn);
    }
  });

  it("reports the new key in the execution's outputs and every repository's result in CheckRotate's", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api", "octo-org/web", "someone-else/tooling"] });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    const [key] = await stack.keys();
    expect(execution.outputs["CheckRotateResult.NewAccessKeyId"]).toBe(key?.accessKeyId);
    expect(execution.outputs["CheckRotateResult.OldAccessKeyId"]).toBe("none");
    expect(execution.outputs["CheckRotateResult.Summary"]).toContain(`holds key ${key?.accessKeyId}`);
    // Per-repository results are in the last Rotate invocation's check (its step outputs in the console).
    const rotated = execution.steps.filter((step) => step.stepName === "CheckRotate").at(-1);
    for (const repo of stack.repos) expect(String(rotated?.outputs.Summary)).toContain(`${repo}: written`);
  });

  it("talks to GitHub only as GitHub documents it and never leaves a repository on an inactive key", async () => {
    // Prepare
    const stack = await createStack();

    // Act
    await stack.runRunbook("Rotate");

    // Assess
    expect(stack.github.violations).toEqual([]);
    expect(stack.github.invariantFailures).toEqual([]);
    expect(stack.r1Failures).toEqual([]);
    for (const repo of stack.repos) expect(stack.secretPuts(repo)).toBe(2);
  });
});

describe("the secret scan run after every end-to-end test", () => {
  it("knows the secret of every key IAM issued and the GitHub token", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1 });
    await stack.runRunbook("Rotate");
    const [repo = ""] = stack.repos;
    const written = stack.secretValues(repo).secretAccessKey ?? "";
    const preexisting = stack.existingKeys[0]?.secretAccessKey ?? "";
    const token = await stack.githubToken();

    // Act
    const leaks = await stack.secretLeaks([`log line ${written}`, `error ${preexisting}`, `header ${token}`]);

    // Assess
    expect(leaks).toHaveLength(3);
    expect(leaks.every((leak) => leak.includes("extra text"))).toBe(true);
  });
});
