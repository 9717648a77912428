/**
 * Every change of the repository list is announced on the stack's alert topic, end to end: S3's documented event
 * for the change goes through the template's EventBridge rule to the template's Lambda (Node 24), which reads the
 * list's versions in moto and publishes what was added and removed.
 */
import { describe, expect, inject, it } from "vitest";
import { MOTO_ACCOUNT_ID, MOTO_REGION } from "../../scripts/local-stack/aws-fixtures.ts";
import { s3ObjectEvent } from "../../scripts/local-stack/eventbridge-pattern.ts";
import { renderRepos, useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const OURS = ["octo-org/api", "octo-org/web"];

describe("a change of the repository list", () => {
  it("uploaded with another owner's repository is announced, naming it as refused", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, allowedOwners: ["octo-org"] });
    await stack.writeConfig(renderRepos([...OURS, "evil-corp/harvest"]));

    // Act
    const invocation = await stack.deliverListChange();

    // Assess
    expect((invocation?.result as HandlerResult | undefined)?.action).toBe("list-changed");
    expect(stack.alerts).toHaveLength(1);
    const message = stack.alerts[0]?.message ?? "";
    expect(message).toContain(`The repository list s3://${stack.bucket}/${stack.configKey} changed`);
    expect(message).toContain("Added (1): evil-corp/harvest.");
    expect(message).toContain("Removed (0): none.");
    expect(message).toContain("Refused: evil-corp/harvest");
  });

  it("made by Add-RepoConfig and Delete-RepoConfig is announced too", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, allowedOwners: ["octo-org"] });

    // Act
    await stack.runRunbook("Add-RepoConfig", { GITHUBOWNER: "octo-org", GITHUBREPO: "docs" });
    await stack.deliverListChange();
    await stack.runRunbook("Delete-RepoConfig", { GITHUBOWNER: "octo-org", GITHUBREPO: "web" });
    await stack.deliverListChange();

    // Assess
    expect(stack.alerts.map((alert) => alert.message.split("\n").slice(1))).toEqual([
      ["Added (1): octo-org/docs.", "Removed (0): none."],
      ["Added (0): none.", "Removed (1): octo-org/web."],
    ]);
  });

  it("adding and changing an organization secret and an environment is announced, naming each", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS, allowedOwners: ["octo-org"] });

    // Act
    await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      GITHUBREPO: "api",
      TargetType: "environment",
      Environment: "production",
    });
    await stack.deliverListChange();
    await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      TargetType: "organization",
      Visibility: "all",
    });
    await stack.deliverListChange();
    await stack.runRunbook("Add-RepoConfig", {
      GITHUBOWNER: "octo-org",
      TargetType: "organization",
      Visibility: "selected",
      Repositories: "api",
    });
    await stack.deliverListChange();

    // Assess
    expect(stack.alerts.map((alert) => alert.message.split("\n").slice(1))).toEqual([
      ["Added (1): octo-org/api (environment production).", "Removed (0): none."],
      ["Added (1): organization octo-org (Actions) (visibility all).", "Removed (0): none."],
      [
        "Added (0): none.",
        "Removed (0): none.",
        "Changed (1): organization octo-org (Actions) (visibility selected: api).",
      ],
    ]);
  });

  it("deleting the list is announced as removing every repository", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS });
    await stack.deleteConfig();

    // Act
    await stack.deliverListChange();

    // Assess
    expect(stack.alerts[0]?.message).toContain("was deleted");
    expect(stack.alerts[0]?.message).toContain("Removed (2): octo-org/api, octo-org/web.");
  });

  it("an S3 event about another object sent to the function is refused without reading anything", async () => {
    // Prepare
    const stack = await createStack({ repos: OURS });
    const event = s3ObjectEvent({
      bucket: stack.bucket,
      key: `${stack.configKey}.lock`,
      versionId: "v1",
      deleted: false,
      region: MOTO_REGION,
      accountId: MOTO_ACCOUNT_ID,
      time: new Date(),
    });

    // Act
    const invocation = await stack.invokeFunction(event);

    // Assess
    const answer = invocation.result as HandlerResult;
    expect(answer.next).toBe("failed");
    expect(answer.summary).toContain("Ignored an S3 event about another object");
    expect(stack.alerts).toEqual([]);
  });
});
