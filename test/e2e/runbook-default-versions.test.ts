/**
 * After a stack update that changes a runbook, the schedule (`...:$DEFAULT`) and the console must run the new
 * content. The stack's custom resource `rRunbookDefaultVersions`, served by the template's own Lambda code
 * (extracted from the rendered template, run on Node 24), makes each runbook's latest version its default.
 * Documents live in moto, created and updated as CloudFormation does; CloudFormation's answer URL is a loopback
 * server. Response format: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { uniqueName } from "../../scripts/local-stack/aws-fixtures.ts";
import {
  invokeLambda,
  type LambdaInvocation,
  loadRenderedTemplate,
} from "../../scripts/local-stack/lambda-runner.ts";
import type { StackContext } from "../../scripts/local-stack/runbook-simulator.ts";
import { type CfnResponseServer, startCfnResponseServer } from "../support/cfn-response-server.ts";
import {
  createDocuments,
  customResourceEvent,
  defaultContent,
  documentVersions,
  originalStackTemplate,
  type RunbookDocument,
  runbookDocuments,
  runbookStackContext,
  updateDocuments,
} from "../support/runbook-documents.ts";

const endpoint = inject("motoEndpoint");
const template = loadRenderedTemplate();

/** The function's credentials: unique per run, so a test can prove they never reach an answer or a log. */
const functionSecret = `fn-secret-${randomBytes(12).toString("hex")}`;

let server: CfnResponseServer;
beforeEach(async () => {
  server = await startCfnResponseServer();
});
afterEach(async () => {
  await server.close();
});

/**
 * Invokes the template's function with a custom resource request, as CloudFormation does, with the template's timeout
 * (the runner's default): the time budget a loaded machine must not run out of.
 */
function invoke(event: Record<string, unknown>): Promise<LambdaInvocation> {
  return invokeLambda(event, {
    env: { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: functionSecret },
  });
}

/** The body CloudFormation would read from its presigned URL (the only answer it reads). */
function answer(index = 0): Record<string, unknown> {
  const received = server.received[index];
  if (received === undefined) throw new Error(`no answer number ${index + 1} reached the response URL`);
  return JSON.parse(received.body) as Record<string, unknown>;
}

/** A deployed stack of the new template: its four runbooks at version 1. */
async function deployedStack(): Promise<{ context: StackContext; documents: RunbookDocument[] }> {
  const context = runbookStackContext(template, uniqueName("akm-user"));
  const documents = runbookDocuments(template, context);
  await createDocuments(endpoint, documents);
  return { context, documents };
}

/** The same documents with changed content: what a stack update with edited runbooks sends. */
function edited(documents: readonly RunbookDocument[]): RunbookDocument[] {
  return documents.map((d) => ({ ...d, content: `${d.content}\n# edited ${randomUUID()}\n` }));
}

describe("a stack update that adds a runbook version", () => {
  it("leaves the default on the old version in moto, as SSM's UpdateDocument does and as reported of CloudFormation", async () => {
    // Prepare
    const { documents } = await deployedStack();

    // Act
    await updateDocuments(endpoint, edited(documents));

    // Assess
    for (const { name } of documents) {
      expect(await documentVersions(endpoint, name)).toEqual({ defaultVersion: "1", latestVersion: "2" });
    }
  });

  it("is followed by the custom resource, which makes every runbook's latest version the default", async () => {
    // Prepare
    const { context, documents } = await deployedStack();
    const next = edited(documents);
    await updateDocuments(endpoint, next);
    const requestId = randomUUID();
    const event = customResourceEvent(template, context, {
      requestType: "Update",
      responseUrl: server.responseUrl(requestId),
      requestId,
      physicalResourceId: "existing-physical-id",
    });

    // Act
    const invocation = await invoke(event);

    // Assess
    expect(invocation.outcome).toBe("returned");
    expect(answer()).toMatchObject({ Status: "SUCCESS" });
    for (const document of next) {
      expect(await documentVersions(endpoint, document.name)).toEqual({
        defaultVersion: "2",
        latestVersion: "2",
      });
      expect(parse((await defaultContent(endpoint, document.name)) ?? "")).toEqual(parse(document.content));
    }
    expect(invocation.logs).toMatch(/Set the default version of runbooks .*Rotate \(default 1, latest 2\)/);
  });

  it("changes nothing and succeeds when every default is already the latest (a stack creation)", async () => {
    // Prepare
    const { context, documents } = await deployedStack();
    const requestId = randomUUID();
    const event = customResourceEvent(template, context, {
      requestType: "Create",
      responseUrl: server.responseUrl(requestId),
      requestId,
    });

    // Act
    const invocation = await invoke(event);

    // Assess
    expect(answer()).toMatchObject({ Status: "SUCCESS" });
    for (const { name } of documents) {
      expect(await documentVersions(endpoint, name)).toEqual({ defaultVersion: "1", latestVersion: "1" });
    }
    expect(invocation.logs).toContain("is already the latest");
  });
});

