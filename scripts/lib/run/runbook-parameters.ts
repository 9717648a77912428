import { GetDocumentCommand, type GetDocumentCommandOutput } from "@aws-sdk/client-ssm";
import * as v from "valibot";
import { parse } from "yaml";
import { awsErrorName } from "../aws/describe-aws-error.ts";

/** The one SSM call that reads a runbook; SSMClient satisfies it. */
export interface SsmDocumentReader {
  send(command: GetDocumentCommand): Promise<GetDocumentCommandOutput>;
}

/** What a runbook declares about one parameter (Automation document schema 0.3, `parameters`). */
export interface RunbookParameter {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly allowedValues?: readonly string[];
  readonly allowedPattern?: string;
}

const Declaration = v.object({
  type: v.string(),
  default: v.optional(v.unknown()),
  allowedValues: v.optional(v.array(v.union([v.string(), v.number(), v.boolean()]))),
  allowedPattern: v.optional(v.string()),
});
const Content = v.object({ parameters: v.optional(v.record(v.string(), Declaration)) });

/**
 * The runbook's declared parameters, read with ssm:GetDocument (its content as stored, YAML or JSON), or
 * undefined when they cannot be read (no permission, an unreadable document): the start then goes ahead and
 * SSM checks the parameters itself.
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetDocument.html
 */
export async function readRunbookParameters(
  ssm: SsmDocumentReader,
  documentName: string,
): Promise<{ readonly parameters?: readonly RunbookParameter[]; readonly unreadable?: string }> {
  let content: string | undefined;
  try {
    ({ Content: content } = await ssm.send(new GetDocumentCommand({ Name: documentName })));
  } catch (error) {
    return { unreadable: `ssm:GetDocument failed (${awsErrorName(error) ?? String(error)})` };
  }
  let data: unknown;
  try {
    data = parse(content ?? "");
  } catch {
    return { unreadable: "its content is neither YAML nor JSON" };
  }
  const parsed = v.safeParse(Content, data);
  if (!parsed.success) return { unreadable: "its parameters section is not the Automation schema's" };
  return {
    parameters: Object.entries(parsed.output.parameters ?? {}).map(([name, declaration]) => ({
      name,
      type: declaration.type,
      required: !("default" in declaration),
      ...(declaration.allowedValues === undefined
        ? declaration.type === "Boolean"
          ? { allowedValues: ["true", "false"] }
          : {}
        : { allowedValues: declaration.allowedValues.map(String) }),
      ...(declaration.allowedPattern === undefined ? {} : { allowedPattern: declaration.allowedPattern }),
    })),
  };
}

/**
 * Why Automation would refuse these parameters, or an empty list: names and values compare case-sensitively
 * (`dryrun` is not `DryRun`, `True` is not `true`), as SSM does; unknown names get the declared name that
 * differs only in case; required parameters must be given; values must be allowed and match the pattern.
 */
export function runbookParameterProblems(
  documentName: string,
  declared: readonly RunbookParameter[],
  given: Readonly<Record<string, readonly string[]>>,
): string[] {
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  const problems: string[] = [];
  for (const [name, values] of Object.entries(given)) {
    const parameter = byName.get(name);
    if (parameter === undefined) {
      const sameLetters = declared.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
      problems.push(
        sameLetters === undefined
          ? `${name} is not a parameter of ${documentName}; its parameters are ${declared.map((p) => p.name).join(", ") || "none"}.`
          : `${name} is not a parameter of ${documentName}: names are case-sensitive, write ${sameLetters.name}.`,
      );
      continue;
    }
    for (const value of values) {
      if (parameter.allowedValues !== undefined && !parameter.allowedValues.includes(value)) {
        problems.push(
          `${name}=${value}: must be one of ${parameter.allowedValues.join(", ")} (values are case-sensitive).`,
        );
      } else if (parameter.allowedPattern !== undefined && !matches(parameter.allowedPattern, value)) {
        problems.push(`${name}=${value}: must match ${parameter.allowedPattern}.`);
      }
    }
  }
  for (const parameter of declared) {
    if (parameter.required && !(parameter.name in given)) {
      problems.push(`${parameter.name} is required by ${documentName}: add --param ${parameter.name}=VALUE.`);
    }
  }
  return problems;
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    // A pattern JavaScript cannot compile: SSM checks it.
    return true;
  }
}
