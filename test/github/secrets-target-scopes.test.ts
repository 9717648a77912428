/**
 * GitHubSecretsTarget for every kind of target, through the real Octokit client against the GitHub emulator (which
 * checks every request and answer against GitHub's API description and decrypts what it receives): environment,
 * Dependabot, Codespaces and organization secrets, Actions variables, GitHub Enterprise Server, clients per owner,
 * and GitHub's refusals of them turned into messages with fixes.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type GitHubEmulator,
  startGitHubEmulator,
  type TokenGrant,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import type { OrganizationTarget, Target } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import { createGitHubClient, type GitHubClient } from "../../src/github/client.ts";
import type { GitHubConnection } from "../../src/github/github-connection.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";

const TOKEN_SECRET = "aws-github-akm/github-token";

let github: GitHubEmulator;
let enterprise: GitHubEmulator;

beforeAll(async () => {
  [github, enterprise] = await Promise.all([
    startGitHubEmulator(),
    startGitHubEmulator({ description: "ghes-3.19" }),
  ]);
});

afterAll(async () => {
  await Promise.all([github.close(), enterprise.close()]);
});

afterEach(() => {
  // Assess (every test): every request and answer is one GitHub's API description documents.
  expect(github.violations).toEqual([]);
  expect(enterprise.violations).toEqual([]);
});

function clientOf(server: GitHubEmulator, token: string): GitHubClient {
  return createGitHubClient({
    token: new SecretValue(token),
    baseUrl: server.url,
    userAgent: "aws-github-akm-test",
    secondMs: 1,
  });
}

/**
 * A fresh organization with repositories `app` (environment `production`) and `web`, a token for it (a fine-grained
 * one of an organization owner unless `grant` says otherwise), and an adapter using it.
 */
