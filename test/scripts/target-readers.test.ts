/**
 * The R1 view of the stack fixture: what each listed target's readers would read on the emulated GitHub, and which
 * readers a write to one scope can change (the write hook checks only those).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../scripts/local-stack/github-emulator/index.ts";
import { listedTargets, TargetReaders } from "../../scripts/local-stack/target-readers.ts";

const ORG = "acme";
const NAMES = { keyId: "AWS_ACCESS_KEY_ID", secretKey: "AWS_SECRET_ACCESS_KEY" } as const;

function readersOf(github: GitHubEmulator, entries: readonly Record<string, unknown>[]): TargetReaders {
  const listed = listedTargets(JSON.stringify({ Version: 2, Repos: entries }));
  if (listed === undefined) throw new Error("the test's list does not parse");
  return new TargetReaders(github, listed, NAMES);
}

describe("TargetReaders", () => {
  let github: GitHubEmulator;

  beforeEach(async () => {
    github = await startGitHubEmulator();
    github.addOrg(ORG);
    for (const name of ["app", "web", "api"]) github.addRepo(ORG, name);
    github.addEnvironment(ORG, "app", "production");
  });

  afterEach(async () => {
    await github.close();
  });

  it("reads an environment target where its jobs read it, the environment's copy over the repository's", () => {
    // Prepare
    const readers = readersOf(github, [
      { Type: "environment", Owner: ORG, Name: "app", Environment: "production" },
    ]);
    github.setSecret(ORG, "app", NAMES.keyId, "AKIAREPO");
    github.setSecretAt(
      { kind: "environment", owner: ORG, repo: "app", environment: "production" },
      NAMES.keyId,
      "AKIAENV",
    );

    // Act
    const reads = readers.all();

    // Assess
    expect(reads.map((read) => [read.reader, read.keyId, read.keyIdScope?.kind])).toEqual([
      [`${ORG}/app (environment production)`, "AKIAENV", "environment"],
    ]);
  });

  it("reads an organization target in exactly the repositories it is visible to", () => {
    // Prepare
    const readers = readersOf(github, [
      {
        Type: "organization",
        Owner: ORG,
        Secrets: "dependabot",
        Visibility: "selected",
        Repositories: ["web"],
      },
    ]);
    github.setSecretAt({ kind: "organization", org: ORG, store: "dependabot" }, NAMES.keyId, "AKIAORG", {
      visibility: "selected",
      repositories: ["web"],
    });

    // Act
    const reads = readers.all();

    // Assess
    expect(reads.map((read) => [read.reader, read.keyId])).toEqual([
      [`${ORG}/web reading organization ${ORG} (Dependabot)`, "AKIAORG"],
    ]);
  });

  it("reads the key ID of a KeyIdAs variable target from the variable and the secret key from the secret", () => {
    // Prepare
    const readers = readersOf(github, [{ Owner: ORG, Name: "web", KeyIdAs: "variable" }]);
    github.setVariableAt(
      { kind: "repository", owner: ORG, repo: "web", store: "actions" },
      NAMES.keyId,
      "AKIAVAR",
    );
    github.setSecret(ORG, "web", NAMES.secretKey, "secret-of-test");

    // Act
    const reads = readers.all();

    // Assess
    expect(reads.map((read) => [read.keyId, read.secretKey])).toEqual([["AKIAVAR", "secret-of-test"]]);
  });

  it("leaves out a reader whose key ID comes from a copy the list marks Unmanaged", () => {
    // Prepare
    const readers = readersOf(github, [
      { Type: "organization", Owner: ORG, Visibility: "all" },
      { Owner: ORG, Name: "app", Unmanaged: true },
    ]);
    github.setSecretAt({ kind: "organization", org: ORG, store: "actions" }, NAMES.keyId, "AKIAORG");
    github.setSecret(ORG, "app", NAMES.keyId, "AKIAOTHERUSER");

    // Act
    const reads = readers.all();

    // Assess
    expect(reads.map((read) => [read.reader, read.keyId])).toEqual([
      [`${ORG}/web reading organization ${ORG} (Actions)`, "AKIAORG"],
      [`${ORG}/api reading organization ${ORG} (Actions)`, "AKIAORG"],
    ]);
  });

  it("gives for a write to one repository only that repository's readers, of its own targets and the organization's", () => {
    // Prepare
    const readers = readersOf(github, [
      { Owner: ORG, Name: "app" },
      { Owner: ORG, Name: "web" },
      { Owner: ORG, Name: "web", Secrets: "codespaces" },
      { Type: "organization", Owner: ORG, Visibility: "all" },
    ]);
    github.setSecretAt({ kind: "organization", org: ORG, store: "actions" }, NAMES.keyId, "AKIAORG");

    // Act
    const reads = readers.affectedBy({ kind: "repository", owner: ORG, repo: "web", store: "actions" });

    // Assess
    expect(reads.map((read) => read.reader)).toEqual([
      `${ORG}/web`,
      `${ORG}/web reading organization ${ORG} (Actions)`,
    ]);
  });

  it("gives for a write to an organization every reader in it that the write can change", () => {
    // Prepare
    const readers = readersOf(github, [
      { Owner: ORG, Name: "app" },
      { Type: "environment", Owner: ORG, Name: "app", Environment: "production" },
      { Owner: ORG, Name: "app", Secrets: "dependabot" },
      { Type: "organization", Owner: ORG, Visibility: "selected", Repositories: ["app", "api"] },
    ]);
    github.setSecretAt({ kind: "organization", org: ORG, store: "actions" }, NAMES.keyId, "AKIAORG", {
      visibility: "selected",
      repositories: ["app", "api"],
    });

    // Act
    const reads = readers.affectedBy({ kind: "organization", org: ORG, store: "actions" });

    // Assess
    expect(reads.map((read) => read.reader).sort()).toEqual([
      `${ORG}/api reading organization ${ORG} (Actions)`,
      `${ORG}/app`,
      `${ORG}/app (environment production)`,
      `${ORG}/app reading organization ${ORG} (Actions)`,
    ]);
  });
});
