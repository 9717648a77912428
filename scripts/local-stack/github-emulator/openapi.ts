/**
 * GitHub's official REST description (from @octokit/openapi): matches requests to operations and validates
 * requests and responses against it. The 70 MB file is read once per process, on first use; validators are
 * compiled only for the operations actually exercised, and cached.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { ValidateFunction } from "ajv";
import { compileOpenApiSchema, describeSchemaErrors } from "./json-schema.ts";

/**
 * Which of GitHub's descriptions (as @octokit/openapi ships them): `api.github.com` (github.com), `ghec` (GitHub
 * Enterprise Cloud, including GHE.com), or a GitHub Enterprise Server release such as `ghes-3.19`.
 */
export type GitHubDescription = "api.github.com" | "ghec" | `ghes-${number}.${number}`;

function descriptionModule(description: GitHubDescription): string {
  return `@octokit/openapi/generated/${description}.deref.json`;
}

interface RawParameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly schema?: unknown;
}

interface RawMediaTypes {
  readonly [mediaType: string]: { readonly schema?: unknown } | undefined;
}

interface RawOperation {
  readonly operationId: string;
  readonly parameters?: readonly RawParameter[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: RawMediaTypes };
  readonly responses: { readonly [status: string]: { readonly content?: RawMediaTypes } | undefined };
  readonly externalDocs?: { readonly url?: string };
}

/** The subset of the description this module reads; the file is GitHub's and trusted to have this shape. */
interface RawDescription {
  readonly paths: { readonly [template: string]: { readonly [method: string]: RawOperation | undefined } };
}

/** One documented REST operation. */
export interface OpenApiOperation {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path template as documented, e.g. `/repos/{owner}/{repo}/actions/secrets/{secret_name}`. */
  readonly template: string;
  /** e.g. `actions/create-or-update-repo-secret`. */
  readonly operationId: string;
  /** GitHub's documentation page for the operation (used as `documentation_url` in error bodies). */
  readonly docsUrl: string;
  readonly raw: RawOperation;
}

/** A request matched to an operation, with its decoded path parameters. */
export interface RouteMatch {
  readonly operation: OpenApiOperation;
  readonly params: Readonly<Record<string, string>>;
}

/** Problems found in a request; `status` is what GitHub would answer (400 unparsable, 422 invalid). */
export interface RequestProblems {
  readonly status: 400 | 422;
  readonly problems: readonly string[];
}

/**
 * GitHub answers many errors its description does not list per operation (e.g. 404 on `get-repo-secret`,
 * 401 anywhere). Those responses must still be GitHub's error envelope; this is the documented "basic-error"
 * schema, tightened to the two fields every real GitHub error body carries.
 */
const GITHUB_ERROR_ENVELOPE = {
  type: "object",
  required: ["message", "documentation_url"],
  properties: {
    message: { type: "string" },
    documentation_url: { type: "string", format: "uri" },
    url: { type: "string" },
    status: { type: "string" },
    errors: { type: "array" },
  },
} as const;

interface Segment {
  readonly literal: string | undefined;
  readonly pattern: RegExp | undefined;
  readonly names: readonly string[];
  /** 2 literal, 1 parameter mixed with text (`{base}...{head}`), 0 whole-segment parameter. */
  readonly rank: number;
}

interface Route {
  readonly operation: OpenApiOperation;
  readonly segments: readonly Segment[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function parseSegment(segment: string): Segment {
  if (!segment.includes("{")) return { literal: segment, pattern: undefined, names: [], rank: 2 };
  const names: string[] = [];
  // Handles whole-segment parameters and mixed ones such as `{base}...{head}`.
  const source = segment
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const name = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (name === undefined) return escapeRegExp(part);
      names.push(name);
      return "(.+?)";
    })
    .join("");
  const rank = /^\{[^}]+\}$/.test(segment) ? 0 : 1;
  return { literal: undefined, pattern: new RegExp(`^${source}$`), names, rank };
}

