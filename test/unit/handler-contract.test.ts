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

describe("Add-RepoConfig and Delete-RepoConfig parameters", () => {
  /** What Add-RepoConfig sends when only some parameters are given: the others at their defaults. */
  const addEvent = (given: Record<string, unknown>) => ({
    action: "add-repo",
    name: "",
    targetType: "repository",
    environment: "",
    secrets: "actions",
    visibility: "",
    repositories: "",
    topic: "",
    property: "",
    propertyValue: "",
    secretNameKeyId: "",
    secretNameSecretKey: "",
    keyIdAs: "secret",
    unmanaged: false,
    ...given,
  });

  it("reads an old execution's GITHUBOWNER and GITHUBREPO as a repository's Actions secrets", () => {
    // Act
    const parsed = v.parse(HandlerEvent, { action: "add-repo", owner: "octo-org", name: "api" });

    // Assess
    expect(parsed).toEqual({
      action: "add-repo",
      entry: {
        kind: "target",
        target: { kind: "repository", owner: "octo-org", name: "api", store: "actions" },
        unmanaged: false,
      },
    });
  });

  it("reads the runbook's empty parameters as not given", () => {
    // Act
    const parsed = v.parse(HandlerEvent, addEvent({ owner: "octo-org", name: "api" }));

    // Assess
    expect(parsed).toMatchObject({
      entry: { target: { kind: "repository", name: "api", store: "actions" } },
    });
  });

  it.each<[string, Record<string, unknown>, unknown]>([
    [
      "an environment",
      { owner: "o", name: "app", targetType: "environment", environment: "production" },
      { kind: "target", target: { kind: "environment", owner: "o", name: "app", environment: "production" } },
    ],
    [
      "an organization secret for repositories given separated by commas",
      {
        owner: "o",
        targetType: "organization",
        visibility: "selected",
        repositories: " api, web ,",
        secrets: "dependabot",
      },
      {
        kind: "target",
        target: {
          kind: "organization",
          owner: "o",
          store: "dependabot",
          visibility: "selected",
          selectedRepositories: ["api", "web"],
        },
      },
    ],
    [
      "a selection by custom property, with its own names and the key ID as a variable",
      {
        owner: "o",
        property: "team",
        propertyValue: "platform",
        secretNameKeyId: "CI_ID",
        secretNameSecretKey: "CI_KEY",
        keyIdAs: "variable",
      },
      {
        kind: "selection",
        selection: {
          owner: "o",
          by: { property: "team", value: "platform" },
          store: "actions",
          secretNames: { keyId: "CI_ID", secretKey: "CI_KEY" },
          keyIdAs: "variable",
        },
      },
    ],
    [
      "an Unmanaged repository, Unmanaged as the text Automation may send",
      { owner: "o", name: "legacy", unmanaged: "true" },
      { kind: "target", target: { kind: "repository", name: "legacy" }, unmanaged: true },
    ],
  ])("reads %s", (_, given, entry) => {
    // Act
    const parsed = v.safeParse(HandlerEvent, addEvent(given));

    // Assess
    expect(parsed.issues ?? []).toEqual([]);
    expect(parsed.output).toMatchObject({ action: "add-repo", entry });
  });

  it("names Delete-RepoConfig's organization secret by its owner and store, without a visibility", () => {
    // Act
    const parsed = v.parse(HandlerEvent, {
      action: "delete-repo",
      owner: "o",
      name: "",
      targetType: "organization",
      environment: "",
      secrets: "codespaces",
      topic: "",
      property: "",
      propertyValue: "",
    });

    // Assess
    expect(parsed).toMatchObject({
      action: "delete-repo",
      entry: { kind: "target", target: { kind: "organization", owner: "o", store: "codespaces" } },
    });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "an organization without Visibility",
      { owner: "o", targetType: "organization" },
      /visibility: missing required parameter Visibility \(which of the organization's repositories see the secret/,
    ],
    [
      "a repository without GITHUBREPO",
      { owner: "o" },
      /name: missing required parameter GITHUBREPO \(the repository's name; or Topic, or Property with PropertyValue/,
    ],
    [
      "Visibility for a repository",
      { owner: "o", name: "a", visibility: "all" },
      /visibility: Visibility does not apply to TargetType "repository" entries; it belongs to TargetType "organization"/,
    ],
    [
      "an unknown TargetType",
      { owner: "o", name: "a", targetType: "team" },
      /targetType: TargetType must be "repository" \(the default\), "environment" or "organization", not the text "team"/,
    ],
    [
      "PropertyValue without Property",
      { owner: "o", name: "a", propertyValue: "x" },
      /propertyValue: Property and PropertyValue go together/,
    ],
    [
      "the key ID as a variable of Codespaces secrets",
      { owner: "o", name: "a", secrets: "codespaces", keyIdAs: "variable" },
      /keyIdAs: KeyIdAs "variable" needs Secrets "actions": Codespaces has no configuration variables/,
    ],
  ])("refuses %s, naming the runbook parameter", async (_, given, message) => {
    // Act
    const result = await handler(addEvent(given), context);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toMatch(message);
  });

  it("blames Add-RepoConfig's form, not the runbook, and says where each kind's parameters are listed", async () => {
    // Act
    const result = await handler(
      addEvent({ owner: "o", targetType: "organization", visibility: "selected" }),
      context,
    );

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain(
      "Error: Add-RepoConfig's parameters do not describe an entry of the list (repositories: missing required parameter Repositories",
    );
    expect(result.summary).toContain(
      'Fix: Change the parameters named and run Add-RepoConfig again. README, section "Adding and removing each kind"',
    );
    expect(result.summary).not.toContain("The runbook sent parameters");
  });

  it("names Delete-RepoConfig in its own parameter mistakes", async () => {
    // Act
    const result = await handler(
      { action: "delete-repo", owner: "o", name: "", targetType: "environment", environment: "" },
      context,
    );

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toContain("Delete-RepoConfig's parameters do not describe an entry of the list (");
    expect(result.summary).toContain("run Delete-RepoConfig again");
  });

  it("refuses a field Delete-RepoConfig does not take, such as a visibility", () => {
    // Act
    const parsed = v.safeParse(HandlerEvent, {
      action: "delete-repo",
      owner: "o",
      name: "a",
      visibility: "all",
    });

    // Assess
    expect(parsed.issues?.map((issue) => issue.message)).toEqual(['unknown field "visibility"']);
  });
});
