/**
 * The built product, read back the way CloudFormation reads it: dist/aws-github-akm.template.yaml parsed as
 * plain YAML (the build writes intrinsic functions in long form, so no custom tags are needed), plus small
 * helpers to walk it. Shared by test/template and test/runbooks.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { RESOURCE_NAMES_TYPE, resourceNames } from "../../src/cfn/resource-names.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TEMPLATE_PATH = join(ROOT, "dist", "aws-github-akm.template.yaml");
export const BUNDLE_PATH = join(ROOT, "dist", "lambda", "index.js");

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  readonly Type: string;
  readonly Properties: JsonObject;
  readonly Metadata?: JsonObject;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Template {
  readonly AWSTemplateFormatVersion: string;
  readonly Description: string;
  readonly Metadata: JsonObject;
  readonly Parameters: Record<string, JsonObject>;
  readonly Rules?: Record<string, JsonObject>;
  readonly Mappings: Record<string, JsonObject>;
  readonly Conditions?: Record<string, Json>;
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, JsonObject>;
}

/** Reads dist/ fresh; fails with the fix when the build has not run. */
export function loadTemplate(): { template: Template; text: string; bundle: string } {
  if (!existsSync(TEMPLATE_PATH) || !existsSync(BUNDLE_PATH)) {
    throw new Error("dist/ has no built template: run `npm run build` first.");
  }
  const text = readFileSync(TEMPLATE_PATH, "utf8");
  return { template: parse(text) as Template, text, bundle: readFileSync(BUNDLE_PATH, "utf8") };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The resource with this logical ID; fails naming it when absent. */
export function resource(template: Template, logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Every node of a JSON tree with its path, depth first. */
export function* walk(node: Json, path: string[] = []): Generator<{ node: Json; path: string[] }> {
  yield { node, path };
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* walk(item, [...path, String(index)]);
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) yield* walk(value, [...path, key]);
  }
}

export function asArray<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: Json;
  readonly Action: string | string[];
  readonly Resource: Json;
  readonly Condition?: JsonObject;
}

/** Every policy statement in the template, named by where it is (resource and policy). */
export function policyStatements(
  template: Template,
): { where: string; statement: Statement; condition?: string }[] {
  const out: { where: string; statement: Statement; condition?: string }[] = [];
  const add = (where: string, document: Json | undefined) => {
    if (!isObject(document)) return;
    for (const statement of asArray(document.Statement as Json)) {
      // A statement that applies only under a condition: `Fn::If [Condition, statement, AWS::NoValue]`.
      const conditional = isObject(statement) ? statement["Fn::If"] : undefined;
      if (Array.isArray(conditional)) {
        const [condition, ...branches] = conditional;
        for (const branch of branches) {
          if (isObject(branch) && !("Ref" in branch))
            out.push({ where, statement: branch as never, condition: String(condition) });
        }
        continue;
      }
      out.push({ where, statement: statement as never });
    }
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties;
    if (r.Type === "AWS::IAM::Role") {
      for (const policy of asArray(p.Policies as Json)) {
        if (isObject(policy)) add(`${id} policy ${String(policy.PolicyName)}`, policy.PolicyDocument);
      }
    }
    if (r.Type === "AWS::KMS::Key") add(`${id} key policy`, p.KeyPolicy);
    if (r.Type === "AWS::S3::BucketPolicy" || r.Type === "AWS::SNS::TopicPolicy")
      add(`${id}`, p.PolicyDocument);
    if (r.Type === "AWS::SecretsManager::ResourcePolicy") add(`${id}`, p.ResourcePolicy);
  }
  return out;
}

/**
 * Sample values a deployed stack would give: what `Ref` / `Fn::GetAtt` / pseudo parameters resolve to.
 * Resources resolve to recognizable strings built from their logical IDs.
 */
export const SAMPLE_PARAMETERS: Readonly<Record<string, string>> = {
  pSnsEmailAddress: "ops@example.com",
  pRepoConfigBucketName: "example-akm-config",
  pRepoConfigKey: "repos.json",
  pGitHubToken: "sample-token-not-a-real-one-0000",
  pGitHubMachineUserName: "akm-bot",
  pIamUserArn: "arn:aws:iam::123456789012:user/ci-deployer",
  pIamUserName: "ci-deployer",
  pHoursToRotate: "6",
  pGitHubSecretNameAwsKeyId: "AWS_ACCESS_KEY_ID",
  pGitHubSecretNameAwsKey: "AWS_SECRET_ACCESS_KEY",
  pSolutionName: "github-akm",
  pGraceMinutes: "60",
  pGitHubApiUrl: "https://api.github.com",
  pGitHubCaBundleKey: "",
  pGitHubAppId: "",
  pVpcSubnetIds: "",
  pVpcSecurityGroupIds: "",
  "AWS::Partition": "aws",
  "AWS::Region": "eu-west-1",
  "AWS::AccountId": "123456789012",
  "AWS::URLSuffix": "amazonaws.com",
  "AWS::StackName": "aws-github-akm",
  // The example of https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
  "AWS::StackId":
    "arn:aws:cloudformation:eu-west-1:123456789012:stack/aws-github-akm/51af3dc0-da77-11e4-872e-1234567db123",
};

