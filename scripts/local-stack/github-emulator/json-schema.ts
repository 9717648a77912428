/**
 * Turns OpenAPI 3.0 schema objects (as found in GitHub's dereferenced description) into JSON Schema that ajv
 * validates faithfully, and owns the ajv instances that compile them.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` means "or null" (JSON Schema has no such keyword, so ajv would
 * silently ignore it and reject every null), and schemas carry annotations (`example`, `x-*`, `discriminator`)
 * and formats (`repo.nwo`, `timestamp`) that ajv does not know.
 * See https://spec.openapis.org/oas/v3.0.3#fixed-fields-19.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/** Formats ajv-formats implements; any other format in GitHub's description is dropped (treated as plain string). */
const KNOWN_FORMATS: ReadonlySet<string> = new Set([
  "date",
  "time",
  "date-time",
  "duration",
  "uri",
  "uri-reference",
  "uri-template",
  "url",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "regex",
  "uuid",
  "json-pointer",
  "relative-json-pointer",
  "byte",
  "int32",
  "int64",
  "float",
  "double",
  "password",
  "binary",
]);

/** Annotations that never affect validity; dropping them keeps compiled validators small. */
const ANNOTATIONS: ReadonlySet<string> = new Set([
  "description",
  "example",
  "examples",
  "externalDocs",
  "title",
  "readOnly",
  "writeOnly",
  "deprecated",
  "discriminator",
  "xml",
]);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapValues(value: unknown, fn: (v: unknown) => unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, fn(v)]));
}

function withNull(schema: JsonObject): JsonObject {
  if (typeof schema.type === "string") {
    const enumValues = schema.enum;
    const nullableEnum =
      Array.isArray(enumValues) && !enumValues.includes(null) ? { enum: [...enumValues, null] } : {};
    return { ...schema, type: [schema.type, "null"], ...nullableEnum };
  }
  if ("allOf" in schema || "anyOf" in schema || "oneOf" in schema) {
    return { anyOf: [schema, { type: "null" }] };
  }
  // An untyped schema already accepts null.
  return schema;
}

/** Converts one OpenAPI 3.0 schema object to JSON Schema (draft-07 semantics); the input is not modified. */
export function openApiSchemaToJsonSchema(schema: unknown): unknown {
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || key.startsWith("x-") || key === "nullable") continue;
    switch (key) {
      case "properties":
      case "patternProperties":
        out[key] = mapValues(value, openApiSchemaToJsonSchema);
        break;
      case "items":
      case "additionalProperties":
      case "not":
        out[key] = Array.isArray(value)
          ? value.map(openApiSchemaToJsonSchema)
          : openApiSchemaToJsonSchema(value);
        break;
      case "allOf":
      case "anyOf":
      case "oneOf":
        out[key] = Array.isArray(value) ? value.map(openApiSchemaToJsonSchema) : value;
        break;
      case "format":
        if (typeof value === "string" && KNOWN_FORMATS.has(value)) out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  return schema.nullable === true ? withNull(out) : out;
}

/** ajv-formats is CommonJS; under NodeNext its default import is `module.exports`, whose `default` is the plugin. */
const addFormats = addFormatsModule.default;

function newAjv(coerceTypes: boolean): Ajv {
  // strict: false because GitHub's schemas trip strict-mode lints that do not change validity (`properties`
  // without `type`, union types); unicodeRegExp: false because not every pattern in them is valid with /u.
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    unicodeRegExp: false,
    coerceTypes: coerceTypes && "array",
  });
  addFormats(ajv);
  return ajv;
}

let bodyAjv: Ajv | undefined;
let paramAjv: Ajv | undefined;

/**
 * Compiles an OpenAPI schema. `coerce` is for path/query parameters, which arrive as strings
 * (ajv then converts them in place, as GitHub does before validating).
 */
export function compileOpenApiSchema(schema: unknown, options: { coerce: boolean }): ValidateFunction {
  const converted = openApiSchemaToJsonSchema(schema);
  if (!isObject(converted)) throw new Error("github-emulator: an OpenAPI schema must be an object");
  if (options.coerce) {
    paramAjv ??= newAjv(true);
    return paramAjv.compile(converted);
  }
  bodyAjv ??= newAjv(false);
  return bodyAjv.compile(converted);
}

/** Renders ajv errors as short readable problems, e.g. `/owner/id must be integer`. Never includes the data. */
export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath === "" ? "(root)" : error.instancePath;
    if (error.keyword === "additionalProperties" && isObject(error.params)) {
      return `${where} must not have property '${String(error.params.additionalProperty)}'`;
    }
    return `${where} ${error.message ?? "is invalid"}`;
  });
}
