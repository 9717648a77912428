/**
 * AWS's JSON schema for Automation documents (schemaVersion 0.3), as shipped by aws-ssm-document-language-service
 * (dist/schema.json), brought up to what the SSM user guide documents today. The file predates two things our
 * runbooks use:
 * - `aws:loop` (added to Automation about November 2023). Added here from its action page: inputs `Iterators`
 *   (StringList, at most 100), `IteratorDataType` (Boolean | Integer | String | StringMap, with Iterators only),
 *   `LoopCondition` (a Variable and one operator, or And / Or / Not of such conditions, the operators of
 *   aws:branch), `MaxIterations` (1 to 100) and `Steps` (steps like mainSteps'); exactly one of Iterators and
 *   LoopCondition.
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-branch.html
 * - aws:executeScript's runtimes: the file lists python3.6/3.7 and PowerShell Core 6.0, which AWS has retired
 *   (python3.6-3.8 cannot run since 2025-02-18). Replaced by today's: python3.10, python3.11, PowerShell 7.4.
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html
 */
import { createRequire } from "node:module";
import { isObject, type Json, type JsonObject } from "../template/dist.ts";

/** A `{{ variable }}` in place of a value, as the shipped schema writes it for its enums. */
const VARIABLE_PATTERN = "^{{[ ]{0,1}[a-zA-Z_.:]+[ ]{0,1}}}$";
const variable = { type: "string", pattern: VARIABLE_PATTERN } as const;

export const EXECUTE_SCRIPT_RUNTIMES = ["python3.10", "python3.11", "PowerShell 7.4"] as const;

/** aws:branch's comparison operators and the type of the value each compares with. */
const OPERATORS: Readonly<Record<string, string>> = {
  StringEquals: "string",
  EqualsIgnoreCase: "string",
  StartsWith: "string",
  EndsWith: "string",
  Contains: "string",
  NumericEquals: "number",
  NumericGreater: "number",
  NumericLesser: "number",
  NumericGreaterOrEquals: "number",
  NumericLesserOrEquals: "number",
  BooleanEquals: "boolean",
};

/** A LoopCondition: `Variable` with exactly one operator, or `And` / `Or` (lists) / `Not` of conditions. */
const LOOP_CONDITION: JsonObject = {
  type: "object",
  oneOf: [
    {
      required: ["Variable"],
      additionalProperties: false,
      minProperties: 2,
      maxProperties: 2,
      properties: {
        Variable: { type: "string" },
        ...Object.fromEntries(
          Object.entries(OPERATORS).map(([name, type]) => [name, { oneOf: [{ type }, variable] }]),
        ),
      },
    },
    ...["And", "Or"].map((name) => ({
      required: [name],
      additionalProperties: false,
      properties: { [name]: { type: "array", minItems: 1, items: { $ref: "#/definitions/loopCondition" } } },
    })),
    {
      required: ["Not"],
      additionalProperties: false,
      properties: { Not: { $ref: "#/definitions/loopCondition" } },
    },
  ],
};

const LOOP_ACTION: JsonObject = {
  if: { properties: { action: { const: "aws:loop" } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable.
  then: {
    description:
      "Iterates over a subset of steps: do while (LoopCondition, evaluated after the steps) or for each (Iterators).",
    properties: {
      inputs: {
        type: "object",
        additionalProperties: false,
        required: ["Steps"],
        properties: {
          Iterators: { oneOf: [{ type: "array", maxItems: 100, items: { type: "string" } }, variable] },
          IteratorDataType: { enum: ["Boolean", "Integer", "String", "StringMap"] },
          LoopCondition: { $ref: "#/definitions/loopCondition" },
          MaxIterations: { oneOf: [{ type: "integer", minimum: 1, maximum: 100 }, variable] },
          Steps: { type: "array", minItems: 1, items: { $ref: "#/definitions/step" } },
        },
        oneOf: [
          { required: ["Iterators"], not: { required: ["LoopCondition"] } },
          { required: ["LoopCondition"], not: { required: ["Iterators"] } },
        ],
        dependencies: { IteratorDataType: ["Iterators"] },
      },
    },
  },
};

/** The shipped schema with aws:loop and today's executeScript runtimes; a fresh copy on every call. */
export function automationSchema(): JsonObject {
  const require = createRequire(import.meta.url);
  const schema = structuredClone(require("aws-ssm-document-language-service/dist/schema.json")) as JsonObject;
  // The file says "http://json-schema.org/draft-07/schema" without the trailing "#" Ajv registers draft-07 under.
  schema.$schema = "http://json-schema.org/draft-07/schema#";
  const mainSteps = dig(schema, "properties", "mainSteps") as JsonObject;
  const step = mainSteps.items as JsonObject;
  // The step schema moves to definitions, so aws:loop's Steps can refer to it.
  mainSteps.items = { $ref: "#/definitions/step" };
  schema.definitions = { step, loopCondition: LOOP_CONDITION };
  (dig(step, "properties", "action", "enum") as Json[]).push("aws:loop");
  const actions = dig(step, "allOf") as JsonObject[];
  actions.push(LOOP_ACTION);
  const executeScript = actions.find(
    (a) => dig(a, "if", "properties", "action", "const") === "aws:executeScript",
  );
  const runtime = dig(
    executeScript ?? {},
    "then",
    "properties",
    "inputs",
    "properties",
    "Runtime",
    "oneOf",
    "0",
  );
  (runtime as JsonObject).enum = [...EXECUTE_SCRIPT_RUNTIMES];
  return schema;
}

/** Follows keys through parsed JSON; fails naming the path when the schema's layout has changed. */
function dig(node: Json, ...path: string[]): Json {
  let current = node;
  for (const key of path) {
    const next = Array.isArray(current) ? current[Number(key)] : isObject(current) ? current[key] : undefined;
    if (next === undefined)
      throw new Error(`the Automation schema has no ${path.join(".")}; revisit this test`);
    current = next;
  }
  return current;
}
