/**
 * An HTTPS server on loopback that forwards every request to an HTTP backend (the GitHub emulator): a GitHub
 * Enterprise Server as the function sees it, with whatever certificate the test gives it.
 */
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface HttpsFront {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** TCP connections opened so far (a client that retries opens more). */
  readonly connections: number;
  /** TLS handshakes that failed (the client refused the certificate, or the reverse). */
  readonly failedHandshakes: number;
  /** Where requests go, e.g. the emulator's URL; may be set after the front started. */
  setTarget(url: string): void;
  close(): Promise<void>;
}

export async function startHttpsFront(tlsOptions: { key: string; cert: string }): Promise<HttpsFront> {
  let target: string | undefined;
  let connections = 0;
  let failedHandshakes = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer(tlsOptions, (req, res) => {
    if (target === undefined) {
      res.writeHead(502).end("https-front: no target");
      return;
    }
    const upstream = new URL(`${target}${req.url ?? "/"}`);
    const forwarded = httpRequest(
      upstream,
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  server.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => failedHandshakes++);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get failedHandshakes() {
      return failedHandshakes;
    },
    setTarget(url: string) {
      target = url.replace(/\/+$/, "");
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