/** Literal segments outrank parameters, so `/secrets/public-key` wins over `/secrets/{secret_name}`. */
function specificity(route: Route): number[] {
  return route.segments.map((segment) => segment.rank);
}

function compareSpecificity(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const diff = (b[i] ?? 0) - (a[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function jsonSchemaOf(content: RawMediaTypes | undefined): unknown {
  return content?.["application/json"]?.schema;
}

/** GitHub's REST description, indexed for matching and validation. */
export class GitHubOpenApi {
  readonly #routes = new Map<string, Route[]>();
  /** Routes ending in a `{path}` parameter, which GitHub lets span several segments (`.github/workflows/ci.yml`). */
  readonly #greedy: Route[] = [];
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #envelope = compileOpenApiSchema(GITHUB_ERROR_ENVELOPE, { coerce: false });

  private constructor(
    /** Which description this is. */
    readonly description: GitHubDescription,
    paths: RawDescription["paths"],
  ) {
    for (const [template, item] of Object.entries(paths)) {
      for (const [method, raw] of Object.entries(item)) {
        if (raw?.operationId === undefined) continue;
        const operation: OpenApiOperation = {
          method: method.toUpperCase(),
          template,
          operationId: raw.operationId,
          docsUrl: raw.externalDocs?.url ?? "https://docs.github.com/rest",
          raw,
        };
        const route: Route = { operation, segments: template.split("/").slice(1).map(parseSegment) };
        const key = `${operation.method} ${route.segments.length}`;
        const bucket = this.#routes.get(key) ?? [];
        bucket.push(route);
        this.#routes.set(key, bucket);
        if (template.endsWith("/{path}")) this.#greedy.push(route);
      }
    }
    for (const bucket of this.#routes.values()) {
      bucket.sort((a, b) => compareSpecificity(specificity(a), specificity(b)));
    }
  }

  /** Loads a description once per process (later calls share the same promise); default github.com's. */
  static load(description: GitHubDescription = "api.github.com"): Promise<GitHubOpenApi> {
    let pending = loading.get(description);
    if (pending === undefined) {
      pending = (async () => {
        let file: string;
        try {
          file = createRequire(import.meta.url).resolve(descriptionModule(description));
        } catch {
          throw new Error(
            `github-emulator: @octokit/openapi has no description "${description}" (see node_modules/@octokit/openapi/generated)`,
          );
        }
        const parsed = JSON.parse(await readFile(file, "utf8")) as RawDescription;
        // Only `paths` is kept reachable; webhooks and metadata (a third of the file) can be collected.
        return new GitHubOpenApi(description, parsed.paths);
      })();
      loading.set(description, pending);
    }
    return pending;
  }

  /** Finds the operation for a method and path (without query string), or undefined if none is documented. */
  match(method: string, pathname: string): RouteMatch | undefined {
    const parts = pathname.split("/").slice(1);
    for (const route of this.#routes.get(`${method.toUpperCase()} ${parts.length}`) ?? []) {
      const params = matchSegments(route.segments, parts);
      if (params !== undefined) return { operation: route.operation, params };
    }
    for (const route of this.#greedy) {
      if (route.operation.method !== method.toUpperCase() || parts.length <= route.segments.length) continue;
      const head = route.segments.length - 1;
      const params = matchSegments(route.segments, [...parts.slice(0, head), "_"]);
      const rest = parts.slice(head);
      if (params === undefined || rest.some((part) => part === "")) continue;
      try {
        params.path = rest.map(decodeURIComponent).join("/");
      } catch {
        continue;
      }
      return { operation: route.operation, params };
    }
    return undefined;
  }

  /** Finds an operation by operationId. */
  operation(operationId: string): OpenApiOperation | undefined {
    for (const bucket of this.#routes.values()) {
      for (const route of bucket) if (route.operation.operationId === operationId) return route.operation;
    }
    return undefined;
  }

  /**
   * Validates path and query parameters and the JSON body (`undefined` when the request had none).
   * Returns undefined when the request is valid.
   */
  validateRequest(match: RouteMatch, query: URLSearchParams, body: unknown): RequestProblems | undefined {
    const { operation } = match;
    const problems: string[] = [];
    const parameters = operation.raw.parameters ?? [];
    for (const location of ["path", "query"] as const) {
      const declared = parameters.filter((p) => p.in === location && p.schema !== undefined);
      if (declared.length === 0) continue;
      const values: Record<string, unknown> =
        location === "path" ? { ...match.params } : Object.fromEntries(query.entries());
      const validate = this.#validator(`${operation.operationId} ${location}`, () => ({
        type: "object",
        properties: Object.fromEntries(declared.map((p) => [p.name, p.schema])),
        required: declared.filter((p) => p.required === true).map((p) => p.name),
      }));
      if (!validate(values)) {
        problems.push(...describeSchemaErrors(validate.errors).map((p) => `${location} parameters: ${p}`));
      }
    }
    const requestBody = operation.raw.requestBody;
    const bodySchema = jsonSchemaOf(requestBody?.content);
    if (bodySchema !== undefined) {
      if (body === undefined) {
        if (requestBody?.required === true) problems.push("request body is required but was empty");
      } else {
        const validate = this.#validator(`${operation.operationId} body`, () => bodySchema);
        if (!validate(body)) problems.push(...describeSchemaErrors(validate.errors).map((p) => `body: ${p}`));
      }
    }
    return problems.length === 0 ? undefined : { status: 422, problems };
  }

  /**
   * Checks a response the emulator is about to send: the status must be documented for the operation (or be an
   * error status carrying GitHub's error envelope) and the body must match the documented schema.
   * `body` is undefined for responses without a body. Returns the problems found (empty when valid).
   */
  validateResponse(operation: OpenApiOperation, status: number, body: unknown): string[] {
    const documented = operation.raw.responses[String(status)];
    if (documented === undefined) {
      if (status < 400) {
        const listed = Object.keys(operation.raw.responses).join(", ");
        return [`status ${status} is not documented (documented: ${listed})`];
      }
      return this.validateErrorEnvelope(body);
    }
    const schema = jsonSchemaOf(documented.content);
    if (schema === undefined) {
      return body === undefined ? [] : [`status ${status} is documented without a body, but one was sent`];
    }
    if (body === undefined) return [`status ${status} is documented with a JSON body, but none was sent`];
    const validate = this.#validator(`${operation.operationId} response ${status}`, () => schema);
    return validate(body) ? [] : describeSchemaErrors(validate.errors).map((p) => `body: ${p}`);
  }

  /** Checks that an error body has GitHub's error envelope (`message`, `documentation_url`). */
  validateErrorEnvelope(body: unknown): string[] {
    if (body === undefined) return ["error responses carry a JSON body with a message, but none was sent"];
    return this.#envelope(body) ? [] : describeSchemaErrors(this.#envelope.errors).map((p) => `body: ${p}`);
  }

  #validator(key: string, schema: () => unknown): ValidateFunction {
    let validate = this.#validators.get(key);
    if (validate === undefined) {
      validate = compileOpenApiSchema(schema(), { coerce: key.endsWith(" path") || key.endsWith(" query") });
      this.#validators.set(key, validate);
    }
    return validate;
  }
}

const loading = new Map<GitHubDescription, Promise<GitHubOpenApi>>();

function matchSegments(
  segments: readonly Segment[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index];
    if (part === undefined || part === "") return undefined;
    if (segment.literal !== undefined) {
      if (segment.literal !== part) return undefined;
      continue;
    }
    const found = segment.pattern?.exec(part);
    if (found == null) return undefined;
    for (const [i, name] of segment.names.entries()) {
      const raw = found[i + 1] ?? "";
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        return undefined;
      }
    }
  }
  return params;
}
