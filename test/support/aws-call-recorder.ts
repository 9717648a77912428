/**
 * A loopback HTTP proxy in front of moto that records every signed AWS request passing through it: which
 * service and API operation, the few request fields that name resources, who signed it, and how AWS answered.
 * Point `AWS_ENDPOINT_URL` (e.g. a stack fixture's endpoint) at `endpoint` to see exactly what a piece of code
 * asks AWS for.
 *
 * Secret values never reach a record: only allow-listed identifier fields are kept, and response bodies are
 * read for an error code only.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One signed request to AWS and its answer. */
export interface RecordedAwsCall {
  /** The SigV4 signing name: `iam`, `sts`, `s3`, `secretsmanager`, ... */
  readonly service: string;
  /** The API operation, e.g. `GetUser`, `PutObject`; `unknown` when the request could not be identified. */
  readonly operation: string;
  /**
   * Identifier fields of the request (names, ARNs, bucket and key; for S3, `SSEKMSKeyId` when the answer says the
   * object is encrypted with a KMS key); never a secret value.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The access key ID the request was signed with. */
  readonly accessKeyId: string;
  readonly userAgent: string;
  readonly method: string;
  readonly status: number;
  /** AWS's error code for a failed request (`NoSuchKey`, `PreconditionFailed`, ...). */
  readonly errorCode: string | undefined;
}

export interface AwsCallRecorder {
  /** Base URL to use as the AWS endpoint, e.g. `http://127.0.0.1:40123`. */
  readonly endpoint: string;
  /** Every signed request so far, in the order their answers completed. */
  readonly calls: readonly RecordedAwsCall[];
  close(): Promise<void>;
}

// Request fields that name what a call acts on. Anything else (SecretString above all) is left out.
const IDENTIFIER_FIELDS = new Set([
  "AccessKeyId",
  "FunctionName",
  "KeyId",
  "Marker",
  "Name",
  "RoleArn",
  "SecretId",
  "Status",
  "TopicArn",
  "UserName",
]);

