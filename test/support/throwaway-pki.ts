/**
 * A certificate authority that exists only for one test run: openssl makes a CA and a server certificate it
 * signs, in a temporary directory that is deleted at once. No key is ever committed or reused.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ThrowawayPki {
  /** The CA's certificate (PEM): what a client must trust. */
  readonly caPem: string;
  /** The server's private key and certificate (PEM), signed by the CA. */
  readonly serverKey: string;
  readonly serverCert: string;
}

function openssl(dir: string, args: readonly string[]): void {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (result.error) throw new Error(`throwaway-pki: openssl is needed (${result.error.message})`);
  if (result.status !== 0) throw new Error(`throwaway-pki: openssl ${args[0]} failed: ${result.stderr}`);
}

/** A CA and a server certificate for `hosts` (DNS names or IP addresses), valid for a day. */
export function throwawayPki(hosts: readonly string[]): ThrowawayPki {
  const dir = mkdtempSync(join(tmpdir(), "akm-pki-"));
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(dir, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=aws-github-akm throwaway test CA",
    ]);
    openssl(dir, [
      "req",
      ...ec,
      "-keyout",
      "server.key",
      "-out",
      "server.csr",
      "-subj",
      `/CN=${hosts[0] ?? "localhost"}`,
    ]);
    const names = hosts.map((host) => (/^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`)).join(",");
    writeFileSync(
      join(dir, "server.ext"),
      `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "1",
      "-extfile",
      "server.ext",
    ]);
    return {
      caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
      serverKey: readFileSync(join(dir, "server.key"), "utf8"),
      serverCert: readFileSync(join(dir, "server.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
