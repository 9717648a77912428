/**
 * GitHubSecretsTarget for every kind of target, through the real Octokit client against a GitHub on loopback that
 * checks every request and answer against GitHub's API description and opens what it receives
 * (test/support/scoped-github.ts): environment, Dependabot, Codespaces and organization secrets, Actions variables,
 * and GitHub's refusals of them turned into messages with fixes.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SecretValue } from "../../src/domain/secret-value.ts";
import type { OrganizationTarget, Target } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient, type GitHubClient } from "../../src/github/client.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { ScopedGitHub } from "../support/scoped-github.ts";

const TOKEN_SECRET = "aws-github-akm/github-token";

let github: ScopedGitHub;
let enterprise: ScopedGitHub;

beforeAll(async () => {
  github = await ScopedGitHub.start();
  enterprise = await ScopedGitHub.start({ basePath: "/api/v3" });
});

afterAll(async () => {
  await github.close();
  await enterprise.close();
});

afterEach(() => {
  // Assess (every test): every request and answer is one GitHub's API description documents.
  expect(github.problems).toEqual([]);
  expect(enterprise.problems).toEqual([]);
  github.refusals.clear();
  github.oauthScopes = [];
});

function clientOf(server: ScopedGitHub, token = `test-token-${randomUUID()}`): GitHubClient {
  return createGitHubClient({
    token: new SecretValue(token),
    baseUrl: server.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
  });
}

/** A fresh organization with repositories `app` (environment `production`) and `web`, and an adapter for it. */
function arrange(server: ScopedGitHub = github) {
  const org = `org-${randomUUID().slice(0, 8)}`;
  const orgId = server.addOrg(org);
  const appId = server.addRepo(org, "app", ["production"]);
  const webId = server.addRepo(org, "web");
  const target = new GitHubSecretsTarget({ client: clientOf(server), tokenSecretName: TOKEN_SECRET });
  const requests = () => server.requests.filter((r) => r.path.includes(`/${org}`));
  return { org, orgId, appId, webId, target, requests };
}

async function refusal(promise: Promise<unknown>): Promise<GitHubAccessError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GitHubAccessError);
  return error as GitHubAccessError;
}

/** Writes `value` as secret `name` the way the rotation does: public key, sealed PUT, updated_at. */
async function write(target: GitHubSecretsTarget, at: Target, name: string, value: string) {
  const key = await target.publicKey(at);
  await target.writeSecret(at, key, name, new SecretValue(value));
  return target.secretUpdatedAt(at, name);
}

describe("repository secrets of Dependabot and Codespaces", () => {
  it.each(["dependabot", "codespaces"] as const)(
    "writes %s secrets to the repository's store of them, sealed for its own key",
    async (store) => {
      // Prepare
      const { org, target, requests } = arrange();
      const at: Target = { kind: "repository", owner: org, name: "app", store };
      const value = `test-${randomUUID()}`;

      // Act
      const identity = await target.checkWritable(at);
      const updatedAt = await write(target, at, "AWS_SECRET_ACCESS_KEY", value);

      // Assess
      expect(identity.id).toBeGreaterThan(0);
      expect(github.secret(`repo:${org}/app@${store}`, "AWS_SECRET_ACCESS_KEY")?.value).toBe(value);
      expect(github.secret(`repo:${org}/app@actions`, "AWS_SECRET_ACCESS_KEY")).toBeUndefined();
      expect(updatedAt).toBeInstanceOf(Date);
      expect(requests().map((r) => `${r.method} ${r.operationId}`)).toEqual([
        "GET repos/get",
        `GET ${store}/get-repo-public-key`,
        `PUT ${store}/create-or-update-repo-secret`,
        `GET ${store}/get-repo-secret`,
      ]);
    },
  );

  it("refuses Codespaces secrets on GitHub Enterprise Server before sending any request", async () => {
    // Prepare
    const { org, target, requests } = arrange(enterprise);
    const repository: Target = { kind: "repository", owner: org, name: "app", store: "codespaces" };
    const organization: Target = {
      kind: "organization",
      owner: org,
      store: "codespaces",
      visibility: "all",
      selectedRepositories: [],
    };

    // Act
    const errors = [
      await refusal(target.checkWritable(repository)),
      await refusal(target.checkWritable(organization)),
    ];

    // Assess
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining(
        `${org}/app (Codespaces): ${enterprise.url} is a GitHub Enterprise Server, which has no Codespaces`,
      ),
      expect.stringContaining(
        `organization ${org} (Codespaces): ${enterprise.url} is a GitHub Enterprise Server`,
      ),
    ]);
    expect(errors[0]?.fix).toContain("Remove this entry from the list");
    expect(requests()).toEqual([]);
  });

  it("writes Dependabot secrets on GitHub Enterprise Server, under /api/v3", async () => {
    // Prepare
    const { org, target } = arrange(enterprise);
    const at: Target = { kind: "repository", owner: org, name: "app", store: "dependabot" };

    // Act
    await target.checkWritable(at);
    await write(target, at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000001");

    // Assess
    expect(enterprise.secret(`repo:${org}/app@dependabot`, "AWS_ACCESS_KEY_ID")?.value).toBe(
      "TESTKEYID00000001",
    );
  });
});

