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
});
