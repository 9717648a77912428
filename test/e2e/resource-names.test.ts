/**
 * The stack's custom resource `rResourceNames`, answered by the template's own Lambda code (extracted from the
 * rendered template, run on Node 24) as CloudFormation asks for it: the names of the resources that carry the
 * IAM user name but allow only 64 characters (templates/35-resource-names.yaml). CloudFormation's answer URL is
 * a loopback server. Response format: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  invokeLambda,
  type LambdaInvocation,
  loadRenderedTemplate,
} from "../../scripts/local-stack/lambda-runner.ts";
import { IntrinsicResolver } from "../../scripts/local-stack/runbook-simulator.ts";
import { type CfnResponseServer, startCfnResponseServer } from "../support/cfn-response-server.ts";
import { customResourceEvent, runbookStackContext } from "../support/runbook-documents.ts";
import { userNameOf } from "../template/form-values.ts";

const template = loadRenderedTemplate();

let server: CfnResponseServer;
beforeEach(async () => {
  server = await startCfnResponseServer();
});
afterEach(async () => {
  await server.close();
});

/**
 * Invokes the template's function as CloudFormation does (with the template's timeout, the runner's default); it calls
 * no AWS API for this resource.
 */
function invoke(event: Record<string, unknown>): Promise<LambdaInvocation> {
  return invokeLambda(event, { env: {} });
}

/** The body CloudFormation would read from its presigned URL. */
function answer(): Record<string, unknown> {
  const [received] = server.received;
  if (received === undefined) throw new Error("no answer reached the response URL");
  return JSON.parse(received.body) as Record<string, unknown>;
}

/** The request for rResourceNames of a stack for `userName`. */
function request(userName: string, requestType: "Create" | "Update" | "Delete", resourceType?: string) {
  const requestId = randomUUID();
  return customResourceEvent(template, runbookStackContext(template, userName), {
    logicalId: "rResourceNames",
    requestType,
    responseUrl: server.responseUrl(requestId),
    requestId,
    ...(requestType === "Create" ? {} : { physicalResourceId: "the-id-given-at-create" }),
    ...(resourceType === undefined ? {} : { resourceType }),
  });
}

describe("the resource names CloudFormation asks the function for", () => {
  it("are the original stack's names for a user name that fits them", async () => {
    // Act
    await invoke(request("ci-deployer", "Create"));

    // Assess
    expect(answer()).toMatchObject({
      Status: "SUCCESS",
      Data: {
        SsmRoleName: "GHS-AKM-SSM-ci-deployer",
        RotateRuleName: "GHS-AKM-Rotate-ci-deployer",
        ListRuleName: "GHS-AKM-List-ci-deployer",
      },
    });
  });

  it("fit IAM's and EventBridge's 64 characters for a 64-character user name, as the tests compute them", async () => {
    // Prepare
    const userName = userNameOf(64);
    const expected = new IntrinsicResolver(template, runbookStackContext(template, userName)).resolve({
      SsmRoleName: { "Fn::GetAtt": ["rResourceNames", "SsmRoleName"] },
      RotateRuleName: { "Fn::GetAtt": ["rResourceNames", "RotateRuleName"] },
      ListRuleName: { "Fn::GetAtt": ["rResourceNames", "ListRuleName"] },
    });

    // Act
    await invoke(request(userName, "Update"));

    // Assess
    const body = answer();
    expect(body).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: "the-id-given-at-create" });
    expect(body.Data).toEqual(expected);
    for (const [key, prefix] of [
      ["SsmRoleName", `GHS-AKM-SSM-${userName}`],
      ["RotateRuleName", `GHS-AKM-Rotate-${userName.replace(/[+=,@]/g, "_")}`],
      ["ListRuleName", `GHS-AKM-List-${userName.replace(/[+=,@]/g, "_")}`],
    ] as const) {
      const name = String((body.Data as Record<string, unknown>)[key]);
      expect(name).toHaveLength(64);
      expect(name.slice(0, 55)).toBe(prefix.slice(0, 55));
      expect(name.slice(55)).toMatch(/^-[0-9a-f]{8}$/);
    }
  });

  it("have nothing to undo on Delete", async () => {
    // Act
    await invoke(request(userNameOf(64), "Delete"));

    // Assess
    expect(answer()).toMatchObject({ Status: "SUCCESS", PhysicalResourceId: "the-id-given-at-create" });
  });
});

describe("a custom resource the function does not serve", () => {
  it("is refused on Create with a reason that names the types it serves", async () => {
    // Act
    await invoke(request("ci-deployer", "Create", "Custom::Unknown"));

    // Assess
    const body = answer();
    expect(body.Status).toBe("FAILED");
    expect(String(body.Reason)).toContain("rResourceNames is a Custom::Unknown");
    expect(String(body.Reason)).toContain("Custom::ResourceNames and Custom::RunbookDefaultVersions only");
  });

  it("is deleted without complaint, so a stack can always be deleted", async () => {
    // Act
    await invoke(request("ci-deployer", "Delete", "Custom::Unknown"));

    // Assess
    expect(answer()).toMatchObject({ Status: "SUCCESS" });
  });
});
