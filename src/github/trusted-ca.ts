import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { AkmError } from "../errors.ts";
import type { ConfigStore } from "../ports.ts";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/**
 * The certificates this process trusted before it added any bundle (Node's defaults and NODE_EXTRA_CA_CERTS).
 * Lambda reuses an execution environment, module state included, for later invocations
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), so each run's bundle is added
 * to these, not to what an earlier run added: a CA the user removed from the bundle is no longer trusted.
 */
let trustedBeforeAnyBundle: readonly string[] | undefined;

/**
 * Adds the CA certificates in `pem` (a PEM bundle: a GitHub Enterprise Server's private root and intermediates) to
 * the certificates every TLS client of this process trusts, beside Node's defaults (the public authorities and
 * NODE_EXTRA_CA_CERTS). Node applies the default list to every later connection that names no CA of its own,
 * which includes the global fetch (undici) that Octokit uses; connections already open keep theirs.
 * https://nodejs.org/api/tls.html#tlssetdefaultcacertificatescerts (Node 24.5+)
 *
 * Returns the number of certificates added. Throws an AkmError naming `location` when the text holds no
 * certificate or one that does not parse. Each call replaces the bundle of the call before: the process trusts
 * Node's defaults and the latest bundle only.
 */
export function trustCaBundle(pem: string, location: string): number {
  const certificates = pem.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) {
    throw new AkmError(
      `The GitHub CA bundle ${location} holds no PEM certificate (a block from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----).`,
      {
        fix: `Upload the certificates of the authority that issued your GitHub Enterprise Server's certificate, in PEM format, to ${location}; or clear the stack parameter pGitHubCaBundleKey if the server's certificate is from a public authority.`,
        fault: "user",
      },
    );
  }
  certificates.forEach((certificate, index) => {
    try {
      new X509Certificate(certificate);
    } catch (error) {
      throw new AkmError(
        `Certificate ${index + 1} of the GitHub CA bundle ${location} is not a valid X.509 certificate (${(error as Error).message}).`,
        {
          fix: `Export the authority's certificates again in PEM format and upload them to ${location}.`,
          fault: "user",
          cause: error,
        },
      );
    }
  });
  if (typeof tls.setDefaultCACertificates !== "function") {
    throw new AkmError(
      `This Node.js ${process.version} cannot add CA certificates at run time (tls.setDefaultCACertificates needs Node 24.5 or later), so the GitHub CA bundle ${location} cannot be used.`,
      {
        fix: "Update the stack from the published template, which runs the function on nodejs24.x; if it does, open an issue with the Lambda log.",
        fault: "tool",
      },
    );
  }
  trustedBeforeAnyBundle ??= tls.getCACertificates("default");
  tls.setDefaultCACertificates([...trustedBeforeAnyBundle, ...certificates]);
  return certificates.length;
}

/** Reads the PEM bundle from `store` (the S3 object pGitHubCaBundleKey names) and trusts it (see trustCaBundle). */
export async function trustCaBundleFrom(store: ConfigStore): Promise<number> {
  const document = await store.read();
  if (document === undefined) {
    throw new AkmError(
      `The GitHub CA bundle ${store.location} (stack parameter pGitHubCaBundleKey) does not exist.`,
      {
        fix: `Upload the PEM certificates of the authority that issued your GitHub Enterprise Server's certificate to ${store.location}, or clear pGitHubCaBundleKey.`,
        fault: "user",
      },
    );
  }
  return trustCaBundle(document.text, store.location);
}