describe("the answer to CloudFormation", () => {
  it("is one PUT to the response URL with an empty Content-Type and the documented fields", async () => {
    // Prepare
    const { context } = await deployedStack();
    const requestId = randomUUID();
    const responseUrl = server.responseUrl(requestId);
    const event = customResourceEvent(template, context, { requestType: "Create", responseUrl, requestId });

    // Act
    await invoke(event);

    // Assess
    expect(server.received).toHaveLength(1);
    const [put] = server.received;
    expect(put?.method).toBe("PUT");
    expect(put?.url).toBe(responseUrl.slice(responseUrl.indexOf("/", "http://".length)));
    expect(put?.headers["content-type"]).toBe("");
    expect(Number(put?.headers["content-length"])).toBe(Buffer.byteLength(put?.body ?? "", "utf8"));
    expect(Buffer.byteLength(put?.body ?? "", "utf8")).toBeLessThanOrEqual(4096);
    const body = answer();
    expect(Object.keys(body).sort()).toEqual(
      ["Data", "LogicalResourceId", "NoEcho", "PhysicalResourceId", "RequestId", "StackId", "Status"].sort(),
    );
    expect(body).toMatchObject({
      Status: "SUCCESS",
      StackId: event.StackId,
      RequestId: requestId,
      LogicalResourceId: "rRunbookDefaultVersions",
      PhysicalResourceId: `${String(event.StackId)}/rRunbookDefaultVersions`,
      NoEcho: false,
    });
    expect(String(body.PhysicalResourceId).length).toBeLessThanOrEqual(1024);
  });

  it("keeps the physical ID CloudFormation sends on Update and Delete, so it never reads as a replacement", async () => {
    // Prepare
    const { context } = await deployedStack();
    const update = randomUUID();
    const remove = randomUUID();
    const physicalResourceId = "the-id-given-at-create";

    // Act
    await invoke(
      customResourceEvent(template, context, {
        requestType: "Update",
        responseUrl: server.responseUrl(update),
        requestId: update,
        physicalResourceId,
      }),
    );
    await invoke(
      customResourceEvent(template, context, {
        requestType: "Delete",
        responseUrl: server.responseUrl(remove),
        requestId: remove,
        physicalResourceId,
      }),
    );

    // Assess
    expect(answer(0)).toMatchObject({
      Status: "SUCCESS",
      RequestId: update,
      PhysicalResourceId: physicalResourceId,
    });
    expect(answer(1)).toMatchObject({
      Status: "SUCCESS",
      RequestId: remove,
      PhysicalResourceId: physicalResourceId,
    });
  });

  it("says FAILED, naming the runbook and the fix, when a runbook does not exist, and leaks no secret", async () => {
    // Prepare
    const { context, documents } = await deployedStack();
    const missing = `${documents[0]?.name ?? "x"}-Missing`;
    const requestId = randomUUID();
    const resolved = customResourceEvent(template, context, {
      requestType: "Update",
      responseUrl: server.responseUrl(requestId),
      requestId,
      physicalResourceId: "existing-physical-id",
    });
    const properties = { ...(resolved.ResourceProperties as Record<string, unknown>) };
    properties.Documents = [...(properties.Documents as string[]), missing];
    const event = { ...resolved, ResourceProperties: properties };

    // Act
    const invocation = await invoke(event);

    // Assess
    const body = answer();
    expect(body.Status).toBe("FAILED");
    expect(body.PhysicalResourceId).toBe("existing-physical-id");
    expect(String(body.Reason)).toContain(`Runbook ${missing} does not exist`);
    expect(String(body.Reason)).toContain("Fix:");
    for (const text of [server.received[0]?.body ?? "", invocation.logs]) {
      expect(text).not.toContain(functionSecret);
      expect(text).not.toContain(server.signature);
    }
  });

  it("says FAILED with what is wrong when the properties are not what the function expects", async () => {
    // Prepare
    const { context } = await deployedStack();
    const requestId = randomUUID();
    const event = customResourceEvent(template, context, {
      requestType: "Create",
      responseUrl: server.responseUrl(requestId),
      requestId,
      properties: {
        ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:f",
        Documents: "GHS-AKM-x",
      },
    });

    // Act
    await invoke(event);

    // Assess
    expect(answer()).toMatchObject({ Status: "FAILED" });
    expect(String(answer().Reason)).toMatch(/Documents: Documents must be a list of runbook names/);
  });

  it("answers FAILED, rather than leaving CloudFormation waiting, when the request itself is malformed", async () => {
    // Prepare
    const requestId = randomUUID();
    const event = {
      RequestType: "Upgrade",
      ResponseURL: server.responseUrl(requestId),
      StackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/akm/1",
      RequestId: requestId,
      LogicalResourceId: "rRunbookDefaultVersions",
    };

    // Act
    const invocation = await invoke(event);

    // Assess
    expect(invocation.outcome).toBe("returned");
    expect(answer()).toMatchObject({ Status: "FAILED", RequestId: requestId });
    expect(String(answer().Reason)).toContain("RequestType must be Create, Update or Delete");
  });

  it("answers a Delete with SUCCESS and leaves the runbooks' versions alone", async () => {
    // Prepare
    const { context, documents } = await deployedStack();
    await updateDocuments(endpoint, edited(documents));
    const requestId = randomUUID();
    const event = customResourceEvent(template, context, {
      requestType: "Delete",
      responseUrl: server.responseUrl(requestId),
      requestId,
      physicalResourceId: "existing-physical-id",
    });

    // Act
    await invoke(event);

    // Assess
    expect(answer()).toMatchObject({ Status: "SUCCESS" });
    for (const { name } of documents) {
      expect(await documentVersions(endpoint, name)).toEqual({ defaultVersion: "1", latestVersion: "2" });
    }
  });
});

