import { DescribeDocumentCommand } from "@aws-sdk/client-ssm";
import { type DocumentVersions, staleDefaults } from "../../../src/aws/runbook-versions.ts";
import { AwsCallError } from "../cli/errors.ts";
import type { Finding } from "./finding.ts";
import type { SmokeSsm } from "./smoke-clients.ts";
import type { StackRunbook } from "./stack-runbooks.ts";

/** Every runbook's versions, and a finding for each whose default is not its latest. */
export interface DefaultVersionsResult {
  readonly versions: readonly DocumentVersions[];
  readonly findings: readonly Finding[];
}

/**
 * Reads each runbook's DefaultVersion and LatestVersion (DescribeDocument,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html): the schedule and
 * the console run the default, so after a deploy it must be the latest (the stack's custom resource
 * rRunbookDefaultVersions sets it; this proves it did).
 */
export async function checkDefaultVersions(
  ssm: SmokeSsm,
  runbooks: readonly StackRunbook[],
  region: string,
): Promise<DefaultVersionsResult> {
  const versions: DocumentVersions[] = [];
  for (const runbook of runbooks) {
    let document: Awaited<ReturnType<typeof describe>>;
    try {
      document = await describe(ssm, runbook.name);
    } catch (error) {
      throw new AwsCallError(
        `read the versions of runbook ${runbook.name} in ${region}`,
        error,
        "Your credentials need ssm:DescribeDocument on the stack's runbooks (see README, First deploy).",
      );
    }
    versions.push({
      name: runbook.name,
      defaultVersion: document?.DefaultVersion ?? "(none)",
      latestVersion: document?.LatestVersion ?? "(none)",
    });
  }
  const findings = staleDefaults(versions).map((change) => ({
    what: `runbook ${change.name} runs version ${change.from} by default, not its latest version ${change.to}: the schedule and the console run older content`,
    where: `Systems Manager > Documents > ${change.name} > Versions (${region})`,
    fix:
      `update the stack again (its custom resource rRunbookDefaultVersions sets the default), or run ` +
      `\`aws ssm update-document-default-version --region ${region} --name ${change.name} --document-version ${change.to}\``,
  }));
  return { versions, findings };
}

async function describe(ssm: SmokeSsm, name: string) {
  const { Document } = await ssm.send(new DescribeDocumentCommand({ Name: name }));
  return Document;
}
