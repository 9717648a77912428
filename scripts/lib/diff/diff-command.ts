import { relative, resolve } from "node:path";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { UsageError } from "../cli/errors.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { validateStackName } from "../publish/stack-name.ts";
import type { CfnTemplate } from "../template/cfn-template.ts";
import { readDistTemplate } from "../template/dist-template.ts";
import { readTemplateFile } from "../template/read-template-file.ts";
import { compareTemplates } from "./compare-templates.ts";
import { readDeployedTemplate } from "./deployed-template.ts";
import { renderTemplateDiff } from "./render-template-diff.ts";
import { renderUpgradeImpact } from "./render-upgrade-impact.ts";
import { upgradeImpact } from "./upgrade-impact.ts";

const OPTIONS = {
  stack: { type: "string" },
  region: { type: "string" },
  template: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run diff -- --stack NAME --region REGION
       npm run diff -- --template FILE

Compares a deployed stack's template (or a template file) with dist/aws-github-akm.template.yaml
(run \`npm run build\` first) and prints what an in-place stack update would do: first the resources
that would be REPLACED or REMOVED and the parameters added or removed, then the full diff.
Use it before upgrading a stack of the original AWS GitHub AKM tool to this template.

Options:
  --stack NAME       deployed stack (name or ID) to compare; its template as submitted is read
  --region REGION    region of that stack, e.g. eu-west-1
  --template FILE    template file (YAML or JSON) to compare instead of a stack
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

    const diff = compareTemplates(current.template, dist.template);
    context.stdout(`Comparing ${current.source} with ${relative(context.projectRoot, dist.path)}.`);
    context.stdout("");
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

interface SourceOptions {
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly template?: string | undefined;
}

async function readCurrentTemplate(
  options: SourceOptions,
  context: CliContext,
): Promise<{ source: string; template: CfnTemplate }> {
  if (options.template !== undefined) {
    if (options.stack !== undefined || options.region !== undefined) {
      throw new UsageError("Give either --template FILE or --stack NAME --region REGION, not both.");
    }
    const file = await readTemplateFile(
      resolve(context.cwd, options.template),
      `check the path (relative to ${context.cwd}).`,
    );
    return { source: relative(context.cwd, file.path), template: file.template };
  }
  const stack = requireOption(
    options.stack,
    "--stack",
    "the deployed stack to compare (or use --template FILE)",
  );
  if (!stack.startsWith("arn:")) validateStackName(stack, "--stack");
  const region = validateRegion(requireOption(options.region, "--region", "the region of the stack"));
  return readDeployedTemplate(new CloudFormationClient({ region }), stack, region);
}
