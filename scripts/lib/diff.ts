/**
 * `npm run diff`: what updating a deployed stack (or a template file) to dist/ would change. It reads the
 * stack's template as submitted and its parameter values, names each current value the new template would
 * refuse, resolves both templates with those values (as CloudFormation compares them), and prints the upgrade's
 * impact (replaced, removed, added, updated; parameters added, removed, changed) before @aws-cdk/cloudformation-diff's
 * full diff.
 */
import { createHash } from "node:crypto";
import { relative, resolve } from "node:path";
import {
  deepEqual,
  type FormatStream,
  formatDifferences,
  fullDiff,
  type ResourceDifference,
  ResourceImpact,
  type TemplateDiff,
} from "@aws-cdk/cloudformation-diff";
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
} from "@aws-sdk/client-cloudformation";
import { RESOURCE_NAMES_TYPE, resourceNames } from "../../src/cfn/resource-names.ts";
import { AwsCallError, awsErrorName, validateRegion, validateStackName } from "./shared/aws.ts";
import {
  type CliContext,
  type Command,
  ExitCode,
  exitCodeHelp,
  parseKeyValues,
  parseOptions,
  requireOption,
  UsageError,
} from "./shared/cli.ts";
import {
  type CfnTemplate,
  parameterSetProblems,
  parameterValueProblems,
  parseCfnYaml,
  readDistTemplate,
  readTemplateFile,
  section,
  type TemplateParameter,
  templateParameters,
} from "./shared/template.ts";

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

/**
 * Each current value of a stack that the new template's constraints (or the pair check of the IAM user's name
 * and ARN) would refuse, as "NAME = VALUE: why". An update that keeps such a value fails before it changes
 * anything, so these must be changed in the same update. Values of parameters the new template does not
 * declare are not checked (the upgrade summary lists those parameters as removed).
 */
export function refusedCurrentValues(
  parameters: readonly TemplateParameter[],
  values: ParameterValues,
): string[] {
  const refused: string[] = [];
  for (const parameter of parameters) {
    const value = values[parameter.name];
    if (value === undefined) continue;
    const problems = parameterValueProblems(parameter, value);
    if (problems.length > 0)
      refused.push(`${parameter.name} = ${JSON.stringify(value)}: ${problems.join("; ")}`);
  }
  return [...refused, ...parameterSetProblems(values)];
}

/** A deployed stack's template and a label saying where it came from. */
export interface DeployedTemplate {
  readonly source: string;
  readonly template: CfnTemplate;
}

/**
 * The template a stack was last deployed with, as submitted (GetTemplate, stage Original: before any
 * transform, the form users upgrade from).
 */
export async function readDeployedTemplate(
  cloudFormation: Pick<CloudFormationClient, "send">,
  stack: string,
  region: string,
): Promise<DeployedTemplate> {
  const source = `stack ${stack} (${region})`;
  let body: string | undefined;
  try {
    ({ TemplateBody: body } = await cloudFormation.send(
      new GetTemplateCommand({ StackName: stack, TemplateStage: "Original" }),
    ));
  } catch (error) {
    throw new AwsCallError(`read the template of ${source}`, error, readTemplateHint(error, stack, region));
  }
  if (body === undefined || body === "") {
    throw new AwsCallError(
      `read the template of ${source}`,
      new Error("CloudFormation returned no TemplateBody"),
    );
  }
  return { source, template: parseCfnYaml(body, source) };
}

function readTemplateHint(error: unknown, stack: string, region: string): string | undefined {
  const name = awsErrorName(error);
  if (name === "ValidationError") {
    return `Check --stack ${stack} and --region ${region}: \`aws cloudformation list-stacks --region ${region}\` lists the stacks there.`;
  }
  if (name === "AccessDenied" || name === "AccessDeniedException") {
    return "Your credentials need cloudformation:GetTemplate on that stack.";
  }
  return undefined;
}

/** What DescribeStacks shows instead of a NoEcho parameter's value. */
const MASKED = "****";

/**
 * The parameter values a stack runs with (DescribeStacks). NoEcho values come back masked and are left out:
 * nothing can be checked or resolved with them.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Parameter.html
 */