describe("upgrading a stack of the original tool", () => {
  it("leaves the new Rotate runbook, not the original delete-first one, as what the schedule runs", async () => {
    // Prepare: the original stack's runbooks (same names), then the update's UpdateDocument calls.
    const userName = uniqueName("akm-user");
    const original = runbookDocuments(
      originalStackTemplate(),
      runbookStackContext(originalStackTemplate(), userName),
    );
    await createDocuments(endpoint, original);
    const context = runbookStackContext(template, userName);
    const upgraded = runbookDocuments(template, context);
    expect(upgraded.map((d) => d.name).sort()).toEqual(original.map((d) => d.name).sort());
    await updateDocuments(endpoint, upgraded);
    const rotate = upgraded.find((d) => d.logicalId === "rAkmSsmAutomation");
    if (rotate === undefined) throw new Error("the template has no rAkmSsmAutomation");
    const beforeRepair = await defaultContent(endpoint, rotate.name);
    const requestId = randomUUID();
    const event = customResourceEvent(template, context, {
      requestType: "Create", // the custom resource is new in an upgraded stack
      responseUrl: server.responseUrl(requestId),
      requestId,
    });

    // Act
    await invoke(event);

    // Assess
    expect(beforeRepair).toContain("PowerShell"); // what the schedule would have kept running
    expect(answer()).toMatchObject({ Status: "SUCCESS" });
    expect(await documentVersions(endpoint, rotate.name)).toEqual({
      defaultVersion: "2",
      latestVersion: "2",
    });
    const now = await defaultContent(endpoint, rotate.name);
    expect(parse(now ?? "")).toEqual(parse(rotate.content));
    expect(now).not.toContain("PowerShell");
  });
});
