/**
 * GHE.com (GitHub Enterprise Cloud with data residency,
 * https://docs.github.com/en/enterprise-cloud@latest/admin/data-residency/about-github-enterprise-cloud-with-data-residency)
 * end to end: its API is served at the root of `https://api.SUBDOMAIN.ghe.com`, not under `/api/v3` (as GitHub's
 * enterprise API guide gives it: https://docs.github.com/en/enterprise-cloud@latest/graphql/guides/managing-enterprise-accounts),
 * and it has Codespaces. The Rotate
 * runbook (the template's function on Node 24, moto) reaches `https://api.acme.ghe.com` over TLS through
 * test/support/named-host.ts; the GitHub emulator validates every request and answer against GitHub's description
 * of GitHub Enterprise Cloud (`ghec` in @octokit/openapi).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { startNamedHost } from "../support/named-host.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const HOST = "api.acme.ghe.com";
const KEY_ID = "AWS_ACCESS_KEY_ID";

describe("Rotate against GHE.com", () => {
  it("writes Actions and Codespaces secrets through https://api.SUBDOMAIN.ghe.com, which is not a GitHub Enterprise Server", async () => {
    // Prepare
    const host = await startNamedHost(HOST);
    onTestFinished(() => host.close());
    const org = `ghec-${randomUUID().slice(0, 8)}`;
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      reposJson: JSON.stringify({
        Version: 2,
        Repos: [
          { Owner: org, Name: "app" },
          { Owner: org, Name: "app", Secrets: "codespaces" },
          {
            Type: "organization",
            Owner: org,
            Secrets: "codespaces",
            Visibility: "selected",
            Repositories: ["web"],
          },
        ],
      }),
      githubDescription: "ghec",
      githubApiUrl: host.origin,
      lambdaEnv: host.lambdaEnv,
    });
    host.setTarget(stack.github.url);
    stack.github.addOrg(org);

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const [key] = await stack.keys();
    for (const scope of [
      { kind: "repository", owner: org, repo: "app", store: "actions" },
      { kind: "repository", owner: org, repo: "app", store: "codespaces" },
      { kind: "organization", org, store: "codespaces" },
    ] as const) {
      expect(stack.github.secretValueAt(scope, KEY_ID), JSON.stringify(scope)).toBe(key?.accessKeyId);
    }
    expect(stack.github.orgSecretAccess(org, "codespaces", KEY_ID)).toMatchObject({
      visibility: "selected",
      repositories: [`${org}/web`],
    });
    expect(String(execution.outputs["CheckRotateResult.Summary"])).toContain(`GitHub API: ${host.origin}`);
    expect(new Set(host.tunnels)).toEqual(new Set([`${HOST}:443`]));
    expect(new Set(stack.github.requests.map((request) => request.apiVersion))).toEqual(
      new Set(["2022-11-28"]),
    );
  });
});
