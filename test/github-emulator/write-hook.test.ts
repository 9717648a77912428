import { afterEach, describe, expect, it } from "vitest";
import type {
  GitHubEmulator,
  SecretWrittenEvent,
  ServedRequest,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { client, OWNER, REPO, startEmulatorWithRepo, WRITE_TOKEN } from "./helpers.ts";

describe("the write hook", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("runs after the secret is stored and before the answer is sent", async () => {
    // Prepare
    const seen: { event: SecretWrittenEvent; value: string | undefined; answered: boolean }[] = [];
    github = await startEmulatorWithRepo({
      onSecretWritten: (event) => {
        seen.push({
          event,
          value: github.secretValueAt(event.scope, event.name),
          answered: github.requests.some((entry) => entry.method === "PUT"),
        });
      },
    });

    // Act
    const response = await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "aws_access_key_id", "AKIA1");

    // Assess
    expect(response.status).toBe(201);
    expect(seen).toEqual([
      {
        event: {
          what: "secret",
          scope: { kind: "repository", owner: OWNER, repo: REPO, store: "actions" },
          owner: OWNER,
          repo: REPO,
          name: "AWS_ACCESS_KEY_ID",
        },
        value: "AKIA1",
        answered: false,
      },
    ]);
  });

  it("records the hook's error as an invariant failure and still answers", async () => {
    // Prepare
    github = await startEmulatorWithRepo({
      onSecretWritten: async ({ name }) => {
        if (name === "AWS_ACCESS_KEY_ID") throw new Error("key AKIA… is not Active in IAM");
      },
    });

    // Act
    const response = await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");

    // Assess
    expect(response.status).toBe(201);
    expect(github.invariantFailures).toEqual([
      `after writing ${OWNER}/${REPO} AWS_ACCESS_KEY_ID: key AKIA… is not Active in IAM`,
    ]);
    expect(github.violations).toEqual([]);
  });

  it("is not called for refused writes", async () => {
    const events: SecretWrittenEvent[] = [];
    github = await startEmulatorWithRepo({ onSecretWritten: (event) => void events.push(event) });
    github.addFault({ method: "PUT", status: 502 });

    await client(github, WRITE_TOKEN).putSecret(OWNER, REPO, "AWS_ACCESS_KEY_ID", "AKIA1");

    expect(events).toEqual([]);
  });

  it("can be set and removed after the emulator started", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    const names: string[] = [];
    const api = client(github, WRITE_TOKEN);

    // Act
    github.setSecretWrittenHook(({ name }) => void names.push(name));
    await api.putSecret(OWNER, REPO, "FIRST", "1");
    github.setSecretWrittenHook(undefined);
    await api.putSecret(OWNER, REPO, "SECOND", "2");

    // Assess
    expect(names).toEqual(["FIRST"]);
  });
});

describe("the served hook", () => {
  let github: GitHubEmulator;

  afterEach(async () => {
    await github.close();
  });

  it("runs for each answered read, with its operation and parameters, before the answer is sent", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    github.addEnvironment(OWNER, REPO, "production");
    const seen: { request: ServedRequest; answered: boolean }[] = [];
    github.setServedHook((request) => {
      seen.push({
        request,
        answered: github.requests.some((entry) => entry.operationId === request.operationId),
      });
    });

    // Act
    const response = await client(github, WRITE_TOKEN).get(
      `/repos/${OWNER}/${REPO}/environments/production/secrets`,
    );

    // Assess
    expect(response.status).toBe(200);
    expect(seen).toEqual([
      {
        request: {
          method: "GET",
          operationId: "actions/list-environment-secrets",
          params: { owner: OWNER, repo: REPO, environment_name: "production" },
          status: 200,
        },
        answered: false,
      },
    ]);
  });

  it("is not called for a request a fault answers, and records its error as an invariant failure", async () => {
    // Prepare
    github = await startEmulatorWithRepo();
    const operations: string[] = [];
    github.setServedHook(({ operationId }) => {
      operations.push(operationId);
      throw new Error("the clock could not move");
    });
    github.addFault({ route: "repos/get", status: 502 });
    const api = client(github, WRITE_TOKEN);

    // Act
    const faulted = await api.get(`/repos/${OWNER}/${REPO}`);
    const served = await api.get(`/repos/${OWNER}/${REPO}`);

    // Assess
    expect([faulted.status, served.status]).toEqual([502, 200]);
    expect(operations).toEqual(["repos/get"]);
    expect(github.invariantFailures).toEqual(["after serving GET repos/get: the clock could not move"]);
  });
});
