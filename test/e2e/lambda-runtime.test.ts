import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

describe("the function as deployed", () => {
  it("runs the template's inline code on Node 24, the runtime the template declares", async () => {
    // Prepare
    const stack = await createStack();

    // Act
    const { invocations } = await stack.runRunbook("Get-RepoList");

    // Assess
    expect(stack.lambda.runtime).toBe("nodejs24.x");
    expect(stack.lambda.handler).toBe("index.handler");
    expect(invocations).toHaveLength(1);
    expect(invocations[0]?.outcome).toBe("returned");
    expect(Number(invocations[0]?.nodeVersion?.split(".")[0])).toBe(24);
  });

  it("gets every setting it reads from the template's environment variables", async () => {
    // Prepare
    const stack = await createStack();

    // Act
    const { execution } = await stack.runRunbook("Get-RepoList");

    // Assess
    expect(execution.status).toBe("Success");
    expect(stack.env.AKM_IAM_USER_ARN).toBe(stack.user.userArn);
    expect(stack.env.AKM_CONFIG_BUCKET).toBe(stack.bucket);
    expect(stack.env.AKM_STATE_SECRET_ID).toBe(stack.stateSecretArn);
    expect(stack.env.AKM_GITHUB_TOKEN_SECRET_ID).toBe(stack.tokenSecretArn);
  });

  it("serves two rotations from one warm execution environment, as Lambda reuses one", async () => {
    // Prepare: a GitHub App, whose installation tokens expire after an hour, and a first rotation.
    const stack = await createStack({ githubApp: {} });
    const first = await stack.runRunbook("Rotate");
    const firstKey = String(first.execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    await stack.advanceClock(2 * 60 * 60_000);

    // Act
    const second = await stack.runRunbook("Rotate");

    // Assess: one environment served every invocation; only the first started it.
    const invocations = [...first.invocations, ...second.invocations];
    expect(invocations.map((invocation) => invocation.environment?.coldStart)).toEqual(
      invocations.map((_, index) => index === 0),
    );
    expect(new Set(invocations.map((invocation) => invocation.environment?.pid)).size).toBe(1);
    expect(second.execution.status).toBe("Success");
    const secondKey = String(second.execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    expect(secondKey).not.toBe(firstKey);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId, repo).toBe(secondKey);
    expect(stack.github.requests.filter((request) => request.status === 401)).toEqual([]);
  });
});