/** The UUID at the end of the sample stack ID. */
export const SAMPLE_STACK_UUID = "51af3dc0-da77-11e4-872e-1234567db123";

let built: Template | undefined;

/** dist/'s template, read once. */
function builtTemplate(): Template {
  if (built === undefined) built = loadTemplate().template;
  return built;
}

/** Whether the template's condition `name` holds for `values` (see `resolveIntrinsics`). */
function conditionHolds(name: string, values: Readonly<Record<string, string>>, template: Template): boolean {
  const evaluate = (node: Json): boolean => {
    if (!isObject(node)) throw new Error(`conditionHolds: not a condition: ${JSON.stringify(node)}`);
    const [key] = Object.keys(node);
    const argument = node[key ?? ""];
    switch (key) {
      case "Condition":
        return conditionHolds(String(argument), values, template);
      case "Fn::Not":
        return !evaluate((argument as Json[])[0] as Json);
      case "Fn::And":
        return (argument as Json[]).every(evaluate);
      case "Fn::Or":
        return (argument as Json[]).some(evaluate);
      case "Fn::Equals": {
        const [a, b] = (argument as Json[]).map((side) => resolveIntrinsics(side, values, template));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      default:
        throw new Error(`conditionHolds does not know ${key}`);
    }
  };
  const condition = template.Conditions?.[name];
  if (condition === undefined) throw new Error(`no condition ${name} in the template`);
  return evaluate(condition);
}

/**
 * Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split, Fn::Select and Fn::If (its condition evaluated from the
 * template's Conditions: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition) with sample values; any other function
 * is an error. A `Custom::ResourceNames` attribute is the name the stack's function computes for the resolved
 * properties of that resource in `template` (default: the built one).
 */
export function resolveIntrinsics(
  node: Json,
  values: Readonly<Record<string, string>> = SAMPLE_PARAMETERS,
  template?: Template,
): Json {
  if (Array.isArray(node)) return node.map((item) => resolveIntrinsics(item, values, template));
  if (!isObject(node)) return node;
  const keys = Object.keys(node);
  const lookup = (name: string): string => {
    if (name in values) return values[name] as string;
    const [id = "", attribute] = name.split(".", 2);
    if (attribute === "Arn") return `arn:aws:sample:eu-west-1:123456789012:${id}`;
    if (attribute === undefined) return `${id}-physical-id`;
    const source = template ?? builtTemplate();
    const computed = source.Resources[id];
    if (computed?.Type === RESOURCE_NAMES_TYPE) {
      const names = resourceNames(resolveIntrinsics(computed.Properties, values, source), id);
      if (names[attribute] !== undefined) return names[attribute];
    }
    throw new Error(`no sample value for ${name}`);
  };
  if (keys.length === 1 && keys[0] === "Ref") return lookup(String(node.Ref));
  if (keys.length === 1 && keys[0] === "Fn::If") {
    const [name, whenTrue, whenFalse] = node["Fn::If"] as [string, Json, Json];
    const source = template ?? builtTemplate();
    return resolveIntrinsics(conditionHolds(name, values, source) ? whenTrue : whenFalse, values, template);
  }
  if (keys.length === 1 && keys[0] === "Fn::GetAtt") {
    const [id, attribute] = node["Fn::GetAtt"] as string[];
    return lookup(`${id}.${attribute}`);
  }
  if (keys.length === 1 && keys[0] === "Fn::Sub") {
    const argument = node["Fn::Sub"];
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    const local = isObject(variables)
      ? Object.fromEntries(
          Object.entries(variables).map(([k, v]) => [k, String(resolveIntrinsics(v, values, template))]),
        )
      : {};
    return String(text).replace(/\$\{([^}!]+)\}/g, (_, name: string) => local[name] ?? lookup(name));
  }
  if (keys.length === 1 && keys[0] === "Fn::Join") {
    const [delimiter, list] = node["Fn::Join"] as [string, Json];
    return (resolveIntrinsics(list, values, template) as Json[]).map(String).join(delimiter);
  }
  if (keys.length === 1 && keys[0] === "Fn::Split") {
    const [delimiter, text] = node["Fn::Split"] as [string, Json];
    return String(resolveIntrinsics(text, values, template)).split(delimiter);
  }
  if (keys.length === 1 && keys[0] === "Fn::Select") {
    const [index, list] = node["Fn::Select"] as [Json, Json];
    const items = resolveIntrinsics(list, values, template) as Json[];
    const item = items[Number(resolveIntrinsics(index, values, template))];
    if (item === undefined)
      throw new Error(`Fn::Select: no item ${String(index)} in ${JSON.stringify(items)}`);
    return item;
  }
  if (keys.length === 1 && keys[0] === "Fn::FindInMap") {
    const [map, key, attribute] = resolveIntrinsics(
      node["Fn::FindInMap"] as Json,
      values,
      template,
    ) as string[];
    if (map === "PartitionConsole" && key === "aws" && attribute === "Host") return "console.aws.amazon.com";
    throw new Error(`no sample value for Fn::FindInMap ${map}/${key}/${attribute}`);
  }
  const unknown = keys.find((key) => key === "Ref" || key.startsWith("Fn::"));
  if (unknown) throw new Error(`resolveIntrinsics does not know ${unknown}`);
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, resolveIntrinsics(v, values, template)]),
  );
}