async function readStackParameters(
  cloudFormation: Pick<CloudFormationClient, "send">,
  stack: string,
  region: string,
): Promise<ParameterValues> {
  let parameters: { ParameterKey?: string | undefined; ParameterValue?: string | undefined }[] | undefined;
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stack }));
    parameters = Stacks?.[0]?.Parameters;
  } catch (error) {
    throw new AwsCallError(`read the parameter values of stack ${stack} (${region})`, error);
  }
  const values: Record<string, string> = {};
  for (const { ParameterKey: key, ParameterValue: value } of parameters ?? []) {
    if (key !== undefined && value !== undefined && value !== MASKED) values[key] = value;
  }
  return values;
}

/**
 * The semantic diff of updating a stack from `current` to `next` (long strings compared by fingerprint).
 * With the stack's parameter values, both templates are compared as those values resolve them, as
 * CloudFormation compares them.
 */
export function compareTemplates(
  current: CfnTemplate,
  next: CfnTemplate,
  values: ParameterValues = {},
): TemplateDiff {
  return fullDiff(
    summarizeLongStrings(resolveParameters(current, values)) as Record<string, unknown>,
    summarizeLongStrings(resolveParameters(next, values)) as Record<string, unknown>,
  );
}

/** Parameter values by logical ID, as a stack holds them. */
export type ParameterValues = Readonly<Record<string, string>>;

/**
 * The template with every expression that depends only on the given parameter values computed: `Ref` to a
 * parameter, `Fn::Sub` (the parameter names in it), `Fn::Join`, `Fn::Split` and `Fn::Select` over known
 * strings. Anything else (resources, pseudo parameters, conditions) stays as written. CloudFormation decides
 * whether an update replaces a resource from the values its properties resolve to, so two spellings of the
 * same name (`!Sub GHS-AKM-${pIamUserName}` and a `Fn::Join` over `Fn::Split` of it) must compare equal
 * when they give the same name. A name the stack's `Custom::ResourceNames` resource computes from known values
 * (`Fn::GetAtt` of it) is computed the same way (src/cfn/resource-names.ts), so a name that stays the same
 * compares equal. Pure: returns a new tree.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
 */
export function resolveParameters(template: CfnTemplate, values: ParameterValues): CfnTemplate {
  const known: Known = { values: new Map(Object.entries(values)), resources: section(template, "Resources") };
  const resolved: Record<string, unknown> = { ...template };
  for (const part of ["Resources", "Outputs"] as const) {
    if (part in template) resolved[part] = resolveNode(template[part], known);
  }
  return resolved;
}

/** The parameter values, and the template's resources (for the attributes computed from them). */
interface Known {
  readonly values: ReadonlyMap<string, string>;
  readonly resources: Readonly<Record<string, unknown>>;
}

function resolveNode(node: unknown, known: Known): unknown {
  if (Array.isArray(node)) return node.map((item) => resolveNode(item, known));
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined) {
    const [key, argument] = only;
    const computed = intrinsic(key, argument, known);
    if (computed !== undefined) return computed;
  }
  return Object.fromEntries(entries.map(([key, value]) => [key, resolveNode(value, known)]));
}

/** The value of one intrinsic function when its inputs are known; undefined to keep it as written. */
function intrinsic(key: string, argument: unknown, known: Known): unknown {
  const values = known.values;
  switch (key) {
    case "Ref":
      return typeof argument === "string" ? values.get(argument) : undefined;
    case "Fn::GetAtt": {
      const [id, attribute] = typeof argument === "string" ? argument.split(".", 2) : (argument as unknown[]);
      return typeof id === "string" && typeof attribute === "string"
        ? computedAttribute(id, attribute, known)
        : undefined;
    }
    case "Fn::Sub":
      return substitute(argument, known);
    case "Fn::Join": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const list = resolveNode(argument[1], known);
      if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
        return { "Fn::Join": [argument[0], list] };
      }
      return list.join(argument[0]);
    }
    case "Fn::Split": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const text = resolveNode(argument[1], known);
      return typeof text === "string" ? text.split(argument[0]) : { "Fn::Split": [argument[0], text] };
    }
    case "Fn::Select": {
      if (!Array.isArray(argument)) return undefined;
      const index = resolveNode(argument[0], known);
      const list = resolveNode(argument[1], known);
      const at = typeof index === "string" || typeof index === "number" ? Number(index) : Number.NaN;
      if (Array.isArray(list) && Number.isInteger(at) && at >= 0 && at < list.length) return list[at];
      return { "Fn::Select": [index, list] };
    }
    default:
      return undefined;
  }
}

