/**
 * A GitHub the function reaches by its real kind of name (`https://github.acme.example/api/v3`,
 * `https://api.acme.ghe.com`) while it runs on loopback: an HTTPS front with a certificate for that name, from a CA
 * made for this run only, in front of the stack's GitHub emulator; and an HTTP proxy that tunnels `CONNECT name:443`
 * to the front (and refuses any other destination). The function's Node reaches it through the proxy variables
 * Node 24 reads when `NODE_USE_ENV_PROXY=1`, and trusts the CA through `NODE_EXTRA_CA_CERTS`
 * (https://nodejs.org/api/cli.html#node_use_env_proxy1, https://nodejs.org/api/cli.html#node_extra_ca_certsfile):
 * no DNS entry is needed and nothing leaves the machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHttpsFront } from "./https-front.ts";
import { throwawayPki } from "./throwaway-pki.ts";

export interface NamedHost {
  /** `https://NAME` */
  readonly origin: string;
  /** Variables for the function's environment (StackOptions.lambdaEnv). */
  readonly lambdaEnv: Readonly<Record<string, string>>;
  /** The `host:port` of every CONNECT the proxy was asked for, in order. */
  readonly tunnels: readonly string[];
  /** Where the front forwards requests, e.g. the emulator's origin; may be set after the host started. */
  setTarget(url: string): void;
  close(): Promise<void>;
}

/** Serves `https://hostname` (port 443 as the function sees it) from loopback. */
export async function startNamedHost(hostname: string): Promise<NamedHost> {
  const pki = throwawayPki([hostname]);
  const dir = mkdtempSync(join(tmpdir(), "akm-named-host-"));
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, pki.caPem);
  const front = await startHttpsFront({ key: pki.serverKey, cert: pki.serverCert });
  const frontPort = Number(new URL(front.url).port);
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((_req, res) => {
    // Plain HTTP through the proxy would carry the token unencrypted: only HTTPS tunnels are served.
    res.writeHead(403).end("named-host: only CONNECT to the named host");
  });
  proxy.on("connect", (req, client: Socket, head: Buffer) => {
    const destination = req.url ?? "";
    tunnels.push(destination);
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    if (destination.toLowerCase() !== `${hostname.toLowerCase()}:443`) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = connect(frontPort, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once("error", reject);
    proxy.listen(0, "127.0.0.1", () => resolve());
  });
  const address = proxy.address();
  const proxyPort = typeof address === "object" && address !== null ? address.port : 0;
  return {
    origin: `https://${hostname}`,
    lambdaEnv: {
      NODE_USE_ENV_PROXY: "1",
      HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
      // moto and anything else on loopback are reached directly.
      NO_PROXY: "127.0.0.1,localhost",
      NODE_EXTRA_CA_CERTS: caFile,
    },
    tunnels,
    setTarget: (url) => front.setTarget(url),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await front.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
