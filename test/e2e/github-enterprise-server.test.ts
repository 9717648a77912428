/**
 * GitHub Enterprise Server end to end: the Rotate runbook (the template's function on Node 24, moto) against the
 * GitHub emulator validating every request and answer against GitHub's description of GitHub Enterprise Server 3.17
 * — the oldest release README supports — served as GHES serves its REST API: under `https://HOST/api/v3`
 * (https://docs.github.com/en/enterprise-server@3.17/rest/quickstart). The function reaches
 * `https://github.acme-corp.example/api/v3` over TLS through test/support/named-host.ts.
 *
 * One stack, three runs: a list with a Codespaces entry is refused before any change (GHES has no Codespaces),
 * a DryRun checks the rest, and Rotate writes a repository's, an environment's, an organization's (selected
 * repositories) and a repository's Dependabot secrets — R1 checked at every write by the stack fixture.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it, onTestFinished } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { startNamedHost } from "../support/named-host.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

const HOST = "github.acme-corp.example";
const KEY_ID = "AWS_ACCESS_KEY_ID";
const SECRET_KEY = "AWS_SECRET_ACCESS_KEY";

describe("Rotate against GitHub Enterprise Server", () => {
  it("refuses a Codespaces entry before any change, then checks in a DryRun and rotates every other kind of target through https://HOST/api/v3", async () => {
    // Prepare
    const host = await startNamedHost(HOST);
    onTestFinished(() => host.close());
    const org = `ghes-${randomUUID().slice(0, 8)}`;
    const entries = [
      { Owner: org, Name: "app" },
      { Type: "environment", Owner: org, Name: "app", Environment: "production" },
      { Type: "organization", Owner: org, Visibility: "selected", Repositories: ["web"] },
      { Owner: org, Name: "web", Secrets: "dependabot" },
    ];
    const codespaces = { Owner: org, Name: "web", Secrets: "codespaces" };
    const stack = await createStack({
      repos: [`${org}/app`, `${org}/web`],
      reposJson: JSON.stringify({ Version: 2, Repos: [...entries, codespaces] }),
      githubDescription: "ghes-3.17",
      githubApiUrl: `${host.origin}/api/v3`,
      lambdaEnv: host.lambdaEnv,
      existingKeys: 1,
      graceMinutes: 0,
    });
    host.setTarget(new URL(stack.github.url).origin);
    stack.github.addOrg(org);
    stack.github.addEnvironment(org, "app", "production");
    const [old] = stack.existingKeys;
    // The key the tool this one replaces left in the repository: R1 guards it until every reader has the new one.
    stack.github.setSecret(org, "app", KEY_ID, old?.accessKeyId ?? "");
    stack.github.setSecret(org, "app", SECRET_KEY, old?.secretAccessKey ?? "");
    const writes = () => stack.github.requests.filter((request) => request.method !== "GET");

    // Act: Codespaces listed
    const refused = await stack.runRunbook("Rotate");

    // Assess
    expect(refused.execution.status).toBe("Failed");
    expect(refused.execution.failureMessage).toContain(
      `${org}/web (Codespaces): ${host.origin}/api/v3 is a GitHub Enterprise Server, which has no Codespaces`,
    );
    expect((await stack.keys()).map((key) => key.accessKeyId)).toEqual([old?.accessKeyId]);
    expect(writes()).toEqual([]);

    // Act: the list without it, in a DryRun
    await stack.writeConfig(JSON.stringify({ Version: 2, Repos: entries }));
    const dryRun = await stack.runRunbook("Rotate", { DryRun: true });

    // Assess
    expect(dryRun.execution.failureMessage).toBeUndefined();
    expect(dryRun.execution.status).toBe("Success");
    expect(await stack.keys()).toHaveLength(1);
    expect(writes()).toEqual([]);

    // Act: the rotation
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.failureMessage).toBeUndefined();
    expect(execution.status).toBe("Success");
    const keys = await stack.keys();
    const active = keys.filter((key) => key.status === "Active").map((key) => key.accessKeyId);
    expect(active).toHaveLength(1);
    const [key = ""] = active;
    expect(keys.find((k) => k.accessKeyId === old?.accessKeyId)?.status).toBe("Inactive");
    const secret = await stack.issuedSecretOf(key);
    for (const scope of [
      { kind: "repository", owner: org, repo: "app", store: "actions" },
      { kind: "environment", owner: org, repo: "app", environment: "production" },
      { kind: "organization", org, store: "actions" },
      { kind: "repository", owner: org, repo: "web", store: "dependabot" },
    ] as const) {
      expect(stack.github.secretValueAt(scope, KEY_ID), JSON.stringify(scope)).toBe(key);
      expect(stack.github.secretValueAt(scope, SECRET_KEY), JSON.stringify(scope)).toBe(secret);
    }
    expect(stack.github.orgSecretAccess(org, "actions", KEY_ID)).toMatchObject({
      visibility: "selected",
      repositories: [`${org}/web`],
    });
    // Every request went to the server's host over TLS and asked for the REST API version GHES 3.17 has.
    expect(new Set(host.tunnels)).toEqual(new Set([`${HOST}:443`]));
    expect(new Set(stack.github.requests.map((request) => request.apiVersion))).toEqual(
      new Set(["2022-11-28"]),
    );
  });
});
