/**
 * A brand-new key is commonly refused by STS for a while, because IAM propagates it to every server over time
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * moto accepts a key at once, so a proxy in front of it answers the function's first GetCallerIdentity calls the
 * way STS does for a key it does not know yet, in STS's own wire format.
 *
 * The function runs with its production back-off (no test hook reaches it from the template's environment), so
 * the two refusals below cost it 1 + 2 s of real waiting; the full minute of waits is covered with an injected
 * clock in test/unit/verify-key.test.ts.
 */
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { type InjectedAnswer, startCallProxy } from "../support/aws-proxy.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

/** STS's answers for a key it does not know (yet), and for a secret it cannot match to the key (yet). */
const INVALID_CLIENT_TOKEN_ID: InjectedAnswer = {
  status: 403,
  error: { code: "InvalidClientTokenId", message: "The security token included in the request is invalid." },
};
const SIGNATURE_DOES_NOT_MATCH: InjectedAnswer = {
  status: 403,
  error: {
    code: "SignatureDoesNotMatch",
    message:
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
  },
};

describe("Rotate runbook while IAM propagates the new key", () => {
  it("retries STS's refusals of the brand-new key and ends Success with the key in every repository", async () => {
    // Prepare
    const refusals = [INVALID_CLIENT_TOKEN_ID, SIGNATURE_DOES_NOT_MATCH];
    const proxy = await startCallProxy({
      aws: endpoint,
      answer: (call) => (call.service === "sts" ? refusals.shift() : undefined),
    });
    onTestFinished(() => proxy.close());
    const stack = await createStack({ existingKeys: 1, lambdaEnv: { AWS_ENDPOINT_URL: proxy.url } });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    expect(refusals).toEqual([]);
    const stsCalls = proxy.calls.filter((call) => call.service === "sts");
    expect(stsCalls.map((call) => call.status)).toEqual([403, 403, 200]);
    const newKey = String(execution.outputs["CheckRotateResult.NewAccessKeyId"]);
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(newKey);
  });
});
