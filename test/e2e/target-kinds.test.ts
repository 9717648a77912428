/**
 * Every kind of target through the Rotate runbook (the template's function on Node 24, moto, the GitHub emulator):
 * environment secrets, organization secrets (all, selected), Dependabot and Codespaces secrets, the key ID as an
 * Actions variable — and R1 over all of them at every write: every place that holds the key ID names a key that is
 * Active in IAM.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { type Stack, useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const KEY_ID = "AWS_ACCESS_KEY_ID";
const SECRET_KEY = "AWS_SECRET_ACCESS_KEY";

/**
 * A stack whose list (version 2) names `entries` of organization `org`, which owns repositories `app` (with the
 * environment `production`), `web` and `more`. `entries` get `Owner: org`.
 */
async function stackWith(
  entries: (org: string) => readonly Record<string, unknown>[],
  options: { existingKeys?: number; graceMinutes?: number; more?: readonly string[] } = {},
): Promise<{ stack: Stack; org: string; r1: string[] }> {
  const org = `org-${randomUUID().slice(0, 8)}`;
  const { more = [], ...rest } = options;
  const repos = [`${org}/app`, `${org}/web`];
  const stack = await createStack({
    repos,
    githubRepos: [...repos, ...more.map((name) => `${org}/${name}`)],
    reposJson: JSON.stringify({ Version: 2, Repos: entries(org) }),
    ...rest,
  });
  stack.github.addOrg(org);
  stack.github.addEnvironment(org, "app", "production");
  return { stack, org, r1: watchR1(stack) };
}

/** R1 at every write, over every scope and store: each key ID held (secret or variable) is an Active key. */
function watchR1(stack: Stack): string[] {
  const problems: string[] = [];
  stack.onSecretWritten(async (event) => {
    const active = new Set(
      (await stack.keys()).filter((k) => k.status === "Active").map((k) => k.accessKeyId),
    );
    const held = [...stack.github.holdersOf(KEY_ID, "secret"), ...stack.github.holdersOf(KEY_ID, "variable")];
    for (const holding of held) {
      if (!active.has(holding.value)) {
        problems.push(
          `at the write of ${event.name}: ${JSON.stringify(holding.scope)} holds ${holding.value}`,
        );
      }
    }
  });
  return problems;
}

async function activeKey(stack: Stack): Promise<string> {
  const keys = (await stack.keys()).filter((k) => k.status === "Active");
  expect(keys).toHaveLength(1);
  return keys[0]?.accessKeyId ?? "";
}

