/**
 * GitHubConnection against the emulator: a personal token's single client, and a GitHub App's installation tokens —
 * minted per owner with only the list's permissions and repositories, refreshed before they expire on an injected
 * clock, and minted again after GitHub refuses one.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type EmulatedAppHandle,
  type GitHubEmulator,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { parseGitHubCredential } from "../../src/config/github-credential.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import { GitHubAccessError } from "../../src/errors.ts";
import type { AccessScope } from "../../src/github/app-permissions.ts";
import { TOKEN_REFRESH_MARGIN_MS } from "../../src/github/app-token-cache.ts";
import { createGitHubConnection, type GitHubConnection } from "../../src/github/github-connection.ts";
import { sealSecret } from "../../src/github/seal.ts";
import { WritePacer } from "../../src/github/write-pacer.ts";
import { FakeClock } from "../support/fakes.ts";

const TOKEN_SECRET = "GHS-AKM-deploy-bot-GitHubToken-key-rotator";
const HOUR_MS = 60 * 60_000;
const ACTIONS_PERMISSIONS = {
  secrets: "write",
  metadata: "read",
  actions: "read",
  environments: "write",
  contents: "read",
} as const;

let github: GitHubEmulator;
let clock: FakeClock;
let app: EmulatedAppHandle;
let notes: string[];

beforeEach(async () => {
  clock = new FakeClock(Date.parse("2026-03-01T12:00:00Z"));
  // GitHub Enterprise Server's path prefix: every call, the JWT ones included, must go under it.
  github = await startGitHubEmulator({ now: () => clock.now().getTime(), basePath: "/api/v3" });
  for (const full of ["acme/api", "acme/web", "acme/secret-plans", "alice/dotfiles"]) {
    const [owner = "", name = ""] = full.split("/");
    github.addRepo(owner, name);
  }
  app = github.apps.addApp({ slug: "key-rotator", permissions: ACTIONS_PERMISSIONS });
  notes = [];
});

afterEach(async () => {
  // Assess (every test): nothing was sent that GitHub's API description forbids.
  expect(github.violations).toEqual([]);
  await github.close();
});

function appConnection(scope: AccessScope, privateKeyPem = app.privateKeyPem): GitHubConnection {
  return createGitHubConnection({
    credential: parseGitHubCredential(privateKeyPem, { secretId: TOKEN_SECRET, stackAppId: String(app.id) }),
    client: { baseUrl: github.url, userAgent: "aws-github-akm-test", secondMs: 1, retries: 0 },
    tokenSecretName: TOKEN_SECRET,
    scope: async () => scope,
    clock,
    note: (line) => notes.push(line),
  });
}

function listing(...repos: string[]): AccessScope {
  return {
    targets: repos.map((full) => {
      const [owner = "", name = ""] = full.split("/");
      return repositoryTarget({ owner, name });
    }),
    selections: [],
  };
}

async function getRepo(connection: GitHubConnection, owner: string, name: string): Promise<number> {
  const client = await connection.clientFor(owner);
  try {
    return (await client.request("GET /repos/{owner}/{repo}", { owner, repo: name })).status;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

async function refusal(promise: Promise<unknown>): Promise<GitHubAccessError> {
  const error = await promise.catch((caught: unknown) => caught);
  if (!(error instanceof GitHubAccessError))
    throw new Error(`expected a GitHubAccessError, got ${String(error)}`);
  return error;
}

describe("a connection with a personal token", () => {
  it("gives the same client for every owner and names the token's user", async () => {
    // Prepare
    github.addToken("fake-pat-for-connection-tests", {
      login: "machine-user",
      repos: "all",
      permission: "write",
    });
    const connection = createGitHubConnection({
      credential: { kind: "token", token: new SecretValue("fake-pat-for-connection-tests") },
      client: { baseUrl: github.url, userAgent: "aws-github-akm-test", secondMs: 1 },
      tokenSecretName: TOKEN_SECRET,
      scope: async () => {
        throw new Error("a personal token needs no scope");
      },
    });

    // Act
    const [acme, alice] = await Promise.all([connection.clientFor("acme"), connection.clientFor("alice")]);
    const owner = await connection.whoAmI();

    // Assess
    expect(acme).toBe(alice);
    expect(owner).toEqual({ login: "machine-user", expiresAt: undefined });
  });
});

describe("a connection as a GitHub App", () => {
  it("names the App through GET /app with its JWT, never GET /user", async () => {
    // Act
    const owner = await appConnection(listing("acme/api")).whoAmI();

    // Assess
    expect(owner).toEqual({
      login: "key-rotator",
      expiresAt: undefined,
      app: { id: app.id, slug: "key-rotator", htmlUrl: expect.stringMatching(/\/apps\/key-rotator$/) },
    });
    expect(github.requests.map((request) => `${request.method} ${request.route}`)).toEqual(["GET /app"]);
  });

  it("mints one token per owner, with only the list's permissions and repositories, found by org or user", async () => {
    // Prepare
    const orgInstallation = github.apps.install(app.id, "acme");
    const userInstallation = github.apps.install(app.id, "alice", { type: "User" });
    const connection = appConnection(listing("acme/api", "acme/web", "alice/dotfiles"));

    // Act
    const statuses = [
      await getRepo(connection, "acme", "api"),
      await getRepo(connection, "acme", "web"),
      await getRepo(connection, "acme", "secret-plans"),
      await getRepo(connection, "alice", "dotfiles"),
    ];

    // Assess
    expect(statuses).toEqual([200, 200, 404, 200]);
    const expectedPermissions = {
      metadata: "read",
      secrets: "write",
      actions: "read",
      environments: "read",
      contents: "read",
    };
    expect(github.apps.minted).toEqual([
      expect.objectContaining({
        installationId: orgInstallation,
        permissions: expectedPermissions,
        repositories: ["acme/api", "acme/web"],
      }),
      expect.objectContaining({
        installationId: userInstallation,
        permissions: expectedPermissions,
        repositories: ["alice/dotfiles"],
      }),
    ]);
    expect(notes.filter((note) => note.includes("minted"))).toHaveLength(2);
    expect(notes.join("\n")).not.toMatch(/ghs_/);
  });

  it("asks a GitHub Enterprise Server installation for no Codespaces permission, which GHES has not, so the owner's other targets go on", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    const scope: AccessScope = {
      targets: [
        repositoryTarget({ owner: "acme", name: "api" }),
        { kind: "repository", owner: "acme", name: "web", store: "codespaces" },
      ],
      selections: [],
    };

    // Act
    const status = await getRepo(appConnection(scope), "acme", "api");

    // Assess
    expect(status).toBe(200);
    expect(github.apps.minted.map((token) => token.permissions)).toEqual([
      { metadata: "read", secrets: "write", actions: "read", environments: "read", contents: "read" },
    ]);
  });

  it("mints a new token before the hour is up on the run's clock, so no request meets an expired one", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    const connection = appConnection(listing("acme/api"));
    await getRepo(connection, "acme", "api");

    // Act
    clock.advance(HOUR_MS - TOKEN_REFRESH_MARGIN_MS - 60_000);
    const stillFirst = await getRepo(connection, "acme", "api");
    clock.advance(2 * 60_000);
    const afterRefresh = await getRepo(connection, "acme", "api");
    clock.advance(HOUR_MS);
    const twoHoursLater = await getRepo(connection, "acme", "api");

    // Assess
    expect([stillFirst, afterRefresh, twoHoursLater]).toEqual([200, 200, 200]);
    expect(github.apps.minted).toHaveLength(3);
    expect(github.requests.filter((request) => request.status === 401)).toEqual([]);
  });

  it("mints a new token when GitHub refuses the one it holds, and sends the request again", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    const connection = appConnection(listing("acme/api"));
    await getRepo(connection, "acme", "api");

    // Act
    github.apps.expireTokens();
    const status = await getRepo(connection, "acme", "api");

    // Assess
    expect(status).toBe(200);
    expect(github.apps.minted).toHaveLength(2);
    expect(github.requests.filter((request) => request.status === 401)).toHaveLength(1);
  });

  it("mints a DryRun's tokens read-only, yet refuses an installation that could not write", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    github.apps.install(app.id, "alice", {
      type: "User",
      permissions: { metadata: "read", secrets: "read" },
    });
    const dryRun = { ...listing("acme/api", "alice/dotfiles"), readOnly: true };

    // Act
    const connection = appConnection(dryRun);
    await connection.clientFor("acme");
    const error = await refusal(connection.clientFor("alice"));

    // Assess
    expect(github.apps.minted).toEqual([
      expect.objectContaining({
        account: "acme",
        permissions: {
          metadata: "read",
          secrets: "read",
          actions: "read",
          environments: "read",
          contents: "read",
        },
      }),
    ]);
    expect(error.message).toContain("Repository permissions → Secrets: Read and write");
  });

  it("spends the run's write budget on secret writes only, never on minting tokens", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    const writeBudget = new WritePacer({ clock });
    const connection = createGitHubConnection({
      credential: parseGitHubCredential(app.privateKeyPem, {
        secretId: TOKEN_SECRET,
        stackAppId: String(app.id),
      }),
      client: { baseUrl: github.url, userAgent: "aws-github-akm-test", secondMs: 1, writePacer: writeBudget },
      tokenSecretName: TOKEN_SECRET,
      scope: async () => listing("acme/api"),
      clock,
    });

    // Act
    const client = await connection.clientFor("acme");
    const { data } = await client.request("GET /repos/{owner}/{repo}/actions/secrets/public-key", {
      owner: "acme",
      repo: "api",
    });
    await client.request("PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}", {
      owner: "acme",
      repo: "api",
      secret_name: "AWS_ACCESS_KEY_ID",
      encrypted_value: sealSecret(new SecretValue("AKIAEXAMPLEKEYID", false), data.key),
      key_id: data.key_id,
    });

    // Assess
    expect(github.apps.minted).toHaveLength(1);
    expect(writeBudget.recent()).toHaveLength(1);
  });

  it("says the App is not installed on an owner, with the link that installs it", async () => {
    // Act
    const error = await refusal(appConnection(listing("acme/api")).clientFor("acme"));

    // Assess
    expect(error.message).toBe(
      "The GitHub App key-rotator is not installed on acme, so it cannot write the secrets listed for acme. Nothing was changed.",
    );
    expect(error.fix).toContain("/apps/key-rotator/installations/new");
    expect(github.apps.minted).toEqual([]);
  });

  it("names each permission the installation lacks, as the App's settings page names it, and mints nothing", async () => {
    // Prepare
    github.apps.install(app.id, "acme", { permissions: { metadata: "read", secrets: "read" } });

    // Act
    const error = await refusal(appConnection(listing("acme/api")).clientFor("acme"));

    // Assess
    expect(error.message).toContain(
      "lacks permissions the listed targets of acme need: Repository permissions → Secrets: Read and write; Repository permissions → Actions: Read-only; Repository permissions → Environments: Read-only; Repository permissions → Contents: Read-only.",
    );
    expect(error.fix).toContain("Review request");
    expect(github.apps.minted).toEqual([]);
  });

  it("says an installation is suspended", async () => {
    // Prepare
    github.apps.install(app.id, "acme", { suspended: true });

    // Act
    const error = await refusal(appConnection(listing("acme/api")).clientFor("acme"));

    // Assess
    expect(error.message).toContain("installation on acme is suspended");
    expect(error.fix).toContain("Unsuspend");
  });

  it("mints for the whole installation when GitHub refuses the narrowing, saying so, so the checks name the repository", async () => {
    // Prepare: the installation has api only; the list also names web.
    github.apps.install(app.id, "acme", { repositories: ["api"] });
    const connection = appConnection(listing("acme/api", "acme/web"));

    // Act
    const statuses = [await getRepo(connection, "acme", "api"), await getRepo(connection, "acme", "web")];

    // Assess
    expect(statuses).toEqual([200, 404]);
    expect(github.apps.minted).toEqual([expect.objectContaining({ repositories: "all" })]);
    expect(notes[0]).toContain(
      "GitHub refused to narrow the installation token for acme to the 2 listed repositories (422",
    );
  });

  it("does not narrow to repositories for an organization secret every repository sees", async () => {
    // Prepare
    github.apps.addApp({ slug: "unused", permissions: {} });
    const orgApp = github.apps.addApp({
      slug: "org-rotator",
      permissions: { ...ACTIONS_PERMISSIONS, organization_secrets: "write" },
    });
    app = orgApp;
    github.apps.install(orgApp.id, "acme");
    const target: Target = {
      kind: "organization",
      owner: "acme",
      store: "actions",
      visibility: "all",
      selectedRepositories: [],
    };

    // Act
    await appConnection({ targets: [target], selections: [] }).clientFor("acme");

    // Assess
    expect(github.apps.minted).toEqual([
      expect.objectContaining({
        repositories: "all",
        permissions: expect.objectContaining({ organization_secrets: "write" }),
      }),
    ]);
    expect(notes[0]).toContain("an organization secret of acme is visible to all repositories");
  });

  it("says GitHub refused the App's credentials when the key is not the App's", async () => {
    // Prepare
    github.apps.install(app.id, "acme");
    const otherKey = String(
      generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }),
    );

    // Act
    const error = await refusal(appConnection(listing("acme/api"), otherKey).whoAmI());

    // Assess
    expect(error.message).toContain(
      `GitHub refused the GitHub App credentials for GET /app (401 A JSON web token could not be decoded): the private key in secret ${TOKEN_SECRET} does not belong to App ${app.id}`,
    );
    expect(error.fix).toContain("pGitHubAppId");
  });
});
