/**
 * The stack fixture's R1 check covers every kind of target: it fails when a reader of a listed environment,
 * organization or KeyIdAs-variable target, or of a repository a Topic / Property entry selects, would read a key
 * that is not Active — when asked, and at a write the function makes during a run (the emulator's write hook).
 * Without these, a check that can never fail would pass.
 */
import { randomUUID } from "node:crypto";
import { IAMClient, UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { afterEach, describe, expect, inject, it } from "vitest";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import { createStack, type Stack } from "../../scripts/local-stack/stack-fixture.ts";
import { targetLabel } from "../../src/domain/target.ts";

const endpoint = inject("motoEndpoint");

const KEY_ID = "AWS_ACCESS_KEY_ID";

describe("the stack fixture's R1 check across scopes", () => {
  // Stacks of these tests break R1 on purpose, so they are closed here, not by useStacks (which expects none).
  const stacks: Stack[] = [];
  afterEach(async () => {
    await Promise.all(stacks.splice(0).map((stack) => stack.close()));
  });

  /** A stack listing `entries` of a fresh organization with repositories `app` (environment `production`), `web`. */
  async function stackWith(
    entries: (org: string) => readonly Record<string, unknown>[],
    more: readonly string[] = [],
  ) {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const stack = await createStack(endpoint, {
      repos: [`${org}/app`, `${org}/web`, ...more.map((name) => `${org}/${name}`)],
      reposJson: JSON.stringify({ Version: 2, Repos: entries(org) }),
      existingKeys: 1,
      tokenRepos: "all",
    });
    stacks.push(stack);
    stack.github.addOrg(org);
    stack.github.addEnvironment(org, "app", "production");
    const key = stack.existingKeys[0]?.accessKeyId ?? "";
    return { stack, org, key };
  }

  async function deactivate(stack: Stack, accessKeyId: string): Promise<void> {
    const iam = new IAMClient(awsClientConfig(endpoint));
    try {
      await iam.send(
        new UpdateAccessKeyCommand({
          UserName: stack.user.userName,
          AccessKeyId: accessKeyId,
          Status: "Inactive",
        }),
      );
    } finally {
      iam.destroy();
    }
  }

  it("fails for an environment copy left on a deactivated key", async () => {
    // Prepare
    const { stack, org, key } = await stackWith((owner) => [
      { Type: "environment", Owner: owner, Name: "app", Environment: "production" },
    ]);
    stack.github.setSecretAt(
      { kind: "environment", owner: org, repo: "app", environment: "production" },
      KEY_ID,
      key,
    );
    await deactivate(stack, key);

    // Act
    const problems = await stack.checkR1("now");

    // Assess
    expect(problems).toEqual([
      `now: ${org}/app (environment production) reads key ${key} (from ${org}/app (environment production)), which is Inactive in IAM`,
    ]);
  });

  it("fails for each repository that sees an organization secret on a deactivated key, and only those", async () => {
    // Prepare
    const { stack, org, key } = await stackWith((owner) => [
      { Type: "organization", Owner: owner, Visibility: "selected", Repositories: ["web"] },
    ]);
    stack.github.setSecretAt({ kind: "organization", org, store: "actions" }, KEY_ID, key, {
      visibility: "selected",
      repositories: ["web"],
    });
    await deactivate(stack, key);

    // Act
    const problems = await stack.checkR1("now");

    // Assess
    expect(problems).toEqual([
      `now: ${org}/web reading organization ${org} (Actions) reads key ${key} (from organization ${org} (actions)), which is Inactive in IAM`,
    ]);
  });

  it("fails for a key ID kept as a variable that names a deactivated key", async () => {
    // Prepare
    const { stack, org, key } = await stackWith((owner) => [
      { Owner: owner, Name: "web", KeyIdAs: "variable" },
    ]);
    stack.github.setVariableAt(
      { kind: "repository", owner: org, repo: "web", store: "actions" },
      KEY_ID,
      key,
    );
    await deactivate(stack, key);

    // Act
    const problems = await stack.checkR1("now");

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${org}/web reads key ${key}`);
  });

  it("records, at the function's write to an environment, that the environment's jobs read a deactivated key", async () => {
    // Prepare: the environment's key ID names a key made Inactive behind the function's back; the function
    // writes the secret key first, so at that write the environment's jobs still read the Inactive key.
    const { stack, org, key } = await stackWith((owner) => [
      { Type: "environment", Owner: owner, Name: "app", Environment: "production" },
    ]);
    stack.github.setSecretAt(
      { kind: "environment", owner: org, repo: "app", environment: "production" },
      KEY_ID,
      key,
    );
    await deactivate(stack, key);

    // Act
    await stack.runRunbook("Rotate");

    // Assess
    expect(stack.r1Failures[0]).toContain(
      `at the write of AWS_SECRET_ACCESS_KEY to ${org}/app: ${org}/app (environment production) reads key ${key}`,
    );
  });

  it("fails for each repository a topic selects that is left on a deactivated key, and for no other", async () => {
    // Prepare: app has the topic (in another case), web has not, old has it but is archived (the run skips it).
    const { stack, org, key } = await stackWith(
      (owner) => [{ Owner: owner, Topic: "deploys-to-aws" }],
      ["old"],
    );
    stack.github.setTopics(org, "app", ["Deploys-To-AWS"]);
    stack.github.setTopics(org, "old", ["deploys-to-aws"]);
    stack.github.archiveRepo(org, "old");
    for (const repo of ["app", "web", "old"]) stack.github.setSecret(org, repo, KEY_ID, key);
    await deactivate(stack, key);

    // Act
    const problems = await stack.checkR1("now");

    // Assess
    expect(problems).toEqual([
      `now: ${org}/app reads key ${key} (from ${org}/app (actions)), which is Inactive in IAM`,
    ]);
    expect(stack.targets().map(targetLabel)).toEqual([`${org}/app`]);
  });

  it("fails for a repository a custom property selects by one of a multi-select's values, in the entry's store", async () => {
    // Prepare
    const { stack, org, key } = await stackWith((owner) => [
      { Owner: owner, Property: "deploy-target", Value: "aws", Secrets: "dependabot" },
    ]);
    stack.github.setCustomProperties(org, "web", { "deploy-target": ["gcp", "aws"] });
    stack.github.setCustomProperties(org, "app", { "deploy-target": "AWS" });
    for (const repo of ["app", "web"]) {
      stack.github.setSecretAt({ kind: "repository", owner: org, repo, store: "dependabot" }, KEY_ID, key);
    }
    await deactivate(stack, key);

    // Act
    const problems = await stack.checkR1("now");

    // Assess
    expect(problems).toEqual([
      `now: ${org}/web (Dependabot) reads key ${key} (from ${org}/web (dependabot)), which is Inactive in IAM`,
    ]);
  });

  it("records, at the function's write to a repository its selection found, that its jobs read a deactivated key", async () => {
    // Prepare: the topic is given after the stack exists; the run resolves the selection at its start.
    const { stack, org, key } = await stackWith((owner) => [{ Owner: owner, Topic: "deploys-to-aws" }]);
    stack.github.setTopics(org, "web", ["deploys-to-aws"]);
    stack.github.setSecret(org, "web", KEY_ID, key);
    await deactivate(stack, key);

    // Act
    await stack.runRunbook("Rotate");

    // Assess
    expect(stack.r1Failures[0]).toContain(
      `at the write of AWS_SECRET_ACCESS_KEY to ${org}/web: ${org}/web reads key ${key}`,
    );
  });
});