describe("environment secrets", () => {
  it("checks that the environment exists, then writes its own secrets", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at: Target = { kind: "environment", owner: org, name: "app", environment: "production" };

    // Act
    await target.checkWritable(at);
    await write(target, at, "AWS_SECRET_ACCESS_KEY", "test-environment-value");

    // Assess
    expect(github.secret(`env:${org}/app/production`, "AWS_SECRET_ACCESS_KEY")?.value).toBe(
      "test-environment-value",
    );
    expect(requests().map((r) => r.operationId)).toEqual([
      "repos/get",
      "repos/get-environment",
      "actions/get-environment-public-key",
      "actions/create-or-update-environment-secret",
      "actions/get-environment-secret",
    ]);
  });

  it("refuses an environment that does not exist, naming it and the repository, before any write", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at: Target = { kind: "environment", owner: org, name: "app", environment: "staging" };

    // Act
    const error = await refusal(target.checkWritable(at));

    // Assess
    expect(error.message).toBe(
      `The environment staging does not exist in ${org}/app (GitHub answered 404 to GET environment). Nothing was changed.`,
    );
    expect(error.fix).toContain(`Create the environment staging in ${org}/app`);
    expect(error.repo).toBe(`${org}/app (environment staging)`);
    expect(requests().filter((r) => r.method !== "GET")).toEqual([]);
  });
});

