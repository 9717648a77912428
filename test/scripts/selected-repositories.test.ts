/**
 * The stack fixture's view of dynamic selection: the targets a run would write for a list with Topic / Property
 * entries, resolved on the emulated GitHub by the product's own resolution (allow list, merge rules), so that the
 * R1 check covers the repositories a selection finds and no other.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { targetsWithSelected } from "../../scripts/local-stack/selected-repositories.ts";
import { listedTargets } from "../../scripts/local-stack/target-readers.ts";
import { type Target, targetLabel } from "../../src/domain/target.ts";

const ORG = "acme";

async function targetsOf(
  github: GitHubEmulator,
  entries: readonly Record<string, unknown>[],
  allowedOwners = ORG,
): Promise<readonly Target[]> {
  const listed = listedTargets(JSON.stringify({ Version: 2, Repos: entries }));
  if (listed === undefined) throw new Error("the test's list does not parse");
  return targetsWithSelected(github, listed, allowedOwners);
}

describe("targetsWithSelected", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startGitHubEmulator();
    github.addOrg(ORG);
    for (const name of ["app", "web", "api", "old"]) github.addRepo(ORG, name);
  });

  afterEach(async () => {
    await github.close();
  });

  it("adds the repositories a topic selects, ignoring the topic's case and leaving archived ones out", async () => {
    // Prepare
    github.setTopics(ORG, "web", ["Deploys-To-AWS"]);
    github.setTopics(ORG, "app", ["deploys-to-aws", "node"]);
    github.setTopics(ORG, "old", ["deploys-to-aws"]);
    github.archiveRepo(ORG, "old");

    // Act
    const targets = await targetsOf(github, [
      { Owner: ORG, Name: "api" },
      { Owner: ORG, Topic: "deploys-to-aws" },
    ]);

    // Assess
    expect(targets.map(targetLabel)).toEqual([`${ORG}/api`, `${ORG}/app`, `${ORG}/web`]);
  });

  it("adds the repositories a property selects by an exact value or one of a multi-select's, in the entry's store", async () => {
    // Prepare
    github.setCustomProperties(ORG, "app", { "Deploy-Target": "aws" });
    github.setCustomProperties(ORG, "web", { "deploy-target": ["gcp", "aws"] });
    github.setCustomProperties(ORG, "api", { "deploy-target": "AWS" });

    // Act
    const targets = await targetsOf(github, [
      { Owner: ORG, Property: "deploy-target", Value: "aws", Secrets: "codespaces" },
    ]);

    // Assess
    expect(targets.map(targetLabel)).toEqual([`${ORG}/app (Codespaces)`, `${ORG}/web (Codespaces)`]);
  });

  it("keeps a listed repository's own entry when a selection finds it too", async () => {
    // Prepare
    github.setTopics(ORG, "web", ["deploys-to-aws"]);

    // Act
    const targets = await targetsOf(github, [
      { Owner: ORG, Topic: "deploys-to-aws" },
      { Owner: ORG, Name: "web", KeyIdAs: "variable" },
    ]);

    // Assess
    expect(targets).toEqual([
      { kind: "repository", owner: ORG, name: "web", store: "actions", keyIdAs: "variable" },
    ]);
  });

  it("selects nothing for an organization the stack does not allow, or an owner that is no organization", async () => {
    // Prepare
    github.setTopics(ORG, "web", ["deploys-to-aws"]);
    github.addRepo("alice", "dotfiles", { topics: ["deploys-to-aws"] });

    // Act
    const foreign = await targetsOf(github, [{ Owner: ORG, Topic: "deploys-to-aws" }], "someone-else");
    const user = await targetsOf(github, [{ Owner: "alice", Topic: "deploys-to-aws" }], "alice");

    // Assess
    expect(foreign).toEqual([]);
    expect(user).toEqual([]);
  });
});
