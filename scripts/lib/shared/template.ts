/**
 * CloudFormation templates as the launch-link and diff commands read them: a file or a stack's body parsed into
 * plain data (short-form tags resolved with the build's one table, scripts/build/cfn-yaml.mjs), the built
 * template in dist/, its parameters, and the checks CloudFormation makes on parameter values.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { parseDocument } from "yaml";
import { cfnIntrinsicTags } from "../../build/cfn-yaml.mjs";
import { UsageError } from "./cli.ts";

/** A CloudFormation template as plain data (short-form tags already turned into their long form). */
export type CfnTemplate = Readonly<Record<string, unknown>>;

/** The template's Parameters or Resources section, or an empty object when absent or not a map. */
export function section(template: CfnTemplate, name: "Parameters" | "Resources"): Record<string, unknown> {
  const value = template[name];
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * Parses a template's text, JSON or YAML with short-form tags, into plain data.
 * @param source where the text came from, for error messages (a path or "stack X")
 */
export function parseCfnYaml(text: string, source: string): CfnTemplate {
  const document = parseDocument(text, {
    customTags: cfnIntrinsicTags(),
    prettyErrors: true,
    uniqueKeys: true,
  });
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    const lines = problems.map((problem) => {
      const at = problem.linePos?.[0];
      return `  ${source}${at ? `:${at.line}:${at.col}` : ""} ${problem.message.split("\n")[0]}`;
    });
    throw new UsageError(
      `${source} is not a readable CloudFormation template:\n${lines.join("\n")}\n` +
        "Fix the YAML or JSON there (CloudFormation's short-form tags such as !Ref and !Sub are understood).",
    );
  }
  const data: unknown = document.toJS({ maxAliasCount: -1 });
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`${source} is not a CloudFormation template: its top level must be a map.`);
  }
  if (!("Resources" in data)) {
    throw new UsageError(
      `${source} is not a CloudFormation template: it has no Resources section. Check that the right file was given.`,
    );
  }
  return data as CfnTemplate;
}

/** A template file's exact bytes (for upload) and its parsed content. */
export interface TemplateFile {
  readonly path: string;
  readonly bytes: Buffer;
  readonly template: CfnTemplate;
}

/**
 * Reads and parses a template file.
 * @param missingHint what to do when the file does not exist
 */
export async function readTemplateFile(path: string, missingHint: string): Promise<TemplateFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${path} does not exist: ${missingHint}`, { cause: error });
    throw new UsageError(`Cannot read ${path} (${code ?? String(error)}): check its permissions.`, {
      cause: error,
    });
  }
  return { path, bytes, template: parseCfnYaml(bytes.toString("utf8"), path) };
}

/** The product: the one template `npm run build` writes. */
export const DIST_TEMPLATE = join("dist", "aws-github-akm.template.yaml");

/** Reads the built template; if it is missing, the error says to run the build. */
export function readDistTemplate(projectRoot: string): Promise<TemplateFile> {
  return readTemplateFile(join(projectRoot, DIST_TEMPLATE), "run `npm run build` first, then try again.");
}

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

/**
 * Why CloudFormation would reject `value` for the parameter, or an empty list. Checks the type (Number),
 * AllowedValues, AllowedPattern (matched against the whole value, as CloudFormation does), and the
 * length and value bounds. A pattern JavaScript cannot compile is skipped: CloudFormation's regex
 * dialect is Java's, and the console checks it anyway.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 */
export function parameterValueProblems(parameter: TemplateParameter, value: string): string[] {
  const c = parameter.constraints ?? {};
  const problems: string[] = [];
  if (parameter.type === "Number") {
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) problems.push("it must be a number");
    else {
      if (c.minValue !== undefined && number < c.minValue) problems.push(`it must be at least ${c.minValue}`);
      if (c.maxValue !== undefined && number > c.maxValue) problems.push(`it must be at most ${c.maxValue}`);
    }
  }
  if (c.allowedValues !== undefined && !c.allowedValues.includes(value)) {
    problems.push(`it must be one of ${c.allowedValues.join(", ")}`);
  }
  if (c.minLength !== undefined && value.length < c.minLength) {
    problems.push(`it must have at least ${c.minLength} characters`);
  }
  if (c.maxLength !== undefined && value.length > c.maxLength) {
    problems.push(`it must have at most ${c.maxLength} characters`);
  }
  const pattern = c.allowedPattern === undefined ? undefined : wholeValuePattern(c.allowedPattern);
  if (pattern !== undefined && !pattern.test(value)) problems.push(`it must match ${c.allowedPattern}`);
  if (problems.length > 0 && c.constraintDescription !== undefined) {
    return [`${c.constraintDescription} (${problems.join("; ")})`];
  }
  return problems;
}

function wholeValuePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

/**
 * Problems between values that are each valid alone: pIamUserArn must name the user pIamUserName names (its
 * last part, same spelling), as the function checks before any change (src/config/settings.ts). Values not
 * given are not checked. Each problem names both parameters and values.
 */
export function parameterSetProblems(values: Readonly<Record<string, string>>): string[] {
  const arn = values.pIamUserArn;
  const name = values.pIamUserName;
  if (arn === undefined || name === undefined) return [];
  const arnName = arn.slice(arn.lastIndexOf("/") + 1);
  if (arnName === name) return [];
  return [
    `pIamUserArn ${arn} is user ${arnName}, but pIamUserName is ${name}: both must name the same IAM user ` +
      "(the name is the last part of the ARN, same spelling and case); the function refuses to run otherwise.",
  ];
}
