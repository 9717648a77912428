/**
 * A GitHub App on GitHub Enterprise Server, end to end: the Rotate runbook (the template's function on Node 24,
 * moto) against the GitHub emulator as GitHub Enterprise Server 3.17, which serves the App endpoints (GET /app, the
 * installation lookups, minting installation tokens) under `/api/v3` like every other
 * (https://docs.github.com/en/enterprise-server@3.17/rest/apps/apps). The App has exactly the permissions README
 * ("GitHub App instead of a machine user") lists for the list's kinds of target.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const KEY_ID = "AWS_ACCESS_KEY_ID";

/**
 * README's table: repositories' Actions secrets; environment secrets (Environments and Secrets: Read and write);
 * an organization Actions secret (organization Secrets: Read and write).
 */
const APP_PERMISSIONS = {
  metadata: "read",
  secrets: "write",
  actions: "read",
  environments: "write",
  contents: "read",
  organization_secrets: "write",
} as const;

describe("Rotate as a GitHub App on GitHub Enterprise Server", () => {
  it("mints installation tokens under /api/v3 with the permissions and repositories the list needs, and writes a repository's, an environment's and an organization's secrets", async () => {
    // Prepare
    const org = `ghes-app-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      githubRepos: [`${org}/app`, `${org}/web`, `${org}/unlisted`],
      reposJson: JSON.stringify({
        Version: 2,
        Repos: [
          { Owner: org, Name: "app" },
          { Type: "environment", Owner: org, Name: "app", Environment: "production" },
          { Type: "organization", Owner: org, Visibility: "selected", Repositories: ["web"] },
        ],
      }),
      githubDescription: "ghes-3.17",
      githubApp: { permissions: APP_PERMISSIONS },
    });
    stack.github.addOrg(org);
    stack.github.addEnvironment(org, "app", "production");

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    expect(new URL(stack.github.url).pathname).toBe("/api/v3");
    const [key] = await stack.keys();
    for (const scope of [
      { kind: "repository", owner: org, repo: "app", store: "actions" },
      { kind: "environment", owner: org, repo: "app", environment: "production" },
      { kind: "organization", org, store: "actions" },
    ] as const) {
      expect(stack.github.secretValueAt(scope, KEY_ID), JSON.stringify(scope)).toBe(key?.accessKeyId);
    }
    const minted = stack.github.apps.minted;
    expect(minted.length).toBeGreaterThan(0);
    for (const token of minted) {
      expect(token.permissions).toEqual(APP_PERMISSIONS);
      expect(token.repositories).toEqual(["app", "web"].map((name) => `${org}/${name}`));
    }
    const routes = new Set(stack.github.requests.map((request) => request.route));
    expect(routes).toContain("/app");
    expect(routes).toContain("/app/installations/{installation_id}/access_tokens");
    expect(routes).not.toContain("/user");
    expect(new Set(stack.github.requests.map((request) => request.apiVersion))).toEqual(
      new Set(["2022-11-28"]),
    );
  });
});
