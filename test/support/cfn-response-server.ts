/**
 * A loopback stand-in for the presigned S3 URL CloudFormation gives a custom resource as its `ResponseURL`:
 * it records every request (method, path with query, headers, body) and answers 200, or the statuses it is
 * told to answer first. Custom resource responses: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { listenOnLoopback } from "../../scripts/local-stack/loopback.ts";

export interface RecordedResponse {
  readonly method: string;
  /** Path and query, as sent (the presigned signature included). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface CfnResponseServer {
  /** A URL shaped like a presigned one, under this server: `http://127.0.0.1:P/<stack>|<logical>|<request>?...`. */
  responseUrl(requestId: string): string;
  /** The query parameter value standing in for the presigned URL's signature (never to be logged). */
  readonly signature: string;
  readonly received: readonly RecordedResponse[];
  /** HTTP statuses to answer the next requests with, before the default 200. */
  answerNext(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startCfnResponseServer(): Promise<CfnResponseServer> {
  const received: RecordedResponse[] = [];
  const queued: number[] = [];
  const signature = `sig${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(queued.shift() ?? 200);
      response.end();
    });
  });
  const origin = await listenOnLoopback(server);
  return {
    responseUrl: (requestId) =>
      `${origin}/arn%3Aaws%3Acloudformation%3Aus-east-1%3A123456789012%3Astack/akm/1|rRunbookDefaultVersions|${requestId}` +
      `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=7200&X-Amz-Signature=${signature}`,
    signature,
    received,
    answerNext: (...statuses) => queued.push(...statuses),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