/** Starts the proxy on a free loopback port, forwarding every request unchanged to `target`. */
export async function startAwsCallRecorder(target: string): Promise<AwsCallRecorder> {
  const upstream = new URL(target);
  const calls: RecordedAwsCall[] = [];
  const server = createServer((incoming, outgoing) => {
    const requestChunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => requestChunks.push(chunk));
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        // Unchanged, Host included: the SigV4 signature covers it.
        headers: incoming.headers,
      },
      (answer: IncomingMessage) => {
        const responseChunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => responseChunks.push(chunk));
        answer.on("end", () => {
          const described = describeAwsRequest(
            incoming.method ?? "GET",
            incoming.url ?? "/",
            incoming.headers,
            Buffer.concat(requestChunks),
          );
          if (described !== undefined) {
            const status = answer.statusCode ?? 0;
            calls.push({
              ...described,
              params: { ...described.params, ...sseKmsKey(described.service, answer.headers) },
              status,
              errorCode:
                status >= 400 ? errorCodeOf(answer.headers, Buffer.concat(responseChunks)) : undefined,
            });
          }
        });
        outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", (error) => {
      outgoing.writeHead(502, { "content-type": "text/plain" });
      outgoing.end(`aws-call-recorder: ${target} did not answer: ${error.message}`);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * What a signed request asks AWS for, from its SigV4 credential scope and its protocol: `X-Amz-Target` (JSON
 * protocols), `Action=` (query protocol: IAM, STS) or method and path (S3 REST, path style). Unsigned
 * requests (moto's own API) are not AWS calls: undefined.
 */
export function describeAwsRequest(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Omit<RecordedAwsCall, "status" | "errorCode"> | undefined {
  const scope = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(
    String(headers.authorization ?? ""),
  );
  if (!scope) return undefined;
  const [, accessKeyId = "", service = ""] = scope;
  const userAgent = String(headers["user-agent"] ?? "");
  const base = { service, accessKeyId, userAgent, method };
  const parsedUrl = new URL(url, "http://aws.invalid");

  const target = headers["x-amz-target"];
  if (typeof target === "string") {
    return { ...base, operation: target.slice(target.lastIndexOf(".") + 1), params: jsonIdentifiers(body) };
  }
  if (String(headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams(body.toString("utf8"));
    const params: Record<string, string> = {};
    for (const [name, value] of form) if (IDENTIFIER_FIELDS.has(name)) params[name] = value;
    return { ...base, operation: form.get("Action") ?? "unknown", params };
  }
  if (service === "s3") return { ...base, ...s3Operation(method, parsedUrl) };
  return { ...base, operation: "unknown", params: {} };
}

/** S3 REST, path style (moto serves buckets by path): the operations this project's code may send. */
function s3Operation(method: string, url: URL): { operation: string; params: Record<string, string> } {
  const [bucket = "", ...keyParts] = url.pathname.slice(1).split("/");
  const key = keyParts.map(decodeURIComponent).join("/");
  const subresources = [...url.searchParams.keys()].filter((name) => !name.startsWith("x-id"));
  const params: Record<string, string> = { Bucket: decodeURIComponent(bucket) };
  if (key !== "") params.Key = key;
  if (key === "") {
    if (method === "GET" && url.searchParams.has("versions")) {
      const prefix = url.searchParams.get("prefix");
      return {
        operation: "ListObjectVersions",
        params: prefix === null ? params : { ...params, Prefix: prefix },
      };
    }
    if (method === "GET" && url.searchParams.get("list-type") === "2")
      return { operation: "ListObjectsV2", params };
    if (method === "GET" && subresources.length === 0) return { operation: "ListObjects", params };
    return { operation: "unknown", params };
  }
  // GetObject of one version: IAM calls it s3:GetObjectVersion.
  const versionId = url.searchParams.get("versionId");
  if (method === "GET" && versionId !== null && subresources.length === 1) {
    return { operation: "GetObject", params: { ...params, VersionId: versionId } };
  }
  // A sub-resource (?tagging, ?acl, ...) is another operation than the plain object one.
  if (subresources.length > 0) return { operation: "unknown", params };
  const byMethod: Record<string, string> = {
    GET: "GetObject",
    HEAD: "HeadObject",
    PUT: "PutObject",
    DELETE: "DeleteObject",
  };
  return { operation: byMethod[method] ?? "unknown", params };
}

function jsonIdentifiers(body: Buffer): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8") || "{}");
  } catch {
    return {};
  }
  const params: Record<string, string> = {};
  if (typeof parsed === "object" && parsed !== null) {
    for (const [name, value] of Object.entries(parsed)) {
      if (IDENTIFIER_FIELDS.has(name) && typeof value === "string") params[name] = value;
    }
  }
  return params;
}

/**
 * The KMS key S3 used for an object encrypted with SSE-KMS, as its answer names it (PutObject, GetObject and
 * HeadObject carry `x-amz-server-side-encryption: aws:kms` and the key's ID): S3 used that key as the caller.
 */
function sseKmsKey(service: string, headers: IncomingHttpHeaders): Record<string, string> {
  const key = headers["x-amz-server-side-encryption-aws-kms-key-id"];
  if (service !== "s3" || headers["x-amz-server-side-encryption"] !== "aws:kms" || typeof key !== "string") {
    return {};
  }
  return { SSEKMSKeyId: key };
}

/** The error code of a failed answer: JSON `__type`, or `<Code>` of an XML error document. */
function errorCodeOf(headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  const header = headers["x-amzn-errortype"];
  if (typeof header === "string" && header !== "") return header.split(":")[0];
  const text = body.toString("utf8");
  const xml = /<Code>([^<]+)<\/Code>/.exec(text);
  if (xml?.[1] !== undefined) return xml[1];
  try {
    const type = (JSON.parse(text) as { __type?: unknown }).__type;
    return typeof type === "string" ? type.slice(type.lastIndexOf("#") + 1) : undefined;
  } catch {
    return undefined;
  }
}