describe("organization secrets", () => {
  function organization(org: string, overrides: Partial<OrganizationTarget> = {}): OrganizationTarget {
    return {
      kind: "organization",
      owner: org,
      store: "actions",
      visibility: "all",
      selectedRepositories: [],
      ...overrides,
    };
  }

  it.each(["all", "private"] as const)(
    "writes with visibility %s and returns the organization's ID",
    async (visibility) => {
      // Prepare
      const { org, orgId, target } = arrange();
      const at = organization(org, { visibility });

      // Act
      const identity = await target.checkWritable(at);
      await write(target, at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000002");

      // Assess
      expect(identity).toEqual({ id: orgId });
      expect(github.secret(`org:${org}@actions`, "AWS_ACCESS_KEY_ID")).toMatchObject({
        value: "TESTKEYID00000002",
        visibility,
      });
      expect(github.secret(`org:${org}@actions`, "AWS_ACCESS_KEY_ID")?.selectedRepositoryIds).toBeUndefined();
    },
  );

  it.each(["actions", "dependabot", "codespaces"] as const)(
    "resolves a selected %s secret's repositories to their IDs and writes it with them",
    async (store) => {
      // Prepare
      const { org, appId, webId, target } = arrange();
      const at = organization(org, { store, visibility: "selected", selectedRepositories: ["web", "app"] });

      // Act
      const identity = await target.checkWritable(at);
      await write(target, at, "AWS_SECRET_ACCESS_KEY", "test-selected-value");

      // Assess
      expect(identity.selectedRepositoryIds).toEqual([webId, appId]);
      expect(github.secret(`org:${org}@${store}`, "AWS_SECRET_ACCESS_KEY")).toMatchObject({
        value: "test-selected-value",
        visibility: "selected",
        selectedRepositoryIds: [webId, appId],
      });
    },
  );

  it("refuses a selected repository that does not exist, naming it, before any write", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at = organization(org, { visibility: "selected", selectedRepositories: ["app", "gone"] });

    // Act
    const error = await refusal(target.checkWritable(at));

    // Assess
    expect(error.message).toContain(
      `on ${org}/gone (404 Not Found): the repository does not exist or the token cannot see it.`,
    );
    expect(error.message).toContain(`selected for organization ${org} (Actions)`);
    expect(requests().filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("refuses a selected repository that was renamed or transferred, with its new ID", async () => {
    // Prepare
    const { org, target } = arrange();
    github.moved.set(`${org}/old-name`.toLowerCase(), 777);
    const at = organization(org, { visibility: "selected", selectedRepositories: ["old-name"] });

    // Act
    const error = await refusal(target.checkWritable(at));

    // Assess
    expect(error.message).toContain(`${org}/old-name was renamed or transferred`);
    expect(error.fix).toContain("Moved to repository ID 777");
  });

  it("says an organization the token cannot see does not exist or hides its secrets, with what it needs", async () => {
    // Prepare
    const { target } = arrange();
    const at = organization("no-such-org", { store: "dependabot" });

    // Act
    const error = await refusal(target.checkWritable(at));

    // Assess
    expect(error.message).toContain(
      "the organization does not exist, or the token cannot see its organization Dependabot secrets.",
    );
    expect(error.fix).toContain("needs the owner role in organization no-such-org");
    expect(error.fix).toContain(
      'the organization permission "Organization dependabot secrets: Read and write"',
    );
    expect(error.fix).toContain('a classic token needs the "admin:org" scope');
  });

  it("refuses a classic token without admin:org before any write", async () => {
    // Prepare
    const { org, target } = arrange();
    github.oauthScopes = ["repo", "workflow"];

    // Act
    const error = await refusal(target.checkWritable(organization(org)));

    // Assess
    expect(error.message).toContain('has the scopes repo, workflow but not "admin:org"');
    expect(error.fix).toContain('tick the "admin:org" scope');
  });

  it("explains a fine-grained token without the organization permission by the organization's secrets it writes", async () => {
    // Prepare
    const { org, target } = arrange();
    github.refusals.set("codespaces/get-org-public-key", {
      status: 403,
      message: "Resource not accessible by personal access token",
      headers: { "x-accepted-github-permissions": "organization_codespaces_secrets=read" },
    });

    // Act
    const error = await refusal(target.publicKey(organization(org, { store: "codespaces" })));

    // Assess
    expect(error.message).toContain("the fine-grained token lacks a permission the request needs");
    expect(error.message).toContain("GitHub asks for organization_codespaces_secrets=read");
    expect(error.fix).toContain(
      `choose ${org} as its resource owner, and under Organization permissions set "Organization codespaces secrets" to "Read and write"`,
    );
  });
});

describe("the key ID as an Actions variable", () => {
  it("creates a repository variable, then updates it, and reads its value back", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at: Target = { kind: "repository", owner: org, name: "web", store: "actions", keyIdAs: "variable" };

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000003");
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000004");
    const value = await target.variableValue(at, "AWS_ACCESS_KEY_ID");

    // Assess
    expect(value).toBe("TESTKEYID00000004");
    expect(requests().map((r) => `${r.method} ${r.status}`)).toEqual([
      "GET 404",
      "POST 201",
      "GET 200",
      "PATCH 204",
      "GET 200",
    ]);
  });

  it("writes an environment variable in the environment", async () => {
    // Prepare
    const { org, target } = arrange();
    const at: Target = {
      kind: "environment",
      owner: org,
      name: "app",
      environment: "production",
      keyIdAs: "variable",
    };

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000005");

    // Assess
    expect(github.variable(`env:${org}/app/production`, "AWS_ACCESS_KEY_ID")?.value).toBe(
      "TESTKEYID00000005",
    );
    expect(await target.variableValue(at, "AWS_ACCESS_KEY_ID")).toBe("TESTKEYID00000005");
  });

  it("writes an organization variable with the secret's visibility and selected repositories", async () => {
    // Prepare
    const { org, appId, target } = arrange();
    const at: Target = {
      kind: "organization",
      owner: org,
      store: "actions",
      visibility: "selected",
      selectedRepositories: ["app"],
      keyIdAs: "variable",
    };

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000006");
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000007");

    // Assess
    expect(github.variable(`org:${org}@actions`, "AWS_ACCESS_KEY_ID")).toEqual({
      value: "TESTKEYID00000007",
      visibility: "selected",
      selectedRepositoryIds: [appId],
    });
  });

  it("updates a variable created by someone else between its read and the create", async () => {
    // Prepare: the variable does not exist when read, and exists when created.
    const { org, target } = arrange();
    const at: Target = { kind: "repository", owner: org, name: "web", store: "actions", keyIdAs: "variable" };
    github.refusals.set("actions/get-repo-variable", { status: 404, message: "Not Found" });
    github.variables.set(`${`repo:${org}/web@actions`.toLowerCase()}:AWS_ACCESS_KEY_ID`, {
      value: "SOMEONEELSE00001",
    });

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000008");

    // Assess
    github.refusals.clear();
    expect(await target.variableValue(at, "AWS_ACCESS_KEY_ID")).toBe("TESTKEYID00000008");
  });
});

describe("clients per owner", () => {
  it("asks for each owner's client and sends that owner's requests with it", async () => {
    // Prepare
    const first = arrange();
    const second = arrange();
    const tokens = new Map([
      [first.org, `test-token-${randomUUID()}`],
      [second.org, `test-token-${randomUUID()}`],
    ]);
    const asked: string[] = [];
    const target = new GitHubSecretsTarget({
      tokenSecretName: TOKEN_SECRET,
      tokenClient: clientOf(github),
      clientFor: async (owner) => {
        asked.push(owner);
        return clientOf(github, tokens.get(owner));
      },
    });

    // Act
    await target.checkWritable({ kind: "repository", owner: first.org, name: "app", store: "dependabot" });
    await target.checkWritable({
      kind: "organization",
      owner: second.org,
      store: "actions",
      visibility: "all",
      selectedRepositories: [],
    });

    // Assess
    expect(new Set(asked)).toEqual(new Set([first.org, second.org]));
    expect(first.requests().map((r) => r.authorization)).toEqual([`token ${tokens.get(first.org)}`]);
    expect(second.requests().map((r) => r.authorization)).toEqual([`token ${tokens.get(second.org)}`]);
  });
});
