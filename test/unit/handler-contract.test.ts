import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { handler } from "../../src/handler.ts";
import { HandlerEvent } from "../../src/handler-contract.ts";

const context = { getRemainingTimeInMillis: () => 290_000 };

describe("runbook events", () => {
  it("accepts Boolean runbook parameters substituted as strings or booleans", () => {
    const asStrings = v.parse(HandlerEvent, { action: "rotate", dryRun: "true", replaceOlderKey: "False" });
    const asBooleans = v.parse(HandlerEvent, { action: "rotate", dryRun: false, replaceOlderKey: true });

    expect(asStrings).toMatchObject({ dryRun: true, replaceOlderKey: false });
    expect(asBooleans).toMatchObject({ dryRun: false, replaceOlderKey: true });
  });

  it("answers an invalid repository owner with a Failed result that says which parameter to fix", async () => {
    const result = await handler({ action: "add-repo", owner: "../etc", name: "passwd" }, context);

    expect(result.status).toBe("Failed");
    expect(result.action).toBe("add-repo");
    expect(result.summary).toContain("owner");
    expect(result.summary).toContain("GITHUBOWNER");
  });

  it("accepts an Enterprise Managed User as GITHUBOWNER of Add-RepoConfig and Delete-RepoConfig", () => {
    const add = v.safeParse(HandlerEvent, { action: "add-repo", owner: "alice_acme", name: "app" });
    const remove = v.safeParse(HandlerEvent, { action: "delete-repo", owner: "alice_acme", name: "app" });

    expect(add.success).toBe(true);
    expect(remove.success).toBe(true);
  });

  it("answers an unknown action with a Failed result instead of throwing", async () => {
    const result = await handler({ action: "drop-everything" }, context);

    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("Invalid input");
  });
});

describe("execution IDs", () => {
  it("accepts an Automation execution ID or manual, and refuses anything else before reading anything", async () => {
    const ok = v.safeParse(HandlerEvent, {
      action: "retire",
      executionId: "4105a4fc-f944-11e6-9d32-0a1b2c3d4e5f",
    });
    const manual = v.safeParse(HandlerEvent, { action: "retire", executionId: "manual" });

    const result = await handler({ action: "retire", executionId: "x\u0000; rm -rf /".repeat(20) }, context);

    expect(ok.success).toBe(true);
    expect(manual.success).toBe(true);
    expect(result.next).toBe("failed");
    expect(result.summary).toContain("executionId must be an Automation execution ID");
    expect(result.summary).toContain("\\u0000");
    expect(result.summary.length).toBeLessThan(1000);
  });
});
