import sodium from "libsodium-wrappers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { client, json, OWNER, REPO, seal, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

const SECRETS = `/repos/${OWNER}/${REPO}/actions/secrets`;

describe("Actions secrets", () => {
  let github: GitHubEmulator;

  beforeAll(async () => {
    await sodium.ready;
  });

  afterEach(async () => {
    await github.close();
  });

  it("serves the repository public key as a base64 X25519 key with a key id", async () => {
    // Prepare
    github = await startEmulatorWithRepo();

    // Act
    const response = await client(github, WRITE_TOKEN).get(`${SECRETS}/public-key`);

    // Assess
    const body = await json(response);
    expect(response.status).toBe(200);
    expect(body).toEqual({
      key_id: github.publicKey(OWNER, REPO).keyId,
      key: github.publicKey(OWNER, REPO).key,
    });
    expect(Buffer.from(String(body.key), "base64")).toHaveLength(sodium.crypto_box_PUBLICKEYBYTES);
  });

  it("creates a secret with 201 and updates it with 204", async () => {
    github = await startEmulatorWithRepo();
    const api = client(github, WRITE_TOKEN);

    const created = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIAFIRST");
    const updated = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIASECOND");

    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({});
    expect(updated.status).toBe(204);
    expect(await updated.text()).toBe("");
    expect(github.violations).toEqual([]);
  });

  it("stores the decrypted value under the upper-cased name", async () => {
    github = await startEmulatorWithRepo();

    await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "aws_secret_access_key", "wJalr/secret+value");

    expect(github.secretValue(OWNER, REPO, "AWS_SECRET_ACCESS_KEY")).toBe("wJalr/secret+value");
    expect(github.secretNames(OWNER, REPO)).toEqual(["AWS_SECRET_ACCESS_KEY"]);
  });

  it("reports created_at and updated_at, keeping created_at across updates", async () => {
    // Prepare
    let now = Date.parse("2025-01-02T03:04:05.678Z");
    github = await startEmulatorWithRepo({ now: () => now });
    const api = client(github, WRITE_TOKEN);
    await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIAFIRST");
    now += 90_000;
    await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIASECOND");

    // Act
    const response = await api.get(`${SECRETS}/aws_access_key_id`);

    // Assess
    expect(await json(response)).toEqual({
      name: "AWS_ACCESS_KEY_ID",
      created_at: "2025-01-02T03:04:05Z",
      updated_at: "2025-01-02T03:05:35Z",
    });
    expect(github.secretMeta(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toEqual({
      name: "AWS_ACCESS_KEY_ID",
      createdAt: "2025-01-02T03:04:05Z",
      updatedAt: "2025-01-02T03:05:35Z",
    });
  });

  it("answers 404 for a secret that does not exist", async () => {
    github = await startEmulatorWithRepo();

    const response = await client(github, WRITE_TOKEN).get(`${SECRETS}/NOPE`);

    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ message: "Not Found", status: "404" });
    expect(github.violations).toEqual([]);
  });

  it("rejects a PUT whose sealed box does not open with the repo key", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    const { keyId } = github.publicKey(OWNER, REPO);
    const otherKey = sodium.to_base64(sodium.crypto_box_keypair().publicKey, sodium.base64_variants.ORIGINAL);

    // Act
    const response = await client(github, WRITE_TOKEN).put(`${SECRETS}/AWS_ACCESS_KEY_ID`, {
      encrypted_value: seal("AKIAWRONGKEY", otherKey),
      key_id: keyId,
    });

    // Assess
    expect(response.status).toBe(422);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBeUndefined();
    expect(github.violations).toEqual([
      `PUT ${SECRETS}/AWS_ACCESS_KEY_ID (actions/create-or-update-repo-secret): ${OWNER}/${REPO} secret AWS_ACCESS_KEY_ID: encrypted_value does not open with the repository key ${keyId} (not a sealed box for it)`,
    ]);
  });

  it("rejects the old key id with 422 once the repository key is rotated", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    const api = client(github, WRITE_TOKEN);
    const old = github.publicKey(OWNER, REPO);
    await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIAFIRST");

    // Act
    const rotated = github.rotateRepoPublicKey(OWNER, REPO);
    const stale = await api.put(`${SECRETS}/AWS_ACCESS_KEY_ID`, {
      encrypted_value: seal("AKIASTALE", old.key),
      key_id: old.keyId,
    });
    const fresh = await api.putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIAFRESH");

    // Assess
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(stale.status).toBe(422);
    expect(fresh.status).toBe(204);
    expect(github.secretValue(OWNER, REPO, "AWS_ACCESS_KEY_ID")).toBe("AKIAFRESH");
    // A key rotated between GET public-key and PUT is a race, not a client bug.
    expect(github.violations).toEqual([]);
  });

  it("records a violation when a value is sealed with another repository's key", async () => {
    github = await startEmulatorWithRepo();
    github.addRepo(OWNER, "other");
    const other = github.publicKey(OWNER, "other");

    const response = await client(github, WRITE_TOKEN).put(`${SECRETS}/AWS_ACCESS_KEY_ID`, {
      encrypted_value: seal("AKIAMIXEDUP", other.key),
      key_id: other.keyId,
    });

    expect(response.status).toBe(422);
    expect(github.violations).toHaveLength(1);
    expect(github.violations[0]).toContain(`key_id ${other.keyId} was never issued by this repository`);
  });

  it("refuses secret names GitHub refuses", async () => {
    github = await startEmulatorWithRepo();

    const response = await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "GITHUB_TOKEN", "x");

    expect(response.status).toBe(422);
    expect(await json(response)).toMatchObject({ message: "Secret names must not start with GITHUB_." });
    expect(github.violations).toEqual([
      `PUT ${SECRETS}/GITHUB_TOKEN (actions/create-or-update-repo-secret): ${OWNER}/${REPO} secret GITHUB_TOKEN: invalid secret name`,
    ]);
  });

  it("lists secrets by name with a total count and pagination links", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    github.setSecret(OWNER, REPO, "B_SECRET", "b");
    github.setSecret(OWNER, REPO, "A_SECRET", "a");

    // Act
    const response = await client(github, WRITE_TOKEN).get(`${SECRETS}?per_page=1`);

    // Assess
    expect(await json(response)).toMatchObject({ total_count: 2, secrets: [{ name: "A_SECRET" }] });
    expect(response.headers.get("link")).toContain('page=2>; rel="next"');
  });

  it("deletes a secret with 204", async () => {
    github = await startEmulatorWithRepo();
    github.setSecret(OWNER, REPO, "OLD", "x");

    const response = await client(github, WRITE_TOKEN).request("DELETE", `${SECRETS}/OLD`);

    expect(response.status).toBe(204);
    expect(github.secretValue(OWNER, REPO, "OLD")).toBeUndefined();
  });

  it("fails fast, naming the repository, when a test asks about a repository it never added", async () => {
    github = await startEmulatorWithRepo();

    expect(() => github.secretValue(OWNER, "typo", "X")).toThrow(
      "github-emulator: repository octo-org/typo does not exist; call addRepo() first",
    );
  });
});
