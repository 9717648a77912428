import { UsageError } from "../cli/errors.ts";
import type { KeyValue } from "../cli/key-value.ts";
import { parameterSetProblems, parameterValueProblems } from "../template/parameter-value-problems.ts";
import type { TemplateParameter } from "../template/template-parameters.ts";
import { publishPartition } from "./publish-partition.ts";
import { encodeComponent } from "./url-encode.ts";

/** The console refuses longer quick-create links (AWS CloudFormation user guide, "quick-create links"). */
export const MAX_QUICK_CREATE_URL_LENGTH = 1024;

export interface QuickCreateRequest {
  /** Validated region code; the console opens there, and the template must be in the same region. */
  readonly region: string;
  /** HTTPS URL of the template object in S3. */
  readonly templateUrl: string;
  /** Validated stack name; undefined leaves the console's field empty, for the user to fill. */
  readonly stackName?: string | undefined;
  /** Values to prefill, in the order given. */
  readonly parameters: readonly KeyValue[];
  /** The template's declared parameters: only these can be prefilled, and never the NoEcho ones. */
  readonly templateParameters: readonly TemplateParameter[];
}

/** A piece of the URL and what the user can do to shorten it. */
interface UrlPart {
  readonly label: string;
  readonly text: string;
  readonly howToShorten: string;
}

/**
 * Builds the CloudFormation console "quick-create" link that opens the stack creation review page with the
 * template and the given values filled in. Pure: validates the parameters against the template (known,
 * not NoEcho, values within the declared constraints) and the URL length, and throws a UsageError
 * saying what to change.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-console-create-stacks-quick-create-links.html
 */
export function quickCreateUrl(request: QuickCreateRequest): string {
  checkParameters(request.parameters, request.templateParameters);
  const base = `${publishPartition(request.region).consoleOrigin(request.region)}/cloudformation/home?region=${request.region}#/stacks/create/review`;
  const parts: UrlPart[] = [
    { label: "console address", text: base, howToShorten: "fixed" },
    {
      label: "templateURL",
      text: `?templateURL=${encodeComponent(request.templateUrl)}`,
      howToShorten: "use a shorter --key or --bucket",
    },
    ...(request.stackName === undefined
      ? []
      : [
          {
            label: "stackName",
            text: `&stackName=${encodeComponent(request.stackName)}`,
            howToShorten: "use a shorter --stack-name",
          },
        ]),
    ...request.parameters.map(({ key, value }) => ({
      label: `param_${key}`,
      text: `&param_${key}=${encodeComponent(value)}`,
      howToShorten: "shorten the value, or leave it out and type it in the console",
    })),
  ];
  const url = parts.map((part) => part.text).join("");
  if (url.length > MAX_QUICK_CREATE_URL_LENGTH) throw tooLong(url.length, parts);
  return url;
}

function checkParameters(given: readonly KeyValue[], declared: readonly TemplateParameter[]): void {
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  const prefillable = declared.filter((parameter) => !parameter.noEcho).map((parameter) => parameter.name);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { key, value } of given) {
    const parameter = byName.get(key);
    if (seen.has(key)) problems.push(`${key} is given more than once; give it once.`);
    else if (parameter === undefined) {
      problems.push(
        `${key} is not a parameter of the template. Prefillable parameters: ${prefillable.join(", ")}.`,
      );
    } else if (parameter.noEcho) {
      problems.push(
        `${key} is a NoEcho (secret) parameter: the console does not prefill those, and a link would leak it ` +
          "into browser history and logs. Leave it out; whoever creates the stack types it in the console.",
      );
    } else {
      const valueProblems = parameterValueProblems(parameter, value);
      if (valueProblems.length > 0) {
        problems.push(`${key}: CloudFormation would refuse the value: ${valueProblems.join("; ")}.`);
      }
    }
    seen.add(key);
  }
  problems.push(...parameterSetProblems(Object.fromEntries(given.map(({ key, value }) => [key, value]))));
  if (problems.length > 0) {
    throw new UsageError(`--param cannot be used as given:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

function tooLong(length: number, parts: readonly UrlPart[]): UsageError {
  const longestFirst = [...parts].sort((a, b) => b.text.length - a.text.length);
  const listing = longestFirst.map((part) => `  - ${part.label}: ${part.text.length} (${part.howToShorten})`);
  return new UsageError(
    `The quick-create URL would be ${length} characters, but the console accepts at most ` +
      `${MAX_QUICK_CREATE_URL_LENGTH}: shorten it by at least ${length - MAX_QUICK_CREATE_URL_LENGTH}. ` +
      `Characters per part, longest first:\n${listing.join("\n")}`,
  );
}