describe("Rotate over every kind of target", () => {
  it("writes an environment's secrets, not the repository's, and adopts and retires the key the environment held", async () => {
    // Prepare
    const { stack, org, r1 } = await stackWith(
      (owner) => [{ Type: "environment", Owner: owner, Name: "app", Environment: "production" }],
      { existingKeys: 1, graceMinutes: 0 },
    );
    const old = stack.existingKeys[0];
    const environment = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
    stack.github.setSecretAt(environment, KEY_ID, old?.accessKeyId ?? "");

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const key = await activeKey(stack);
    expect(stack.github.secretValueAt(environment, KEY_ID)).toBe(key);
    expect(stack.github.secretValueAt(environment, SECRET_KEY)).toBe(await stack.issuedSecretOf(key));
    expect(stack.secretValues(`${org}/app`)).toEqual({ accessKeyId: undefined, secretAccessKey: undefined });
    expect((await stack.keys()).find((k) => k.accessKeyId === old?.accessKeyId)?.status).toBe("Inactive");
    expect(String(execution.outputs["CheckRotateResult.Summary"])).toContain("every listed target");
    expect(stack.github.violations).toEqual([]);
    expect(r1).toEqual([]);
  });

  it("writes organization secrets with visibility all and selected, the selected one seen by exactly its repositories", async () => {
    // Prepare
    const { stack, org, r1 } = await stackWith((owner) => [
      { Type: "organization", Owner: owner, Visibility: "all" },
      {
        Type: "organization",
        Owner: owner,
        Secrets: "dependabot",
        Visibility: "selected",
        Repositories: ["web"],
      },
    ]);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const key = await activeKey(stack);
    expect(stack.github.secretValueAt({ kind: "organization", org, store: "actions" }, KEY_ID)).toBe(key);
    expect(stack.github.orgSecretAccess(org, "actions", KEY_ID)?.visibility).toBe("all");
    expect(stack.github.orgSecretAccess(org, "dependabot", KEY_ID)).toMatchObject({
      visibility: "selected",
      repositories: [`${org}/web`],
    });
    expect(
      stack.github.effectiveSecret({ owner: org, repo: "web", store: "dependabot" }, KEY_ID)?.value,
    ).toBe(key);
    expect(
      stack.github.effectiveSecret({ owner: org, repo: "app", store: "dependabot" }, KEY_ID),
    ).toBeUndefined();
    expect(stack.github.violations).toEqual([]);
    expect(r1).toEqual([]);
  });

  it("resolves an organization secret's 150 selected repositories in 2 requests (the organization's, 100 a page), once per rotation, and each of them reads the new key", async () => {
    // Prepare: more names than are looked up one by one (src/lifecycle/selected-ids.ts, PER_NAME_MAX).
    const names = Array.from({ length: 150 }, (_, i) => `svc-${String(i).padStart(4, "0")}`);
    const { stack, org, r1 } = await stackWith(
      (owner) => [{ Type: "organization", Owner: owner, Visibility: "selected", Repositories: names }],
      { existingKeys: 1, more: names },
    );

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const key = await activeKey(stack);
    const reads = stack.github.requests.filter(
      (r) => r.method === "GET" && r.path.startsWith(`/orgs/${org}/repos`),
    );
    expect(reads).toHaveLength(2);
    // No repository is looked up by name (the shadowing check reads each one's environments and secrets, not this).
    expect(stack.github.requests.filter((r) => r.operationId === "repos/get")).toEqual([]);
    expect(stack.github.orgSecretAccess(org, "actions", KEY_ID)?.repositoryIds).toHaveLength(150);
    for (const name of [names[0], names[149]]) {
      expect(
        stack.github.effectiveSecret({ owner: org, repo: name ?? "", store: "actions" }, KEY_ID)?.value,
      ).toBe(key);
    }
    expect(stack.github.violations).toEqual([]);
    expect(r1).toEqual([]);
  });

  it("writes a repository's Dependabot and Codespaces secrets to their own stores", async () => {
    // Prepare
    const { stack, org, r1 } = await stackWith((owner) => [
      { Owner: owner, Name: "app", Secrets: "dependabot" },
      { Owner: owner, Name: "app", Secrets: "codespaces" },
    ]);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const key = await activeKey(stack);
    for (const store of ["dependabot", "codespaces"] as const) {
      expect(stack.github.secretValueAt({ kind: "repository", owner: org, repo: "app", store }, KEY_ID)).toBe(
        key,
      );
    }
    expect(stack.secretValues(`${org}/app`).accessKeyId).toBeUndefined();
    expect(r1).toEqual([]);
  });

  it("keeps the key ID in an Actions variable, under the entry's own names, and the secret key in a secret", async () => {
    // Prepare
    const { stack, org, r1 } = await stackWith((owner) => [
      {
        Owner: owner,
        Name: "web",
        KeyIdAs: "variable",
        SecretNameKeyId: "DEPLOY_KEY_ID",
        SecretNameSecretKey: "DEPLOY_SECRET_KEY",
      },
    ]);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    const key = await activeKey(stack);
    const scope = { kind: "repository", owner: org, repo: "web", store: "actions" } as const;
    expect(stack.github.variableValueAt(scope, "DEPLOY_KEY_ID")).toBe(key);
    expect(stack.github.secretValueAt(scope, "DEPLOY_SECRET_KEY")).toBe(await stack.issuedSecretOf(key));
    expect(stack.github.secretValueAt(scope, "DEPLOY_KEY_ID")).toBeUndefined();
    expect(stack.github.effectiveVariable({ owner: org, repo: "web" }, "DEPLOY_KEY_ID")?.value).toBe(key);
    expect(r1).toEqual([]);
  });

  it("fails before any key exists when a listed environment does not exist, naming it", async () => {
    // Prepare
    const { stack, org } = await stackWith((owner) => [
      { Type: "environment", Owner: owner, Name: "app", Environment: "staging" },
    ]);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`The environment staging does not exist in ${org}/app`);
    expect(await stack.keys()).toEqual([]);
    expect(stack.github.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });
});