/**
 * What `Fn::GetAtt` of a `Custom::ResourceNames` resource returns, when its properties depend only on known
 * values; undefined for any other resource or attribute.
 */
function computedAttribute(id: string, attribute: string, known: Known): string | undefined {
  const target = known.resources[id] as { Type?: unknown; Properties?: Record<string, unknown> } | undefined;
  if (target?.Type !== RESOURCE_NAMES_TYPE) return undefined;
  const properties = resolveNode(
    { Names: target.Properties?.Names, MaxLength: target.Properties?.MaxLength },
    known,
  );
  try {
    return resourceNames(properties, id)[attribute];
  } catch {
    return undefined; // a name that depends on something unknown (or is not a name): kept as written
  }
}

/** `Fn::Sub` with the known names filled in; a plain string once nothing is left to substitute. */
function substitute(argument: unknown, known: Known): unknown {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof text !== "string" || typeof variables !== "object" || variables === null) return undefined;
  const local = new Map(known.values);
  const unresolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    const computed = resolveNode(value, known);
    if (typeof computed === "string") local.set(name, computed);
    else {
      local.delete(name);
      unresolved[name] = computed;
    }
  }
  // ${!Literal} is an escaped "${Literal}": left alone; ${Name} is replaced when its value is known.
  const filled = text.replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => {
    const [id, attribute] = name.trim().split(".", 2);
    const value =
      attribute === undefined || id === undefined
        ? local.get(name.trim())
        : computedAttribute(id, attribute, known);
    return value ?? whole;
  });
  const rest = /\$\{[^}!][^}]*\}/.test(filled);
  if (!rest) return filled.replace(/\$\{!/g, "${");
  return Object.keys(unresolved).length > 0 ? { "Fn::Sub": [filled, unresolved] } : { "Fn::Sub": filled };
}

/** Inline Lambda code and other long strings above this size are shown as a fingerprint. */
const LONG_STRING_LIMIT = 2_000;

/**
 * A copy of a template in which every string longer than `limit` (inline Lambda code, mostly) becomes
 * `<N characters, sha256 …>`. The diff still sees whether it changed, but prints one line, not the code.
 */
function summarizeLongStrings(value: unknown, limit = LONG_STRING_LIMIT): unknown {
  if (typeof value === "string") {
    if (value.length <= limit) return value;
    const digest = createHash("sha256").update(value).digest("hex").slice(0, 16);
    return `<${value.length} characters, sha256 ${digest}>`;
  }
  if (Array.isArray(value)) return value.map((item) => summarizeLongStrings(item, limit));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, summarizeLongStrings(item, limit)]),
    );
  }
  return value;
}

/** One resource an in-place upgrade touches. */
export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  /** Properties whose change requires (or may require) a replacement; empty otherwise. */
  readonly causes: readonly string[];
  /** Why this change needs attention beyond its category, e.g. a fixed name that blocks replacement. */
  readonly notes: readonly string[];
}

/** A parameter the new template declares and the old one did not. */
export interface AddedParameter {
  readonly name: string;
  /** No Default: the update cannot proceed until a value is given. */
  readonly needsValue: boolean;
}

/** A parameter declared in both templates whose type, default or constraints differ. */
export interface ChangedParameter {
  readonly name: string;
  /** The fields that differ, e.g. ["AllowedPattern", "Default"]. */
  readonly fields: readonly string[];
}

/** What updating a stack from the old template to the new one would do, grouped by what users must watch. */
export interface UpgradeImpact {
  /** A new physical resource replaces the old one, which is deleted (data and ARNs change). */
  readonly replaced: readonly ResourceChange[];
  /** Replacement depends on values or settings the diff cannot evaluate. */
  readonly mayBeReplaced: readonly ResourceChange[];
  /** Deleted by the update. */
  readonly removed: readonly ResourceChange[];
  /** Leaves the stack but stays in the account (DeletionPolicy Retain). */
  readonly orphaned: readonly ResourceChange[];
  readonly added: readonly ResourceChange[];
  /** Updated in place. */
  readonly updated: readonly ResourceChange[];
  readonly parametersAdded: readonly AddedParameter[];
  readonly parametersRemoved: readonly string[];
  /** Declared in both, with a different type, default or constraint (descriptions are ignored). */
  readonly parametersChanged: readonly ChangedParameter[];
}

