/**
 * GitHub Enterprise Server with a certificate from a private certificate authority, end to end: the Rotate runbook
 * runs the template's Lambda code against a real HTTPS server on loopback (in front of the stack's GitHub emulator)
 * whose certificate comes from a CA made for this run only. The stack parameter pGitHubCaBundleKey names a PEM file
 * in the repository list's bucket (as the template wires it: AKM_GITHUB_CA_BUNDLE_KEY).
 */
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { putObjectText } from "../../scripts/local-stack/aws-fixtures.ts";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { SETTINGS_ENV } from "../../src/config/settings.ts";
import { startHttpsFront } from "../support/https-front.ts";
import { throwawayPki } from "../support/throwaway-pki.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);
const pki = throwawayPki(["127.0.0.1"]);

async function enterpriseServer() {
  const server = await startHttpsFront({ key: pki.serverKey, cert: pki.serverCert });
  onTestFinished(() => server.close());
  return server;
}

describe("Rotate runbook against a GitHub Enterprise Server with a private CA", () => {
  it("fails at once, before any key exists, saying the certificate cannot be verified and how to add the CA", async () => {
    // Prepare
    const server = await enterpriseServer();
    const stack = await createStack({
      existingKeys: 1,
      lambdaEnv: { [SETTINGS_ENV.githubApiUrl]: server.url },
    });
    server.setTarget(stack.github.url);
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`Could not verify the TLS certificate of ${server.url}`);
    expect(execution.failureMessage).toContain("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(execution.failureMessage).toContain("not retried");
    expect(execution.failureMessage).toContain("pGitHubCaBundleKey");
    expect(execution.failureMessage).not.toContain("transient");
    expect(server.connections).toBe(1);
    expect(await stack.keys()).toEqual(before);
  });

  it("rotates once the CA's certificate is in the bucket and pGitHubCaBundleKey names it", async () => {
    // Prepare
    const server = await enterpriseServer();
    const stack = await createStack({
      lambdaEnv: {
        [SETTINGS_ENV.githubApiUrl]: server.url,
        [SETTINGS_ENV.githubCaBundleKey]: "certs/github-ca.pem",
      },
    });
    server.setTarget(stack.github.url);
    await putObjectText(endpoint, stack.bucket, "certs/github-ca.pem", pki.caPem);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const [key] = await stack.keys();
    for (const repo of stack.repos) expect(stack.secretValues(repo).accessKeyId).toBe(key?.accessKeyId);
  });

  it("fails naming the object when pGitHubCaBundleKey names a file that is not in the bucket", async () => {
    // Prepare
    const server = await enterpriseServer();
    const stack = await createStack({
      lambdaEnv: {
        [SETTINGS_ENV.githubApiUrl]: server.url,
        [SETTINGS_ENV.githubCaBundleKey]: "github-ca.pem",
      },
    });
    server.setTarget(stack.github.url);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      `The GitHub CA bundle s3://${stack.bucket}/github-ca.pem (stack parameter pGitHubCaBundleKey) does not exist.`,
    );
    expect(server.connections).toBe(0);
    expect(await stack.keys()).toEqual([]);
  });
});
