/**
 * The stack's runbooks as SSM documents in moto, created and updated the way CloudFormation does it:
 * CreateDocument on stack creation, UpdateDocument (a new version) on a stack update with
 * `UpdateMethod: NewVersion` — which, as SSM's UpdateDocument always does and as the public report
 * aws-cloudformation/cloudformation-coverage-roadmap#2539 says CloudFormation does, leaves the default version
 * where it was. Also the custom resource request CloudFormation sends for `rRunbookDefaultVersions`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateDocumentCommand,
  DescribeDocumentCommand,
  GetDocumentCommand,
  SSMClient,
  UpdateDocumentCommand,
} from "@aws-sdk/client-ssm";
import { stringify } from "yaml";
import { awsClientConfig, MOTO_ACCOUNT_ID, MOTO_REGION } from "../../scripts/local-stack/aws-fixtures.ts";
import { type CfnTemplate, parseCfnYaml, REPO_ROOT } from "../../scripts/local-stack/lambda-runner.ts";
import { IntrinsicResolver, type StackContext } from "../../scripts/local-stack/runbook-simulator.ts";

export const ORIGINAL_STACK_TEMPLATE = join(REPO_ROOT, "test", "fixtures", "original-stack.template.yaml");

/** The template users upgrade from (test/fixtures/original-stack.template.yaml). */
export function originalStackTemplate(): CfnTemplate {
  return parseCfnYaml(readFileSync(ORIGINAL_STACK_TEMPLATE, "utf8")) as CfnTemplate;
}

/** A stack of the template deployed for `userName`: parameters, names and what the documents' Refs return. */
export function runbookStackContext(template: CfnTemplate, userName: string): StackContext {
  const parameters: Record<string, string> = {
    pIamUserName: userName,
    pIamUserArn: `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/${userName}`,
    pRepoConfigBucketName: `${userName}-config`,
    pGitHubToken: "not-a-token",
    pGitHubMachineUserName: "akm-bot",
    pSnsEmailAddress: "alerts@example.com",
  };
  const resolver = new IntrinsicResolver(template, { parameters: known(template, parameters) });
  const resources: Record<string, { ref: string }> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === "AWS::SSM::Document" && resource.Properties?.Name !== undefined) {
      resources[logicalId] = { ref: String(resolver.resolve(resource.Properties.Name)) };
    }
  }
  return {
    parameters: known(template, parameters),
    resources,
    stackName: `akm-${userName}`,
    region: MOTO_REGION,
    accountId: MOTO_ACCOUNT_ID,
  };
}

function known(template: CfnTemplate, parameters: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(parameters).filter(([name]) => name in (template.Parameters ?? {})),
  );
}

/** One Automation document of a template, resolved for a stack: its name and its content as YAML text. */
export interface RunbookDocument {
  readonly logicalId: string;
  readonly name: string;
  readonly content: string;
}

/** The template's Automation documents, resolved for `context`, in template order. */
export function runbookDocuments(template: CfnTemplate, context: StackContext): RunbookDocument[] {
  const resolver = new IntrinsicResolver(template, context);
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::SSM::Document")
    .map(([logicalId, resource]) => {
      const content = resolver.resolve(resource.Properties?.Content);
      return {
        logicalId,
        name: String(resolver.resolve(resource.Properties?.Name)),
        content: typeof content === "string" ? content : stringify(content, { lineWidth: 0 }),
      };
    });
}

function ssm(endpoint: string): SSMClient {
  return new SSMClient(awsClientConfig(endpoint));
}

/** CreateDocument for each, as a stack creation does: version 1, the default. */
export async function createDocuments(
  endpoint: string,
  documents: readonly RunbookDocument[],
): Promise<void> {
  const client = ssm(endpoint);
  try {
    for (const document of documents) {
      await client.send(
        new CreateDocumentCommand({
          Name: document.name,
          Content: document.content,
          DocumentType: "Automation",
          DocumentFormat: "YAML",
        }),
      );
    }
  } finally {
    client.destroy();
  }
}

/** UpdateDocument for each, as a stack update with UpdateMethod NewVersion does: a new latest version. */
export async function updateDocuments(
  endpoint: string,
  documents: readonly RunbookDocument[],
): Promise<void> {
  const client = ssm(endpoint);
  try {
    for (const document of documents) {
      await client.send(
        new UpdateDocumentCommand({
          Name: document.name,
          Content: document.content,
          DocumentFormat: "YAML",
          DocumentVersion: "$LATEST",
        }),
      );
    }
  } finally {
    client.destroy();
  }
}

export interface Versions {
  readonly defaultVersion: string | undefined;
  readonly latestVersion: string | undefined;
}

/** A document's default and latest version, read independently of the code under test. */
export async function documentVersions(endpoint: string, name: string): Promise<Versions> {
  const client = ssm(endpoint);
  try {
    const { Document } = await client.send(new DescribeDocumentCommand({ Name: name }));
    return { defaultVersion: Document?.DefaultVersion, latestVersion: Document?.LatestVersion };
  } finally {
    client.destroy();
  }
}

/** The content of the version that runs when none is named (the default), as the schedule and console get it. */
export async function defaultContent(endpoint: string, name: string): Promise<string | undefined> {
  const client = ssm(endpoint);
  try {
    const { Content } = await client.send(new GetDocumentCommand({ Name: name }));
    return Content;
  } finally {
    client.destroy();
  }
}

export interface CustomResourceEventOptions {
  readonly requestType: "Create" | "Update" | "Delete";
  readonly responseUrl: string;
  readonly requestId: string;
  readonly physicalResourceId?: string;
  /** Replaces the resolved ResourceProperties (e.g. to send what the function does not expect). */
  readonly properties?: Record<string, unknown>;
  /** The template's custom resource (default: rRunbookDefaultVersions). */
  readonly logicalId?: string;
  /** Replaces the resource's type (e.g. to send one the function does not serve). */
  readonly resourceType?: string;
}

/**
 * The request CloudFormation sends the function for one of the template's custom resources (default
 * `rRunbookDefaultVersions`), with its properties resolved for `context`
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-create.html).
 */
export function customResourceEvent(
  template: CfnTemplate,
  context: StackContext,
  options: CustomResourceEventOptions,
): Record<string, unknown> {
  const logicalId = options.logicalId ?? "rRunbookDefaultVersions";
  const resource = template.Resources[logicalId];
  if (resource === undefined) throw new Error(`runbook-documents: the template has no ${logicalId}`);
  const properties = (options.properties ??
    new IntrinsicResolver(template, context).resolve(resource.Properties)) as Record<string, unknown>;
  const stackId = `arn:aws:cloudformation:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:stack/${context.stackName ?? "akm"}/0a1b2c3d`;
  return {
    RequestType: options.requestType,
    ServiceToken: properties.ServiceToken,
    ResponseURL: options.responseUrl,
    StackId: stackId,
    RequestId: options.requestId,
    LogicalResourceId: logicalId,
    ResourceType: options.resourceType ?? resource.Type,
    ...(options.physicalResourceId === undefined ? {} : { PhysicalResourceId: options.physicalResourceId }),
    ResourceProperties: properties,
    ...(options.requestType === "Update" ? { OldResourceProperties: properties } : {}),
  };
}