function arrange(options: { server?: GitHubEmulator; grant?: Partial<TokenGrant> } = {}) {
  const server = options.server ?? github;
  const org = `org-${randomUUID().slice(0, 8)}`;
  server.addOrg(org);
  server.addRepo(org, "app");
  server.addRepo(org, "web");
  server.addEnvironment(org, "app", "production");
  const token = `test-token-${randomUUID()}`;
  server.addToken(token, { login: "rotation-bot", repos: "all", permission: "write", ...options.grant });
  const target = new GitHubSecretsTarget({ client: clientOf(server, token), tokenSecretName: TOKEN_SECRET });
  const requests = () =>
    server.requests.filter((r) => r.path.includes(`/${org}/`) || r.path.endsWith(`/${org}`));
  return { org, target, requests };
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
      expect(identity).toEqual({ id: github.repoId(org, "app") });
      const scope = { kind: "repository", owner: org, repo: "app" } as const;
      expect(github.secretValueAt({ ...scope, store }, "AWS_SECRET_ACCESS_KEY")).toBe(value);
      expect(github.secretValueAt({ ...scope, store: "actions" }, "AWS_SECRET_ACCESS_KEY")).toBeUndefined();
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
    const { org, target, requests } = arrange({ server: enterprise });
    const repository: Target = { kind: "repository", owner: org, name: "app", store: "codespaces" };

    // Act
    const errors = [
      await refusal(target.checkWritable(repository)),
      await refusal(target.checkWritable(organization(org, { store: "codespaces" }))),
    ];

    // Assess
    expect(errors.map((e) => e.message)).toEqual([
      `${org}/app (Codespaces): ${enterprise.url} is a GitHub Enterprise Server, which has no Codespaces, so it has no Codespaces secrets to write. Nothing was changed.`,
      `organization ${org} (Codespaces): ${enterprise.url} is a GitHub Enterprise Server, which has no Codespaces, so it has no Codespaces secrets to write. Nothing was changed.`,
    ]);
    expect(errors[0]?.fix).toContain("Remove this entry from the list");
    expect(requests()).toEqual([]);
  });

  it("writes Dependabot and environment secrets on GitHub Enterprise Server, under /api/v3", async () => {
    // Prepare
    const { org, target } = arrange({ server: enterprise });
    const dependabot: Target = { kind: "repository", owner: org, name: "app", store: "dependabot" };
    const environment: Target = { kind: "environment", owner: org, name: "app", environment: "production" };

    // Act
    for (const at of [dependabot, environment]) {
      await target.checkWritable(at);
      await write(target, at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000001");
    }

    // Assess
    expect(
      enterprise.secretValueAt(
        { kind: "repository", owner: org, repo: "app", store: "dependabot" },
        "AWS_ACCESS_KEY_ID",
      ),
    ).toBe("TESTKEYID00000001");
    expect(
      enterprise.secretValueAt(
        { kind: "environment", owner: org, repo: "app", environment: "production" },
        "AWS_ACCESS_KEY_ID",
      ),
    ).toBe("TESTKEYID00000001");
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
    const scope = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
    expect(github.secretValueAt(scope, "AWS_SECRET_ACCESS_KEY")).toBe("test-environment-value");
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
  it.each(["all", "private"] as const)(
    "writes with visibility %s and returns the organization's ID",
    async (visibility) => {
      // Prepare
      const { org, target } = arrange();
      const at = organization(org, { visibility });

      // Act
      const identity = await target.checkWritable(at);
      await write(target, at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000002");

      // Assess
      expect(identity).toEqual({ id: github.orgId(org) });
      expect(github.secretValueAt({ kind: "organization", org, store: "actions" }, "AWS_ACCESS_KEY_ID")).toBe(
        "TESTKEYID00000002",
      );
      expect(github.orgSecretAccess(org, "actions", "AWS_ACCESS_KEY_ID")).toMatchObject({
        visibility,
        repositoryIds: [],
      });
    },
  );

  it.each(["actions", "dependabot", "codespaces"] as const)(
    "resolves a selected %s secret's repositories to their IDs when the rotation did not hand them over, and writes it with them",
    async (store) => {
      // Prepare
      const { org, target } = arrange();
      const at = organization(org, { store, visibility: "selected", selectedRepositories: ["web", "app"] });

      // Act
      const identity = await target.checkWritable(at);
      await write(target, at, "AWS_SECRET_ACCESS_KEY", "test-selected-value");

      // Assess
      expect(identity).toEqual({ id: github.orgId(org) });
      expect(github.secretValueAt({ kind: "organization", org, store }, "AWS_SECRET_ACCESS_KEY")).toBe(
        "test-selected-value",
      );
      expect(github.orgSecretAccess(org, store, "AWS_SECRET_ACCESS_KEY")).toMatchObject({
        visibility: "selected",
        repositories: [`${org}/app`, `${org}/web`].sort((a, b) => {
          const id = (r: string) => github.repoId(org, r.split("/")[1] ?? "");
          return id(a) - id(b);
        }),
      });
    },
  );

  it("refuses a selected repository that does not exist, naming it, before any write", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at = organization(org, { visibility: "selected", selectedRepositories: ["app", "gone"] });

    // Act
    const error = await refusal(target.selectedRepositoryId(at, "gone"));

    // Assess
    expect(error.message).toBe(
      `GitHub refused GET repository (selected for organization ${org} (Actions)) on ${org}/gone (404 Not Found): the repository does not exist or the token cannot see it.`,
    );
    expect(requests().filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("refuses a selected repository that was renamed, with its new ID", async () => {
    // Prepare
    const { org, target } = arrange();
    github.addRepo(org, "old-name");
    github.moveRepo(org, "old-name", { owner: org, name: "new-name" });
    const at = organization(org, { visibility: "selected", selectedRepositories: ["old-name"] });

    // Act
    const error = await refusal(target.selectedRepositoryId(at, "old-name"));

    // Assess
    expect(error.message).toContain(`${org}/old-name was renamed or transferred`);
    expect(error.fix).toContain(`Moved to repository ID ${github.repoId(org, "new-name")}`);
  });

  it("lists an organization's repositories 100 a page, A to Z, and says which page is the last", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    for (let i = 1; i <= 200; i++) github.addRepo(org, `svc-${String(i).padStart(3, "0")}`);

    // Act
    const pages = [
      await target.organizationRepositories(org, 1),
      await target.organizationRepositories(org, 2),
      await target.organizationRepositories(org, 3),
    ];

    // Assess
    expect(pages.map((page) => [page.repositories.length, page.last])).toEqual([
      [100, false],
      [100, false],
      [2, true],
    ]);
    expect(pages[0]?.repositories[0]).toEqual({ id: github.repoId(org, "app"), name: "app" });
    expect(pages[2]?.repositories.map((repo) => repo.name)).toEqual(["svc-200", "web"]);
    expect(requests().map((r) => r.operationId)).toEqual([
      "repos/list-for-org",
      "repos/list-for-org",
      "repos/list-for-org",
    ]);
  });

  it("resolves 2,000 selected names (any case) with 21 requests and writes the secret with their 2,000 IDs in one PUT", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const names = Array.from({ length: 2_000 }, (_, i) => `svc-${String(i).padStart(4, "0")}`);
    for (const name of names) github.addRepo(org, name);
    const at = organization(org, {
      visibility: "selected",
      selectedRepositories: names.map((name) => name.toUpperCase()),
    });

    // Act
    await write(target, at, "AWS_SECRET_ACCESS_KEY", "test-selected-value");

    // Assess
    const lookups = requests().filter((r) => r.method === "GET" && r.operationId?.startsWith("repos/"));
    expect(lookups.map((r) => r.operationId)).toEqual(Array(21).fill("repos/list-for-org"));
    expect(github.orgSecretAccess(org, "actions", "AWS_SECRET_ACCESS_KEY")?.repositoryIds).toHaveLength(
      2_000,
    );
    expect(requests().filter((r) => r.method === "PUT")).toHaveLength(1);
  });

  it("writes a selected secret with the IDs the rotation handed over, without looking the names up", async () => {
    // Prepare
    const { org, target, requests } = arrange();
    const at = organization(org, { visibility: "selected", selectedRepositories: ["app", "web"] });
    const ids = [github.repoId(org, "app"), github.repoId(org, "web")];

    // Act
    target.useSelectedRepositoryIds(at, ids);
    await write(target, at, "AWS_SECRET_ACCESS_KEY", "test-selected-value");

    // Assess
    expect(requests().filter((r) => r.operationId?.startsWith("repos/"))).toEqual([]);
    expect(github.orgSecretAccess(org, "actions", "AWS_SECRET_ACCESS_KEY")?.repositoryIds).toEqual(
      [...ids].sort((a, b) => a - b),
    );
  });

  it("says an organization that does not exist does not, or hides its secrets, with what it needs", async () => {
    // Prepare
    const { target } = arrange();

    // Act
    const error = await refusal(target.checkWritable(organization("no-such-org", { store: "dependabot" })));

    // Assess
    expect(error.message).toContain(
      "(404 Not Found): the organization does not exist, or the token cannot see its organization Dependabot secrets.",
    );
    expect(error.fix).toContain("needs the owner role in organization no-such-org");
    expect(error.fix).toContain(
      'the organization permission "Organization dependabot secrets: Read and write"',
    );
    expect(error.fix).toContain('a classic token needs the "admin:org" scope');
  });

  it("refuses a classic token without admin:org before any write", async () => {
    // Prepare
    const { org, target } = arrange({ grant: { kind: "classic", scopes: ["repo", "workflow"] } });

    // Act
    const error = await refusal(target.checkWritable(organization(org)));

    // Assess
    expect(error.message).toContain('has the scopes repo, workflow but not "admin:org"');
    expect(error.fix).toContain('tick the "admin:org" scope');
  });

  it("tells a machine user who is not an owner of the organization to become one", async () => {
    // Prepare
    const { org, target } = arrange({ grant: { orgRole: "member" } });
    await target.whoAmI();

    // Act
    const error = await refusal(target.publicKey(organization(org, { store: "dependabot" })));

    // Assess
    expect(error.message).toContain(
      "the machine user rotation-bot is not an owner of the organization, and organization secrets are an owner's to write",
    );
    expect(error.fix).toContain(`Make the machine user rotation-bot an owner of organization ${org}`);
  });

  it("explains a fine-grained token without the Secrets permission by the organization's secrets it writes", async () => {
    // Prepare
    const { org, target } = arrange({ grant: { permission: "read" } });

    // Act
    const error = await refusal(target.publicKey(organization(org, { store: "codespaces" })));

    // Assess
    expect(error.message).toContain("the fine-grained token lacks a permission the request needs");
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
    const scope = { kind: "environment", owner: org, repo: "app", environment: "production" } as const;
    expect(github.variableValueAt(scope, "AWS_ACCESS_KEY_ID")).toBe("TESTKEYID00000005");
    expect(await target.variableValue(at, "AWS_ACCESS_KEY_ID")).toBe("TESTKEYID00000005");
  });

  it("writes an organization variable with the secret's visibility and selected repositories", async () => {
    // Prepare
    const { org, target } = arrange();
    const at = organization(org, {
      visibility: "selected",
      selectedRepositories: ["app"],
      keyIdAs: "variable",
    });

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000006");
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000007");

    // Assess
    expect(github.variableValueAt({ kind: "organization", org, store: "actions" }, "AWS_ACCESS_KEY_ID")).toBe(
      "TESTKEYID00000007",
    );
    expect(github.orgVariableAccess(org, "AWS_ACCESS_KEY_ID")).toMatchObject({
      visibility: "selected",
      repositories: [`${org}/app`],
    });
  });

  it("updates a variable created by someone else between its read and the create", async () => {
    // Prepare: the first read answers 404 (as it would just before someone else created the variable).
    const { org, target } = arrange();
    const at: Target = { kind: "repository", owner: org, name: "web", store: "actions", keyIdAs: "variable" };
    github.setVariableAt(
      { kind: "repository", owner: org, repo: "web", store: "actions" },
      "AWS_ACCESS_KEY_ID",
      "X",
    );
    const fault = github.addFault({
      owner: org,
      repo: "web",
      method: "GET",
      route: "/repos/{owner}/{repo}/actions/variables/{name}",
      status: 404,
      times: 1,
    });

    // Act
    await target.writeVariable(at, "AWS_ACCESS_KEY_ID", "TESTKEYID00000008");

    // Assess
    expect(fault.hits).toBe(1);
    expect(await target.variableValue(at, "AWS_ACCESS_KEY_ID")).toBe("TESTKEYID00000008");
  });
});

describe("clients per owner", () => {
  it("asks the connection for each owner's client and sends that owner's requests with it", async () => {
    // Prepare
    const first = arrange();
    const second = arrange();
    const logins = new Map([
      [first.org, "first-installation"],
      [second.org, "second-installation"],
    ]);
    const tokens = new Map<string, string>();
    for (const [org, login] of logins) {
      const token = `test-token-${randomUUID()}`;
      github.addToken(token, { login, repos: "all", permission: "write" });
      tokens.set(org, token);
    }
    const asked: string[] = [];
    const connection: GitHubConnection = {
      mode: "app",
      apiUrl: github.url,
      clientFor: async (owner) => {
        asked.push(owner);
        return clientOf(github, tokens.get(owner) ?? "");
      },
      whoAmI: async () => ({
        login: "akm-app[bot]",
        expiresAt: undefined,
        app: { id: 1, slug: "akm-app", htmlUrl: "https://github.com/apps/akm-app" },
      }),
    };
    const target = new GitHubSecretsTarget({ tokenSecretName: TOKEN_SECRET, connection });

    // Act
    await target.checkWritable({ kind: "repository", owner: first.org, name: "app", store: "dependabot" });
    await target.checkWritable(organization(second.org));

    // Assess
    expect(new Set(asked)).toEqual(new Set([first.org, second.org]));
    expect(first.requests().map((r) => r.login)).toEqual(["first-installation"]);
    expect(second.requests().map((r) => r.login)).toEqual(["second-installation"]);
  });
});