// Properties that give a resource a fixed physical name. CloudFormation cannot replace such a resource
// while the name stays the same, nor create one while another resource of the stack holds the name.
const NAME_PROPERTIES = [
  "Name",
  "BucketName",
  "RoleName",
  "TopicName",
  "FunctionName",
  "LogGroupName",
  "AliasName",
  "QueueName",
  "TableName",
];

/** Groups a template diff into what an in-place stack update would replace, remove, add and update. */
export function upgradeImpact(diff: TemplateDiff): UpgradeImpact {
  const replaced: ResourceChange[] = [];
  const mayBeReplaced: ResourceChange[] = [];
  const removed: ResourceChange[] = [];
  const orphaned: ResourceChange[] = [];
  const added: ResourceChange[] = [];
  const updated: ResourceChange[] = [];
  const removedResources: Array<[string, ResourceDifference]> = [];
  diff.resources.forEachDifference((logicalId, change) => {
    if (change.isRemoval) removedResources.push([logicalId, change]);
  });

  diff.resources.forEachDifference((logicalId, change) => {
    const impact = change.changeImpact;
    const type = resourceTypeOf(change);
    switch (impact) {
      case ResourceImpact.WILL_REPLACE:
      case ResourceImpact.MAY_REPLACE: {
        const entry = { logicalId, type, causes: replacementCauses(change), notes: replacementNotes(change) };
        (impact === ResourceImpact.WILL_REPLACE ? replaced : mayBeReplaced).push(entry);
        break;
      }
      case ResourceImpact.WILL_DESTROY:
        removed.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.WILL_ORPHAN:
        orphaned.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.WILL_CREATE:
      case ResourceImpact.WILL_IMPORT:
        added.push({ logicalId, type, causes: [], notes: nameClashNotes(change, removedResources) });
        break;
      case ResourceImpact.WILL_UPDATE:
        updated.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.NO_CHANGE:
        break;
    }
  });

  const parametersAdded: AddedParameter[] = [];
  const parametersRemoved: string[] = [];
  const parametersChanged: ChangedParameter[] = [];
  diff.parameters.forEachDifference((name, change) => {
    if (change.isAddition) parametersAdded.push({ name, needsValue: !hasDefault(change.newValue) });
    else if (change.isRemoval) parametersRemoved.push(name);
    else {
      const fields = changedParameterFields(change.oldValue, change.newValue);
      if (fields.length > 0) parametersChanged.push({ name, fields });
    }
  });

  return {
    replaced,
    mayBeReplaced,
    removed,
    orphaned,
    added,
    updated,
    parametersAdded,
    parametersRemoved,
    parametersChanged,
  };
}

function resourceTypeOf(change: ResourceDifference): string {
  return change.resourceTypeChanged
    ? `${change.oldResourceType} -> ${change.newResourceType}`
    : (change.newResourceType ?? change.oldResourceType ?? "unknown type");
}

function replacementCauses(change: ResourceDifference): string[] {
  if (change.resourceTypeChanged) return ["Type"];
  return Object.entries(change.propertyUpdates)
    .filter(
      ([, property]) =>
        property.changeImpact === ResourceImpact.WILL_REPLACE ||
        property.changeImpact === ResourceImpact.MAY_REPLACE,
    )
    .map(([name]) => name);
}

function replacementNotes(change: ResourceDifference): string[] {
  if (
    change.newResourceType === "AWS::SSM::Document" &&
    change.newProperties?.UpdateMethod === "NewVersion"
  ) {
    return [
      "UpdateMethod is NewVersion: CloudFormation adds a document version instead of replacing the " +
        "document (confirm with a change set)",
    ];
  }
  const notes: string[] = [];
  const name = NAME_PROPERTIES.find(
    (property) =>
      change.oldProperties?.[property] !== undefined &&
      deepEqual(change.oldProperties[property], change.newProperties?.[property]),
  );
  if (name !== undefined) {
    notes.push(
      `its ${name} stays the same, and CloudFormation cannot replace a custom-named resource: if a ` +
        "replacement happens, the update fails and rolls back",
    );
  }
  return notes;
}

