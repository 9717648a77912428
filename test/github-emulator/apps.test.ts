import { generateKeyPairSync, sign } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EmulatedAppHandle, GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { client, json, OWNER, REPO, startEmulatorWithRepo } from "./helpers.ts";

/** A JWT with the given claims, signed RS256 with `privateKeyPem` (default: the App's key). */
function jwt(
  app: EmulatedAppHandle,
  claims: { iat: number; exp: number; iss?: string | number },
  privateKeyPem = app.privateKeyPem,
): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part({ iss: app.id, ...claims })}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), privateKeyPem).toString("base64url")}`;
}

describe("GitHub Apps in the emulator", () => {
  let github: GitHubEmulator;
  let nowMs: number;
  let app: EmulatedAppHandle;
  /** A valid JWT for `app` at the emulator's current time. */
  const appJwt = () => {
    const now = Math.floor(nowMs / 1000);
    return jwt(app, { iat: now - 30, exp: now + 570 });
  };

  beforeEach(async () => {
    nowMs = Date.parse("2026-03-01T12:00:00Z");
    github = await startEmulatorWithRepo({ now: () => nowMs });
    github.addRepo(OWNER, "other");
    github.addRepo("someone", "tools");
    app = github.apps.addApp({
      slug: "key-rotator",
      permissions: {
        secrets: "write",
        metadata: "read",
        environments: "write",
        actions_variables: "write",
      },
    });
  });

  afterEach(async () => {
    expect(github.violations).toEqual([]);
    await github.close();
  });

  it("names the App on GET /app for a JWT signed with its private key", async () => {
    // Act
    const response = await client(github, undefined).request("GET", "/app", undefined, {
      authorization: `Bearer ${appJwt()}`,
    });

    // Assess
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ id: app.id, slug: "key-rotator" });
  });

  it.each([
    [
      "signed with another key",
      () => {
        const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
        const now = Math.floor(nowMs / 1000);
        return jwt(
          app,
          { iat: now - 30, exp: now + 570 },
          String(other.export({ type: "pkcs1", format: "pem" })),
        );
      },
      "A JSON web token could not be decoded",
    ],
    [
      "expiring more than 10 minutes ahead",
      () => {
        const now = Math.floor(nowMs / 1000);
        return jwt(app, { iat: now, exp: now + 601 });
      },
      "'Expiration time' claim ('exp') is too far in the future",
    ],
    [
      "already expired",
      () => {
        const now = Math.floor(nowMs / 1000);
        return jwt(app, { iat: now - 700, exp: now - 100 });
      },
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    ],
    [
      "issued in the future",
      () => {
        const now = Math.floor(nowMs / 1000);
        return jwt(app, { iat: now + 60, exp: now + 300 });
      },
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    ],
    [
      "of an unknown App",
      () => {
        const now = Math.floor(nowMs / 1000);
        return jwt(app, { iat: now - 30, exp: now + 570, iss: 42 });
      },
      "A JSON web token could not be decoded",
    ],
    ["not a JWT but a token", () => "ghs_notAJsonWebToken", "A JSON web token could not be decoded"],
  ])("refuses a JWT %s with 401 and GitHub's message", async (_case, token, message) => {
    // Act
    const response = await client(github, undefined).request("GET", "/app", undefined, {
      authorization: `Bearer ${token()}`,
    });

    // Assess
    expect(response.status).toBe(401);
    expect(await json(response)).toMatchObject({ message });
  });

  it("finds an organization's installation through /orgs and a user's through /users only", async () => {
    // Prepare
    const orgInstallation = github.apps.install(app.id, OWNER);
    const userInstallation = github.apps.install(app.id, "someone", { type: "User" });
    const jwtClient = client(github, undefined);
    const get = (path: string) =>
      jwtClient.request("GET", path, undefined, { authorization: `Bearer ${appJwt()}` });

    // Act
    const answers = await Promise.all([
      get(`/orgs/${OWNER}/installation`),
      get("/orgs/someone/installation"),
      get("/users/someone/installation"),
      get(`/repos/${OWNER}/${REPO}/installation`),
      get("/orgs/nobody/installation"),
    ]);

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 200, 200, 404]);
    expect(await json(answers[0] as Response)).toMatchObject({
      id: orgInstallation,
      target_type: "Organization",
    });
    expect(await json(answers[2] as Response)).toMatchObject({ id: userInstallation, target_type: "User" });
    expect(await json(answers[3] as Response)).toMatchObject({ id: orgInstallation });
  });

  it("mints a token with only the asked permissions and repositories, which reaches nothing else", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER);

    // Act
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      { permissions: { secrets: "write", metadata: "read" }, repositories: [REPO] },
      { authorization: `Bearer ${appJwt()}` },
    );

    // Assess
    expect(minted.status).toBe(201);
    const body = await json(minted);
    expect(body).toMatchObject({
      expires_at: "2026-03-01T13:00:00Z",
      permissions: { secrets: "write", metadata: "read" },
      repository_selection: "selected",
    });
    const token = String(body.token);
    expect(token).toMatch(/^ghs_/);
    const installed = client(github, token);
    expect((await installed.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")).status).toBe(201);
    expect((await installed.get(`/repos/${OWNER}/other`)).status).toBe(404);
    expect((await installed.get("/repos/someone/tools")).status).toBe(404);
    expect(github.apps.minted).toEqual([
      expect.objectContaining({
        installationId: installation,
        permissions: { secrets: "write", metadata: "read" },
        repositories: [`${OWNER}/${REPO}`],
      }),
    ]);
  });

  it("answers a token without the Secrets permission 403 Resource not accessible by integration", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER);
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      { permissions: { metadata: "read" } },
      { authorization: `Bearer ${appJwt()}` },
    );
    const token = String((await json(minted)).token);

    // Act
    const response = await client(github, token).get(`/repos/${OWNER}/${REPO}/actions/secrets/public-key`);

    // Assess
    expect(response.status).toBe(403);
    expect(await json(response)).toMatchObject({ message: "Resource not accessible by integration" });
    expect(response.headers.get("x-accepted-github-permissions")).toBe("secrets=read");
  });

  it.each([
    [
      "a permission the installation was not granted",
      { permissions: { organization_secrets: "write" } },
      "The permissions requested are not granted to this installation.",
    ],
    [
      "a repository the installation cannot reach",
      { repositories: ["missing"] },
      "There is at least one repository that does not exist or is not accessible to the parent installation.",
    ],
  ])("refuses a token for %s with 422", async (_case, request, message) => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER, { repositories: [REPO] });

    // Act
    const response = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      request,
      { authorization: `Bearer ${appJwt()}` },
    );

    // Assess
    expect(response.status).toBe(422);
    expect(await json(response)).toMatchObject({ message });
    expect(github.apps.minted).toEqual([]);
  });

  it("refuses a token for a suspended installation with 403", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER, { suspended: true });

    // Act
    const response = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      {},
      { authorization: `Bearer ${appJwt()}` },
    );

    // Assess
    expect(response.status).toBe(403);
    expect(await json(response)).toMatchObject({ message: "This installation has been suspended" });
  });

  it("lets an installation token work for one hour on the emulator's clock, then answers 401", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER);
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      {},
      { authorization: `Bearer ${appJwt()}` },
    );
    const installed = client(github, String((await json(minted)).token));
    const path = `/repos/${OWNER}/${REPO}`;

    // Act
    nowMs += 59 * 60_000;
    const before = await installed.get(path);
    nowMs += 60_000;
    const after = await installed.get(path);

    // Assess
    expect(before.status).toBe(200);
    expect(before.headers.get("github-authentication-token-expiration")).toBeNull();
    expect(after.status).toBe(401);
    expect(await json(after)).toMatchObject({ message: "Bad credentials" });
  });

  it("expires every minted token at once when a test asks, as if its hour had passed", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER);
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      {},
      { authorization: `Bearer ${appJwt()}` },
    );
    const installed = client(github, String((await json(minted)).token));

    // Act
    github.apps.expireTokens();

    // Assess
    expect((await installed.get(`/repos/${OWNER}/${REPO}`)).status).toBe(401);
  });

  it("answers GET /user with an installation token 403, as an installation has no user", async () => {
    // Prepare
    const installation = github.apps.install(app.id, OWNER);
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      {},
      { authorization: `Bearer ${appJwt()}` },
    );

    // Act
    const response = await client(github, String((await json(minted)).token)).get("/user");

    // Assess
    expect(response.status).toBe(403);
    expect(await json(response)).toMatchObject({ message: "Resource not accessible by integration" });
  });

  it.each([
    [
      "an environment's public key",
      "/environments/production/secrets/public-key",
      "secrets=read,environments=read",
    ],
    ["the repository's Dependabot public key", "/dependabot/secrets/public-key", "dependabot_secrets=read"],
    ["the repository's Actions variables", "/actions/variables", "actions_variables=read"],
    ["the repository's environments", "/environments", "actions=read"],
    ["a workflow file", "/contents/.github/workflows/deploy.yml", "contents=read"],
  ])(
    "refuses %s to an installation token minted without that permission, naming the permission",
    async (_what, path, accepted) => {
      // Prepare
      github.addEnvironment(OWNER, REPO, "production");
      github.setWorkflow(OWNER, REPO, "deploy.yml", "on: push\n");
      const installation = github.apps.install(app.id, OWNER);
      const minted = await client(github, undefined).request(
        "POST",
        `/app/installations/${installation}/access_tokens`,
        { permissions: { secrets: "write", metadata: "read" } },
        { authorization: `Bearer ${appJwt()}` },
      );

      // Act
      const response = await client(github, String((await json(minted)).token)).get(
        `/repos/${OWNER}/${REPO}${path}`,
      );

      // Assess
      expect(response.status).toBe(403);
      expect(response.headers.get("x-accepted-github-permissions")).toBe(accepted);
      expect(await json(response)).toMatchObject({ message: "Resource not accessible by integration" });
    },
  );

  it("refuses an organization's secrets to an installation token without the organization permission, and another organization's to any", async () => {
    // Prepare
    github.addOrg(OWNER);
    github.addOrg("other-org");
    const installation = github.apps.install(app.id, OWNER);
    const minted = await client(github, undefined).request(
      "POST",
      `/app/installations/${installation}/access_tokens`,
      {},
      { authorization: `Bearer ${appJwt()}` },
    );
    const installed = client(github, String((await json(minted)).token));

    // Act
    const own = await installed.get(`/orgs/${OWNER}/actions/secrets/public-key`);
    const other = await installed.get("/orgs/other-org/actions/secrets/public-key");

    // Assess
    expect(own.status).toBe(403);
    expect(own.headers.get("x-accepted-github-permissions")).toBe("organization_secrets=read");
    expect(other.status).toBe(404);
  });

  it.each([
    [
      "an environment's secrets",
      "secrets/public-key",
      { environments: "read" },
      "secrets=read,environments=read",
    ],
    ["an environment's secrets", "secrets/public-key", { secrets: "read" }, "secrets=read,environments=read"],
    [
      "an environment's variables",
      "variables",
      { environments: "read" },
      "actions_variables=read,environments=read",
    ],
  ])(
    "refuses %s to an installation token without both permissions GitHub lists for them (%s, granted %j)",
    async (_what, path, permissions, accepted) => {
      // Prepare
      github.addEnvironment(OWNER, REPO, "production");
      const installation = github.apps.install(app.id, OWNER);
      const minted = await client(github, undefined).request(
        "POST",
        `/app/installations/${installation}/access_tokens`,
        { permissions },
        { authorization: `Bearer ${appJwt()}` },
      );

      // Act
      const response = await client(github, String((await json(minted)).token)).get(
        `/repos/${OWNER}/${REPO}/environments/production/${path}`,
      );

      // Assess
      expect(response.status).toBe(403);
      expect(response.headers.get("x-accepted-github-permissions")).toBe(accepted);
    },
  );

  it.each([
    ["secrets/public-key", { environments: "read", secrets: "read" }],
    ["variables", { environments: "read", actions_variables: "read" }],
  ])(
    "lets an installation token with both permissions read an environment's %s",
    async (path, permissions) => {
      // Prepare
      github.addEnvironment(OWNER, REPO, "production");
      const installation = github.apps.install(app.id, OWNER);
      const minted = await client(github, undefined).request(
        "POST",
        `/app/installations/${installation}/access_tokens`,
        { permissions },
        { authorization: `Bearer ${appJwt()}` },
      );

      // Act
      const response = await client(github, String((await json(minted)).token)).get(
        `/repos/${OWNER}/${REPO}/environments/production/${path}`,
      );

      // Assess
      expect(response.status).toBe(200);
    },
  );
});
