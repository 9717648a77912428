import * as v from "valibot";
import { UsageError } from "../cli/errors.ts";
import { type CfnTemplate, section } from "./cfn-template.ts";

/** The value constraints CloudFormation checks when a stack is created. */
export interface ParameterConstraints {
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly constraintDescription?: string;
}

/** What the launch-link and diff commands need to know about one template parameter. */
export interface TemplateParameter {
  readonly name: string;
  readonly type: string;
  /** NoEcho parameters (tokens) must never be put in a URL. */
  readonly noEcho: boolean;
  readonly constraints?: ParameterConstraints;
}

// Templates write numbers and booleans either as YAML scalars or as strings; CloudFormation takes both.
const Numeric = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^-?\d+(\.\d+)?$/))]),
  v.transform(Number),
);
const Scalar = v.pipe(v.union([v.string(), v.number(), v.boolean()]), v.transform(String));

const ParameterSchema = v.object({
  Type: v.string(),
  NoEcho: v.optional(v.union([v.boolean(), v.picklist(["true", "false", "True", "False"])])),
  AllowedPattern: v.optional(v.string()),
  AllowedValues: v.optional(v.array(Scalar)),
  MinLength: v.optional(Numeric),
  MaxLength: v.optional(Numeric),
  MinValue: v.optional(Numeric),
  MaxValue: v.optional(Numeric),
  ConstraintDescription: v.optional(v.string()),
});

type ParsedParameter = v.InferOutput<typeof ParameterSchema>;

/** The template's parameters in declaration order; a UsageError names any malformed one. */
export function templateParameters(template: CfnTemplate, source: string): TemplateParameter[] {
  return Object.entries(section(template, "Parameters")).map(([name, declaration]) => {
    const parsed = v.safeParse(ParameterSchema, declaration);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const where = issue ? v.getDotPath(issue) : undefined;
      throw new UsageError(
        `${source}: parameter ${name}${where ? ` field ${where}` : ""} is malformed (${issue?.message ?? "invalid"}). ` +
          "Each parameter needs a string Type; NoEcho must be true or false; lengths and bounds must be numbers.",
      );
    }
    const noEcho = parsed.output.NoEcho;
    return {
      name,
      type: parsed.output.Type,
      noEcho: noEcho === true || (typeof noEcho === "string" && noEcho.toLowerCase() === "true"),
      constraints: constraintsOf(parsed.output),
    };
  });
}

function constraintsOf(parsed: ParsedParameter): ParameterConstraints {
  return {
    ...(parsed.AllowedPattern === undefined ? {} : { allowedPattern: parsed.AllowedPattern }),
    ...(parsed.AllowedValues === undefined ? {} : { allowedValues: parsed.AllowedValues }),
    ...(parsed.MinLength === undefined ? {} : { minLength: parsed.MinLength }),
    ...(parsed.MaxLength === undefined ? {} : { maxLength: parsed.MaxLength }),
    ...(parsed.MinValue === undefined ? {} : { minValue: parsed.MinValue }),
    ...(parsed.MaxValue === undefined ? {} : { maxValue: parsed.MaxValue }),
    ...(parsed.ConstraintDescription === undefined
      ? {}
      : { constraintDescription: parsed.ConstraintDescription }),
  };
}
