import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { parseGitHubCredential } from "../../src/config/github-credential.ts";
import { GitHubCredentialError } from "../../src/errors.ts";

const SECRET = "GHS-AKM-deploy-bot-GitHubToken-key-rotator";

/** A fresh RSA key as GitHub's download has it (PKCS#1), generated at test time. */
let pkcs1 = "";
let pkcs8 = "";

beforeAll(() => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  pkcs1 = String(privateKey.export({ type: "pkcs1", format: "pem" }));
  pkcs8 = String(privateKey.export({ type: "pkcs8", format: "pem" }));
});

function parse(text: string, stackAppId?: string) {
  return parseGitHubCredential(text, { secretId: SECRET, stackAppId });
}

function refusal(text: string, stackAppId?: string): GitHubCredentialError {
  try {
    parse(text, stackAppId);
  } catch (error) {
    if (error instanceof GitHubCredentialError) return error;
    throw error;
  }
  throw new Error("expected the credential to be refused");
}

describe("the GitHub credential in the token secret", () => {
  it("is a personal token when it is one word and the stack names no App", () => {
    // Act
    const credential = parse("fake-token-11ABCDEFG0123456789");

    // Assess
    expect(credential.kind).toBe("token");
    expect(credential.kind === "token" && credential.token.reveal()).toBe("fake-token-11ABCDEFG0123456789");
  });

  it("is the App's credential when it is GitHub's .pem download and the stack names the App", () => {
    // Act
    const credential = parse(pkcs1, "123456");

    // Assess
    expect(credential.kind).toBe("app");
    if (credential.kind !== "app") return;
    expect(credential.appId).toBe("123456");
    expect(credential.privateKey.reveal()).toBe(pkcs8);
    expect(String(credential.privateKey)).toBe("[redacted]");
  });

  it.each([
    ["its line breaks dropped (a password field)", (pem: string) => pem.replace(/\n/g, "")],
    ["line breaks turned into spaces", (pem: string) => pem.replace(/\n/g, " ")],
    ["line breaks escaped as \\n (a .env habit)", (pem: string) => pem.replace(/\n/g, "\\n")],
  ])("reads a key with %s as the same key", (_case, mangle) => {
    // Act
    const credential = parse(mangle(pkcs1).trim(), "123456");

    // Assess
    expect(credential.kind === "app" && credential.privateKey.reveal()).toBe(pkcs8);
  });

  it("reads the console's Key/value JSON with appId and privateKey, the appId a number or text", () => {
    // Act
    const asText = parse(JSON.stringify({ appId: "987", privateKey: pkcs1 }));
    const asNumber = parse(JSON.stringify({ appId: 987, privateKey: pkcs8 }), "987");

    // Assess
    expect(asText).toMatchObject({ kind: "app", appId: "987" });
    expect(asNumber).toMatchObject({ kind: "app", appId: "987" });
  });

  it.each([
    ["a private key while the stack names no App", () => pkcs1, undefined, "pGitHubAppId is empty"],
    [
      "a token while the stack names an App",
      () => "fake-token-11ABCDEFG0123456789",
      "123",
      "holds a token rather than the App's private key",
    ],
    [
      "JSON for another App than the stack's",
      () => JSON.stringify({ appId: "9", privateKey: pkcs1 }),
      "123",
      "is for App 9, but the stack names App 123",
    ],
    [
      "JSON with other keys",
      () => JSON.stringify({ token: "x", installationId: 5 }),
      undefined,
      'holds JSON with the keys "token", "installationId"',
    ],
    [
      "JSON with a privateKey but no App ID anywhere",
      () => JSON.stringify({ privateKey: pkcs1 }),
      undefined,
      "has no appId",
    ],
    ["JSON that does not parse", () => "{appId: 1", undefined, "is not valid JSON"],
    ["words with spaces", () => "my token", undefined, "does not hold a bare token"],
    [
      "a public key",
      () =>
        String(createPrivateKey(pkcs1).export({ type: "pkcs1", format: "pem" })).replace(
          /PRIVATE/g,
          "PUBLIC",
        ),
      "1",
      "is a rsa public key, not the App's private key",
    ],
    ["a key cut short", () => pkcs1.slice(0, 200) + pkcs1.slice(-32), "1", "cannot be read as a private key"],
    ["a key without its END line", () => pkcs1.slice(0, 300), "1", "is not a complete PEM block"],
    [
      "an OpenSSH key",
      () => "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
      "1",
      "is in OpenSSH format",
    ],
  ])("refuses %s, naming the secret and what to store", (_case, text, stackAppId, says) => {
    // Act
    const error = refusal(text(), stackAppId);

    // Assess
    expect(error.message).toContain(SECRET);
    expect(error.message).toContain(says);
    expect(error.fault).toBe("user");
    expect(error.fix).not.toBe("");
  });

  it("refuses an EC key, as GitHub signs App JWTs with RSA", () => {
    // Prepare
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });

    // Act
    const error = refusal(String(ec), "1");

    // Assess
    expect(error.message).toContain("is an EC key; GitHub Apps sign with RSA keys");
  });

  it("never quotes the key or a token in a refusal", () => {
    // Prepare
    const token = "fake-token-ThatMustNotLeak0123456789";
    const texts = [JSON.stringify({ token }), `${pkcs1.slice(0, 200)}${pkcs1.slice(-32)}`];

    // Act
    const described = texts.map((text) => refusal(text, "1").describe());

    // Assess
    expect(described[0]).not.toContain(token);
    const body = pkcs1.split("\n")[1] ?? "";
    expect(described[1]).not.toContain(body);
  });
});
