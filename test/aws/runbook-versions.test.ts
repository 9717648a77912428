/**
 * The run-time check a rotation can make: the SSM adapter against moto's documents, with the runbook names
 * the function derives from its IAM user (they must be the template's).
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { awsClientConfig, uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import { loadRenderedTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import {
  describeDefaultVersions,
  ensureLatestDefaults,
  runbookDocumentNames,
  SsmDocumentVersions,
} from "../../src/aws/runbook-versions.ts";
import { FakeClock } from "../support/fakes.ts";
import {
  createDocuments,
  documentVersions,
  runbookDocuments,
  runbookStackContext,
  updateDocuments,
} from "../support/runbook-documents.ts";

const endpoint = inject("motoEndpoint");
const template = loadRenderedTemplate();
const ssm = new SSMClient(awsClientConfig(endpoint));
afterAll(() => ssm.destroy());

/** A stack whose four runbooks gained a version the default does not point at. */
async function staleStack(): Promise<string> {
  const userName = uniqueName("akm-user");
  const documents = runbookDocuments(template, runbookStackContext(template, userName));
  await createDocuments(endpoint, documents);
  await updateDocuments(
    endpoint,
    documents.map((d) => ({ ...d, content: `${d.content}\n# next version\n` })),
  );
  return userName;
}

describe("the run-time check of the runbooks' default versions", () => {
  it("finds the template's four runbooks by the names it derives from the IAM user", () => {
    const userName = "ci-deployer";
    const names = runbookDocuments(template, runbookStackContext(template, userName)).map((d) => d.name);

    expect(runbookDocumentNames(userName).sort()).toEqual(names.sort());
  });

  it("in a dry run, reports stale defaults and changes nothing", async () => {
    // Prepare
    const userName = await staleStack();
    const names = runbookDocumentNames(userName);

    // Act
    const report = await ensureLatestDefaults(new SsmDocumentVersions(ssm, new FakeClock()), names, {
      repair: false,
    });

    // Assess
    expect(report.changes.map((c) => c.name).sort()).toEqual([...names].sort());
    expect(describeDefaultVersions(report)).toContain("is not the latest");
    for (const name of names) expect((await documentVersions(endpoint, name)).defaultVersion).toBe("1");
  });

  it("repairs them, and says so in one summary line", async () => {
    // Prepare
    const userName = await staleStack();
    const names = runbookDocumentNames(userName);

    // Act
    const report = await ensureLatestDefaults(new SsmDocumentVersions(ssm, new FakeClock()), names, {
      repair: true,
    });

    // Assess
    expect(describeDefaultVersions(report)).toMatch(/^Set the default version of runbooks .* to the latest/);
    for (const name of names) {
      expect(await documentVersions(endpoint, name)).toEqual({ defaultVersion: "2", latestVersion: "2" });
    }
  });
});
