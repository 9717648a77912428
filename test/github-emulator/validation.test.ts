import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import {
  client,
  json,
  OWNER,
  READ_TOKEN,
  REPO,
  seal,
  startEmulatorWithRepo,
  WRITE_TOKEN,
} from "./helpers.ts";

const SECRET_PATH = `/repos/${OWNER}/${REPO}/actions/secrets/AWS_ACCESS_KEY_ID`;

describe("request and response validation", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startEmulatorWithRepo();
  });

  afterEach(async () => {
    await github.close();
  });

  it("rejects a PUT without key_id with 422 and records the violation", async () => {
    // Prepare
    const { key } = github.publicKey(OWNER, REPO);

    // Act
    const response = await client(github, WRITE_TOKEN).put(SECRET_PATH, {
      encrypted_value: seal("AKIA1", key),
    });

    // Assess
    expect(response.status).toBe(422);
    expect(await json(response)).toMatchObject({ message: expect.stringContaining("key_id"), status: "422" });
    expect(github.violations).toEqual([
      `PUT ${SECRET_PATH} (actions/create-or-update-repo-secret): request does not match the OpenAPI description: body: (root) must have required property 'key_id'`,
    ]);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
  });

  it("rejects an encrypted_value that is not base64", async () => {
    const { keyId } = github.publicKey(OWNER, REPO);

    const response = await client(github, WRITE_TOKEN).put(SECRET_PATH, {
      encrypted_value: "not base64!",
      key_id: keyId,
    });

    expect(response.status).toBe(422);
    expect(github.violations).toHaveLength(1);
    expect(github.violations[0]).toContain("/encrypted_value must match pattern");
  });

  it("answers 400 Problems parsing JSON for a body that is not JSON", async () => {
    const response = await client(github, WRITE_TOKEN).request("PUT", SECRET_PATH, "{not json");

    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ message: "Problems parsing JSON" });
    expect(github.violations).toEqual([
      `PUT ${SECRET_PATH} (actions/create-or-update-repo-secret): request body is not JSON`,
    ]);
  });

  it("rejects a query parameter of the wrong type", async () => {
    const response = await client(github, WRITE_TOKEN).get(
      `/repos/${OWNER}/${REPO}/actions/secrets?per_page=many`,
    );

    expect(response.status).toBe(422);
    expect(github.violations).toHaveLength(1);
    expect(github.violations[0]).toContain("query parameters: /per_page must be integer");
  });

  it("answers 404 and records a violation for a route it does not emulate", async () => {
    // Prepare
    const api = client(github, WRITE_TOKEN);

    // Act
    const documented = await api.get(`/repos/${OWNER}/${REPO}/issues`);
    const unknown = await api.get("/no/such/route");

    // Assess
    expect(documented.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ message: "Not Found" });
    expect(github.violations).toEqual([
      `GET /repos/${OWNER}/${REPO}/issues: route not emulated: operation issues/list-for-repo is not implemented by the emulator`,
      "GET /no/such/route: route not emulated: no GitHub REST operation has this method and path",
    ]);
  });

  it("sends only documented answers from every endpoint, errors included", async () => {
    // Prepare
    const writer = client(github, WRITE_TOKEN);
    const reader = client(github, READ_TOKEN);
    const stranger = client(github, "ghp_unknown");
    const secrets = `/repos/${OWNER}/${REPO}/actions/secrets`;

    // Act
    const statuses = [
      (await writer.get("/user")).status,
      (await writer.get(`/repos/${OWNER}/${REPO}`)).status,
      (await writer.get(`${secrets}/public-key`)).status,
      (await writer.get(`${secrets}/AWS_ACCESS_KEY_ID`)).status,
      (await writer.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1")).status,
      (await writer.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA2")).status,
      (await writer.get(`${secrets}/AWS_ACCESS_KEY_ID`)).status,
      (await writer.get(`${secrets}?per_page=1&page=1`)).status,
      (await writer.request("DELETE", `${secrets}/AWS_ACCESS_KEY_ID`)).status,
      (await reader.get(`/repos/${OWNER}/${REPO}`)).status,
      (await reader.get(`${secrets}/public-key`)).status,
      (await writer.get("/repos/octo-org/missing")).status,
      (await stranger.get("/user")).status,
      (await client(github, undefined).get("/user")).status,
    ];

    // Assess
    expect(statuses).toEqual([200, 200, 200, 404, 201, 204, 200, 200, 204, 200, 403, 404, 401, 401]);
    expect(github.violations).toEqual([]);
  });
});
