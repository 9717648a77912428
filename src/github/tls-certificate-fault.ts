/**
 * A request that failed because the server's TLS certificate could not be verified. That is a configuration
 * fault (a private CA, an expired certificate, a host name the certificate does not name), never an outage: it
 * is not retried, and the message says what to change.
 *
 * Node reports verification failures with OpenSSL's X509 codes on the socket error, which fetch (undici) wraps
 * as the `cause` of its `TypeError: fetch failed`, which Octokit wraps as the `cause` of its RequestError.
 * https://nodejs.org/api/tls.html#x509-certificate-error-codes
 */

/** The X509 codes Node documents (less OUT_OF_MEM), plus Node's own host name check. */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** What kind of certificate problem, which decides the fix. */
export type CertificateProblem = "untrusted" | "expired" | "wrong-host" | "invalid";

export interface TlsCertificateFault {
  /** Node's code, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly code: string;
  /** Node's message for it, e.g. `unable to verify the first certificate`. */
  readonly reason: string;
  readonly problem: CertificateProblem;
}

const UNTRUSTED = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_UNTRUSTED",
  "INVALID_CA",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const WRONG_HOST = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);

/** The certificate failure somewhere in `error`'s `cause` chain, or undefined when there is none. */
export function tlsCertificateFault(error: unknown): TlsCertificateFault | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === "string" && CERTIFICATE_CODES.has(code)) {
      const problem = UNTRUSTED.has(code)
        ? "untrusted"
        : EXPIRED.has(code)
          ? "expired"
          : WRONG_HOST.has(code)
            ? "wrong-host"
            : "invalid";
      // Node adds "; if the root CA is installed locally, try running Node.js with --use-system-ca", which is
      // no fix inside Lambda: the message names the real one.
      const reason = typeof message === "string" ? (message.split("; if ")[0] ?? message) : code;
      return { code, reason, problem };
    }
    current = cause;
  }
  return undefined;
}
