import { relative, resolve } from "node:path";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseKeyValues } from "../cli/key-value.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { validateStackName } from "../publish/stack-name.ts";
import { type CfnTemplate, section } from "../template/cfn-template.ts";
import { readDistTemplate } from "../template/dist-template.ts";
import { readTemplateFile } from "../template/read-template-file.ts";
import { type TemplateParameter, templateParameters } from "../template/template-parameters.ts";
import { compareTemplates } from "./compare-templates.ts";
import { readDeployedTemplate } from "./deployed-template.ts";
import { refusedCurrentValues } from "./refused-values.ts";
import { renderTemplateDiff } from "./render-template-diff.ts";
import { renderUpgradeImpact } from "./render-upgrade-impact.ts";
import type { ParameterValues } from "./resolve-parameters.ts";
import { readStackParameters } from "./stack-parameters.ts";
import { upgradeImpact } from "./upgrade-impact.ts";

const OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  template: { type: "string" },
  param: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run diff -- --stack NAME --region REGION
       npm run diff -- --template FILE [--param NAME=VALUE ...]

Compares a deployed stack's template (or a template file) with dist/aws-github-akm.template.yaml
(run \`npm run build\` first) and prints what an in-place stack update would do: first the stack's
current parameter values the new template would refuse, then the resources that would be REPLACED or
REMOVED and the parameters added or removed, then the full diff.
Use it before upgrading a stack of the original AWS GitHub AKM tool to this template.

With --stack, both templates are compared as the stack's parameter values resolve them (names built from
pIamUserName, for instance), as CloudFormation compares them.

Options:
  --stack NAME       deployed stack (name or ID) to compare; its template as submitted and its parameter
                     values are read
  --region REGION    region of that stack, e.g. eu-west-1
  --template FILE    template file (YAML or JSON) to compare instead of a stack
  --param NAME=VALUE with --template: a parameter value to resolve names with, e.g. pIamUserName=ci-deployer
                     (repeatable); the file's defaults are used for the others
  -h, --help         show this help

AWS credentials and endpoint come from the usual SDK settings (AWS_PROFILE, AWS_ENDPOINT_URL, ...).
Inline Lambda code is compared by length and SHA-256 rather than printed.

${exitCodeHelp({ runbookFailed: false })}`;

/** `npm run diff`: what upgrading a stack (or a template) to dist/ would change. */
export const diffCommand: Command = {
  name: "diff",
  help: HELP,
  async run(argv: readonly string[], context: CliContext) {
    const options = parseOptions(argv, OPTIONS);
    const current = await readCurrentTemplate(options, context);
    const dist = await readDistTemplate(context.projectRoot);

    const diff = compareTemplates(current.template, dist.template, current.values);
    context.stdout(`Comparing ${current.source} with ${relative(context.projectRoot, dist.path)}.`);
    const unresolved = Object.keys(section(current.template, "Parameters")).filter(
      (name) => !(name in current.values),
    );
    if (current.stackValues === undefined && unresolved.length > 0) {
      context.stdout(
        `Names built from ${unresolved.join(", ")} are compared as written (no value given): a change of ` +
          "spelling may show as a replacement. Give --param NAME=VALUE (or use --stack) to compare them resolved.",
      );
    }
    context.stdout("");
    if (current.stackValues !== undefined) {
      for (const line of renderRefused(templateParameters(dist.template, dist.path), current.stackValues)) {
        context.stdout(line);
      }
    }
    if (diff.isEmpty) {
      context.stdout("No differences: an update would change nothing.");
      return ExitCode.Success;
    }
    for (const line of renderUpgradeImpact(upgradeImpact(diff))) context.stdout(line);
    context.stdout("Full diff:");
    context.stdout(renderTemplateDiff(diff).trimEnd());
    return ExitCode.Success;
  },
};

/** The lines naming each current value the new template would refuse (none: one line saying so). */
function renderRefused(parameters: readonly TemplateParameter[], values: ParameterValues): string[] {
  const refused = refusedCurrentValues(parameters, values);
  if (refused.length === 0) return ["Current parameter values: all accepted by the new template.", ""];
  return [
    `Current parameter values the new template REFUSES: ${refused.length} (the update fails unless you change them in it)`,
    ...refused.map((line) => `  - ${line}`),
    "",
  ];
}

interface SourceOptions {
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly template?: string | undefined;
  readonly param?: string[] | undefined;
}

interface CurrentTemplate {
  readonly source: string;
  readonly template: CfnTemplate;
  /** Values to resolve both templates with. */
  readonly values: ParameterValues;
  /** The stack's own values, to check against the new template (--stack only). */
  readonly stackValues?: ParameterValues;
}

async function readCurrentTemplate(options: SourceOptions, context: CliContext): Promise<CurrentTemplate> {
  if (options.template !== undefined) {
    if (options.stack !== undefined || options.region !== undefined) {
      throw new UsageError("Give either --template FILE or --stack NAME --region REGION, not both.");
    }
    const file = await readTemplateFile(
      resolve(context.cwd, options.template),
      `check the path (relative to ${context.cwd}).`,
    );
    const given = Object.fromEntries(
      parseKeyValues(options.param ?? [], "--param").map((p) => [p.key, p.value]),
    );
    return {
      source: relative(context.cwd, file.path),
      template: file.template,
      values: { ...defaultValues(file.template), ...given },
    };
  }
  if (options.param !== undefined) {
    throw new UsageError("--param goes with --template; with --stack the stack's own values are used.");
  }
  const stack = requireOption(
    options.stack,
    "--stack",
    "the deployed stack to compare (or use --template FILE)",
  );
  if (!stack.startsWith("arn:")) validateStackName(stack, "--stack");
  const region = validateRegion(requireOption(options.region, "--region", "the region of the stack"));
  const cloudFormation = new CloudFormationClient({ region });
  const deployed = await readDeployedTemplate(cloudFormation, stack, region);
  const values = await readStackParameters(cloudFormation, stack, region);
  return { ...deployed, values, stackValues: values };
}

/** The Default of each parameter that has one. */
function defaultValues(template: CfnTemplate): ParameterValues {
  const values: Record<string, string> = {};
  for (const [name, declaration] of Object.entries(section(template, "Parameters"))) {
    const fallback = (declaration as { Default?: unknown } | null)?.Default;
    if (typeof fallback === "string" || typeof fallback === "number") values[name] = String(fallback);
  }
  return values;
}
