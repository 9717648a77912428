/**
 * A plain HTTP server on loopback that answers every request 200 with the JSON body and headers `answer` gives
 * for its path, and records what it received: a GitHub that answers oddly (a hostile or broken server), for the
 * client's and the adapters' tests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface JsonServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Every request, in order: its path (with the query) and headers. */
  readonly received: readonly { readonly path: string; readonly headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startJsonServer(
  answer: (path: string) => { readonly body: unknown; readonly headers?: Record<string, string> },
): Promise<JsonServer> {
  const received: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server: Server = createServer((request, response) => {
    received.push({ path: request.url ?? "", headers: request.headers });
    const { body, headers = {} } = answer(request.url ?? "");
    response.writeHead(200, { "content-type": "application/json", ...headers });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
