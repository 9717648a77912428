/**
 * Dynamic selection end to end: a list that selects an organization's repositories by topic, run through the
 * Rotate runbook (the template's Lambda on Node 24, moto, the GitHub emulator with its organization listing).
 * A topic added to a repository between two runs: DryRun shows it added, Rotate writes it.
 */
import { describe, expect, inject, it } from "vitest";
import { type Stack, useStacks } from "../../scripts/local-stack/stack-fixture.ts";

/** Another key held on purpose in an Unmanaged place; not shaped like a real access key ID. */
const SANDBOX_KEY_ID = "sandbox-key-id-held-on-purpose";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const ORG = "octo-org";
const TOPIC = "deploys-to-aws";
const REPOS = [`${ORG}/app`, `${ORG}/docs`, `${ORG}/web`];

/** A stack whose list selects the organization's repositories with the topic; app and web have it. */
async function selectingStack(): Promise<Stack> {
  const stack = await createStack({
    repos: REPOS,
    reposJson: JSON.stringify({ Version: 2, Repos: [{ Owner: ORG, Topic: TOPIC }] }),
    tokenRepos: "all",
  });
  stack.github.addOrg(ORG);
  stack.github.setTopics(ORG, "app", [TOPIC]);
  stack.github.setTopics(ORG, "web", [TOPIC, "node"]);
  return stack;
}

/** The plan a DryRun's Rotate step printed. */
async function dryRunPlan(stack: Stack): Promise<string> {
  const { execution } = await stack.runRunbook("Rotate", { DryRun: true });
  expect(execution.status).toBe("Success");
  return String(execution.steps.find((step) => step.stepName === "CheckRotate")?.outputs.Summary);
}

describe("repositories selected by topic, through the Rotate runbook", () => {
  it("shows in a dry run the repositories the topic selects, then writes the key to each of them and no other", async () => {
    // Prepare
    const stack = await selectingStack();

    // Act
    const plan = await dryRunPlan(stack);
    const { execution } = await stack.runRunbook("Rotate", {});

    // Assess
    expect(plan).toContain(`Repositories of ${ORG} with topic ${TOPIC}: 2 (${ORG}/app, ${ORG}/web).`);
    expect(plan).toContain("Selected repositories changed since the last run: not known yet");
    expect(plan).toContain(`${ORG}/app: would-write`);
    expect(plan).not.toContain(`${ORG}/docs: would-write`);
    expect(execution.status).toBe("Success");
    const current = (await stack.rotationState())?.current?.accessKeyId;
    expect(stack.secretValues(`${ORG}/app`).accessKeyId).toBe(current);
    expect(stack.secretValues(`${ORG}/web`).accessKeyId).toBe(current);
    expect(stack.secretValues(`${ORG}/docs`).accessKeyId).toBeUndefined();
    expect(stack.r1Failures).toEqual([]);
  });

  it("shows a repository given the topic between two runs as added, and the next rotation writes it and alerts", async () => {
    // Prepare
    const stack = await selectingStack();
    await stack.runRunbook("Rotate", {});
    stack.github.setTopics(ORG, "docs", [TOPIC]);

    // Act
    const plan = await dryRunPlan(stack);
    const { execution } = await stack.runRunbook("Rotate", {});

    // Assess
    expect(plan).toContain(
      `Repositories of ${ORG} with topic ${TOPIC}: 3 (${ORG}/app, ${ORG}/docs, ${ORG}/web).`,
    );
    expect(plan).toMatch(
      /Selected repositories changed since the last run \([^)]+\): added octo-org\/docs \(1\)\./,
    );
    expect(execution.status).toBe("Success");
    const current = (await stack.rotationState())?.current?.accessKeyId;
    for (const repo of REPOS) expect(stack.secretValues(repo).accessKeyId, repo).toBe(current);
    expect(stack.alerts.map((alert) => alert.message)).toContainEqual(
      expect.stringContaining(`found 1 repository that they did not find at the last rotation`),
    );
    expect(stack.r1Failures).toEqual([]);
  });

  it("finds repositories by custom property as a GitHub App, whose installation token reaches the organization's repositories", async () => {
    // Prepare
    const stack = await createStack({
      repos: REPOS,
      reposJson: JSON.stringify({
        Version: 2,
        Repos: [{ Owner: ORG, Property: "deploy-target", Value: "aws" }],
      }),
      githubApp: {
        permissions: {
          metadata: "read",
          secrets: "write",
          actions: "read",
          environments: "read",
          contents: "read",
          organization_custom_properties: "read",
        },
      },
    });
    stack.github.addOrg(ORG);
    stack.github.setCustomProperties(ORG, "app", { "deploy-target": "aws" });
    stack.github.setCustomProperties(ORG, "web", { "deploy-target": ["gcp", "aws"] });
    stack.github.setCustomProperties(ORG, "docs", { "deploy-target": "AWS" });

    // Act
    const { execution } = await stack.runRunbook("Rotate", {});

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const current = (await stack.rotationState())?.current?.accessKeyId;
    expect(stack.secretValues(`${ORG}/app`).accessKeyId).toBe(current);
    expect(stack.secretValues(`${ORG}/web`).accessKeyId).toBe(current);
    expect(stack.secretValues(`${ORG}/docs`).accessKeyId).toBeUndefined();
    const minted = stack.github.apps.minted;
    expect(minted.length).toBeGreaterThan(0);
    for (const token of minted) {
      expect(token.permissions).toMatchObject({ organization_custom_properties: "read", secrets: "write" });
      expect(token.repositories).toBe("all");
    }
    expect(stack.r1Failures).toEqual([]);
  });
});

describe("a repository the list marks Unmanaged that a selection also finds", () => {
  it("is never written: the copy there keeps the other key it holds on purpose", async () => {
    // Prepare: web holds a sandbox key on purpose (Unmanaged); someone gives it the selection's topic.
    const stack = await createStack({
      repos: REPOS,
      reposJson: JSON.stringify({
        Version: 2,
        Repos: [
          { Owner: ORG, Topic: TOPIC },
          { Owner: ORG, Name: "web", Unmanaged: true },
        ],
      }),
      tokenRepos: "all",
    });
    stack.github.addOrg(ORG);
    stack.github.setTopics(ORG, "app", [TOPIC]);
    stack.github.setTopics(ORG, "web", [TOPIC]);
    stack.github.setSecret(ORG, "web", "AWS_ACCESS_KEY_ID", SANDBOX_KEY_ID);
    stack.github.setSecret(ORG, "web", "AWS_SECRET_ACCESS_KEY", "sandbox-secret-access-key-0000000000000");

    // Act
    const { execution } = await stack.runRunbook("Rotate", {});

    // Assess
    expect(execution.status).toBe("Success");
    const current = (await stack.rotationState())?.current?.accessKeyId;
    expect(stack.secretValues(`${ORG}/app`).accessKeyId).toBe(current);
    expect(stack.secretValues(`${ORG}/web`).accessKeyId).toBe(SANDBOX_KEY_ID);
    expect(stack.github.requests.filter((r) => r.method === "PUT" && r.repo === `${ORG}/web`)).toEqual([]);
  });
});
