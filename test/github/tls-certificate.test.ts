/**
 * A GitHub Enterprise Server whose certificate comes from a private certificate authority, as the production client
 * meets it: a real HTTPS server on loopback (in front of the GitHub emulator) with a certificate from a CA made for
 * this run only (test/support/throwaway-pki.ts).
 */
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { AkmError, GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import type { GitHubLogEntry } from "../../src/github/github-log.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { trustCaBundle } from "../../src/github/trusted-ca.ts";
import { type HttpsFront, startHttpsFront } from "../support/https-front.ts";
import { type ThrowawayPki, throwawayPki } from "../support/throwaway-pki.ts";

const TOKEN = "test-token-for-the-private-ca-server";
const DEFAULT_CAS = tls.getCACertificates("default");

let github: GitHubEmulator;
let pki: ThrowawayPki;
let server: HttpsFront;
/** A server whose certificate names only `localhost`, while clients reach it as 127.0.0.1; and its CA. */
let wrongHost: HttpsFront;
let wrongHostCa: string;

beforeAll(async () => {
  github = await startGitHubEmulator();
  github.addToken(TOKEN, { login: "ghe-bot", repos: "all", permission: "write" });
  pki = throwawayPki(["127.0.0.1"]);
  server = await startHttpsFront({ key: pki.serverKey, cert: pki.serverCert });
  server.setTarget(github.url);
  const other = throwawayPki(["localhost"]);
  wrongHostCa = other.caPem;
  wrongHost = await startHttpsFront({ key: other.serverKey, cert: other.serverCert });
  wrongHost.setTarget(github.url);
});

afterEach(() => {
  // Every test starts from Node's own CA list.
  tls.setDefaultCACertificates(DEFAULT_CAS);
});

afterAll(async () => {
  await Promise.all([server.close(), wrongHost.close(), github.close()]);
});

function target(baseUrl: string, logs: GitHubLogEntry[] = []) {
  const client = createGitHubClient({
    token: new SecretValue(TOKEN),
    baseUrl,
    userAgent: "aws-github-akm-test",
    // Production retry counts; a retry's wait would last 1 ms per second (none may happen here).
    secondMs: 1,
    log: (entry) => logs.push(entry),
  });
  return new GitHubSecretsTarget({ client, tokenSecretName: "token-secret" });
}

describe("a GitHub server whose certificate comes from a private CA", () => {
  it("fails at once, without retries, saying the certificate cannot be verified and how to add the CA", async () => {
    // Prepare
    const logs: GitHubLogEntry[] = [];
    const before = server.connections;

    // Act
    const error = await target(server.url, logs)
      .whoAmI()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(GitHubAccessError);
    expect((error as GitHubAccessError).fault).toBe("user");
    expect((error as GitHubAccessError).message).toBe(
      `Could not verify the TLS certificate of ${server.url} for GET /user (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate). This is a configuration problem, not an outage, so the request was not retried.`,
    );
    expect((error as GitHubAccessError).fix).toContain("pGitHubCaBundleKey");
    expect(server.connections - before).toBe(1);
    expect(logs.filter((entry) => /retry/i.test(entry.message))).toEqual([]);
  });

  it("is trusted once its CA bundle is added, for the global fetch the client uses", async () => {
    // Prepare
    const added = trustCaBundle(`# the private CA\n${pki.caPem}`, "s3://bucket/github-ca.pem");

    // Act
    const { login } = await target(server.url).whoAmI();

    // Assess
    expect(added).toBe(1);
    expect(login).toBe("ghe-bot");
  });

  it("says the certificate is for another host, when its CA is trusted but its name is not the URL's", async () => {
    // Prepare
    trustCaBundle(wrongHostCa, "s3://bucket/github-ca.pem");

    // Act
    const error = await target(wrongHost.url)
      .whoAmI()
      .catch((caught: unknown) => caught);

    // Assess
    expect((error as GitHubAccessError).message).toContain("(ERR_TLS_CERT_ALTNAME_INVALID: ");
    expect((error as GitHubAccessError).fix).toContain("host name the certificate was issued for");
    expect(wrongHost.connections).toBe(1);
  });
});

describe("the CA bundle file", () => {
  it("must hold a PEM certificate", () => {
    const trusted = tls.getCACertificates("default").length;
    const error = (() => {
      try {
        trustCaBundle("not a certificate", "s3://bucket/github-ca.pem");
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toBe(
      "The GitHub CA bundle s3://bucket/github-ca.pem holds no PEM certificate (a block from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----).",
    );
    expect(tls.getCACertificates("default")).toHaveLength(trusted);
  });

  it("replaces the bundle of an earlier run: a CA removed from it is trusted no more", () => {
    // Prepare: an earlier run in the same (warm) Lambda environment trusted the first bundle.
    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
    trustCaBundle(pki.caPem, "s3://bucket/github-ca.pem");

    // Act: the user replaced the bundle with one that no longer holds that CA.
    trustCaBundle(wrongHostCa, "s3://bucket/github-ca.pem");

    // Assess
    const trusted = new Set(tls.getCACertificates("default").map(fingerprint));
    expect(trusted.has(fingerprint(wrongHostCa))).toBe(true);
    expect(trusted.has(fingerprint(pki.caPem))).toBe(false);
    expect(trusted).toEqual(new Set([...DEFAULT_CAS, wrongHostCa].map(fingerprint)));
  });

  it("refuses a block that is not a certificate, naming which one", () => {
    const broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

    expect(() => trustCaBundle(`${pki.caPem}${broken}`, "s3://bucket/github-ca.pem")).toThrow(
      /^Certificate 2 of the GitHub CA bundle s3:\/\/bucket\/github-ca\.pem is not a valid X\.509 certificate/,
    );
  });
});