/** A resource added under a new logical ID while one being removed holds the same fixed name. */
function nameClashNotes(
  change: ResourceDifference,
  removed: ReadonlyArray<[string, ResourceDifference]>,
): string[] {
  const notes: string[] = [];
  for (const [oldId, old] of removed) {
    if (old.oldResourceType !== change.newResourceType) continue;
    const name = NAME_PROPERTIES.find(
      (property) =>
        change.newProperties?.[property] !== undefined &&
        deepEqual(change.newProperties[property], old.oldProperties?.[property]),
    );
    if (name !== undefined) {
      notes.push(
        `same ${name} as ${oldId}, which is removed: CloudFormation creates before it deletes, so the ` +
          "creation fails while the old resource holds the name",
      );
    }
  }
  return notes;
}

// Descriptions only change the console text; every other field can change which values are accepted.
const COSMETIC_PARAMETER_FIELDS = new Set(["Description", "ConstraintDescription"]);

function changedParameterFields(before: unknown, after: unknown): string[] {
  const old = asRecord(before);
  const next = asRecord(after);
  return [...new Set([...Object.keys(old), ...Object.keys(next)])].filter(
    (field) => !COSMETIC_PARAMETER_FIELDS.has(field) && !deepEqual(old[field], next[field]),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function hasDefault(declaration: unknown): boolean {
  return typeof declaration === "object" && declaration !== null && "Default" in declaration;
}

/**
 * The summary printed before the full diff: what an in-place upgrade would destroy or recreate first,
 * since that is what loses data or changes ARNs, then what it adds and updates.
 */
export function renderUpgradeImpact(impact: UpgradeImpact): string[] {
  return [
    "In-place upgrade impact (a stack update from the old template to the new one):",
    "",
    ...resourceSection(
      "REPLACED (a new resource is created and the old one deleted: its data, ARN and name-based references change)",
      impact.replaced,
      true,
    ),
    ...resourceSection(
      "MAY BE REPLACED (depends on values or settings the diff cannot evaluate; check the change set)",
      impact.mayBeReplaced,
      true,
    ),
    ...resourceSection("REMOVED (deleted by the update)", impact.removed, false),
    ...resourceSection(
      "Removed from the stack but KEPT in the account (DeletionPolicy Retain)",
      impact.orphaned,
      false,
    ),
    ...resourceSection("Added", impact.added, false),
    ...resourceSection("Updated in place", impact.updated, false),
    ...listSection(
      "Parameters added",
      impact.parametersAdded.map((p) =>
        p.needsValue ? `${p.name} (no default: give a value when updating)` : p.name,
      ),
    ),
    ...listSection("Parameters REMOVED", impact.parametersRemoved),
    ...listSection(
      "Parameters changed (a stack's current value must meet the new constraints, or the update fails)",
      impact.parametersChanged.map((p) => `${p.name}: ${p.fields.join(", ")}`),
    ),
  ];
}

function resourceSection(title: string, changes: readonly ResourceChange[], showCauses: boolean): string[] {
  if (changes.length === 0) return [`${title}: none`, ""];
  const lines = [`${title}: ${changes.length}`];
  for (const change of changes) {
    const causes = showCauses && change.causes.length > 0 ? ` because of ${change.causes.join(", ")}` : "";
    lines.push(`  - ${change.logicalId} (${change.type})${causes}`);
    for (const note of change.notes) lines.push(`      note: ${note}`);
  }
  lines.push("");
  return lines;
}

function listSection(title: string, items: readonly string[]): string[] {
  if (items.length === 0) return [`${title}: none`, ""];
  return [`${title}: ${items.length}`, ...items.map((item) => `  - ${item}`), ""];
}

/** Width of the IAM and security group tables when the output is not a terminal. */
const DEFAULT_COLUMNS = 120;

/** cloudformation-diff's full rendering of a diff, as text (colored only when chalk sees a terminal). */
export function renderTemplateDiff(diff: TemplateDiff, columns = DEFAULT_COLUMNS): string {
  const chunks: string[] = [];
  // formatDifferences only calls write() and reads columns, so a collector stands in for a stream.
  const collector = {
    columns,
    write(chunk: string | Uint8Array): boolean {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    },
  };
  formatDifferences(collector as unknown as FormatStream, diff);
  return chunks.join("");
}
