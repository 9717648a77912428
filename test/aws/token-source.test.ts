import { generateKeyPairSync } from "node:crypto";
import { SecretsManagerClient, SecretsManagerServiceException } from "@aws-sdk/client-secrets-manager";
import { describe, expect, inject, it, vi } from "vitest";
import { awsClientConfig, createTokenSecret, uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import { SecretsManagerTokenSource } from "../../src/aws/token-source.ts";
import { AkmError } from "../../src/errors.ts";

const endpoint = inject("motoEndpoint");

function sourceFor(secretId: string): SecretsManagerTokenSource {
  return new SecretsManagerTokenSource(new SecretsManagerClient(awsClientConfig(endpoint)), secretId);
}

describe("SecretsManagerTokenSource", () => {
  it("returns the token without the whitespace pasted around it, as a SecretValue", async () => {
    // Prepare
    const secretId = await createTokenSecret(endpoint, "  fake-token-11ABCDEFG0123456789-abcdefXYZ\n");

    // Act
    const credential = await sourceFor(secretId).credential();

    // Assess
    expect(credential.kind).toBe("token");
    const token = credential.kind === "token" ? credential.token : undefined;
    expect(token?.reveal()).toBe("fake-token-11ABCDEFG0123456789-abcdefXYZ");
    expect(String(token)).toBe("[redacted]");
  });

  it("returns a GitHub App credential for a private key when the stack names the App", async () => {
    // Prepare
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = String(privateKey.export({ type: "pkcs1", format: "pem" }));
    const secretId = await createTokenSecret(endpoint, `${pem}\n`);
    const source = new SecretsManagerTokenSource(
      new SecretsManagerClient(awsClientConfig(endpoint)),
      secretId,
      "424242",
    );

    // Act
    const credential = await source.credential();

    // Assess
    expect(credential).toMatchObject({ kind: "app", appId: "424242" });
    expect(String(credential.kind === "app" ? credential.privateKey : "")).toBe("[redacted]");
  });

  it("rejects a secret holding only whitespace as an empty token secret", async () => {
    // Prepare
    const secretId = await createTokenSecret(endpoint, " \n\t ");

    // Act
    const error = await sourceFor(secretId)
      .credential()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect(error).toMatchObject({ message: `The GitHub token secret ${secretId} is empty.`, fault: "user" });
    expect((error as AkmError).fix).toContain(`Put the GitHub token in secret ${secretId}`);
  });

  it("rejects a secret that has no value yet, naming the secret", async () => {
    // Prepare
    const secretId = await createTokenSecret(endpoint, undefined);

    // Act
    const error = await sourceFor(secretId)
      .credential()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toBe(
      `The GitHub token secret ${secretId} does not exist or has no value.`,
    );
  });

  it("rejects a missing secret, naming the secret", async () => {
    // Prepare
    const secretId = uniqueName("akm-token-missing");

    // Act
    const error = await sourceFor(secretId)
      .credential()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({
      message: `The GitHub token secret ${secretId} does not exist or has no value.`,
    });
  });

  it("rejects a key/value secret without repeating the token it holds", async () => {
    // Prepare
    const token = "ghp_TokenThatMustNotLeak0123456789abcd";
    const secretId = await createTokenSecret(endpoint, JSON.stringify({ token }));

    // Act
    const error = await sourceFor(secretId)
      .credential()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toContain("neither a bare token nor a GitHub App credential");
    expect((error as AkmError).describe()).not.toContain(token);
  });

  it("reports a denied read naming the action and the secret", async () => {
    // Prepare (moto answers Secrets Manager auth errors in XML the SDK cannot parse, so AWS's answer is simulated)
    const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
    vi.spyOn(secrets, "send").mockRejectedValue(
      new SecretsManagerServiceException({
        name: "AccessDeniedException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "not authorized to perform: secretsmanager:GetSecretValue",
      }),
    );
    const source = new SecretsManagerTokenSource(secrets, "akm-token-denied");

    // Act
    const error = await source.credential().catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect(error).toMatchObject({ fault: "user" });
    expect((error as AkmError).message).toMatch(
      /^secretsmanager:GetSecretValue on secret akm-token-denied was denied \(AccessDeniedException/,
    );
    expect((error as AkmError).fix).toContain("execution role");
  });
});
