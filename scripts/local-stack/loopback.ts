import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts `server` on an OS-chosen port of 127.0.0.1 (tests never assume a port is free) and returns its origin. */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}
