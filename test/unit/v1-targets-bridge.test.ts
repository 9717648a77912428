/**
 * BRIDGE (issue 10): until the lifecycle takes targets, the rotation reads repositories' Actions targets only and
 * stops before any change on every other kind. Delete this file with src/lifecycle/v1-targets-bridge.ts.
 */
import { describe, expect, it } from "vitest";
import { AkmError } from "../../src/errors.ts";
import { loadReposConfig } from "../../src/lifecycle/preflight.ts";
import { MemoryConfigStore } from "../support/fakes.ts";

function storeWith(...entries: unknown[]): MemoryConfigStore {
  const store = new MemoryConfigStore();
  store.text = JSON.stringify({ Version: 2, Repos: entries });
  return store;
}

describe("the rotation's reading of a version 2 list, until it writes every kind", () => {
  it("rotates repositories' Actions secrets and leaves Unmanaged places out", async () => {
    // Prepare
    const store = storeWith(
      { Owner: "o", Name: "api" },
      { Owner: "o", Name: "legacy", Unmanaged: true },
      { Owner: "o", Name: "web" },
    );

    // Act
    const { config } = await loadReposConfig(store);

    // Assess
    expect(config.repos).toEqual([
      { owner: "o", name: "api" },
      { owner: "o", name: "web" },
    ]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "an environment",
      { Type: "environment", Owner: "o", Name: "api", Environment: "prod" },
      "o/api (environment prod)",
    ],
    ["Dependabot secrets", { Owner: "o", Name: "api", Secrets: "dependabot" }, "o/api (Dependabot)"],
    [
      "an organization secret",
      { Type: "organization", Owner: "o", Visibility: "all" },
      "organization o (Actions)",
    ],
    ["a selection", { Owner: "o", Topic: "aws" }, "repositories of o with topic aws"],
    [
      "a repository with its own names",
      { Owner: "o", Name: "web", SecretNameKeyId: "K", SecretNameSecretKey: "S" },
      'o/web (own secret names or KeyIdAs "variable")',
    ],
  ])("stops before any change on %s, saying it is not supported yet", async (_, entry, label) => {
    // Prepare
    const store = storeWith({ Owner: "o", Name: "api" }, entry);

    // Act
    const loading = loadReposConfig(store);

    // Assess
    await expect(loading).rejects.toBeInstanceOf(AkmError);
    await expect(loading).rejects.toThrow(
      `this version's rotation does not write yet: ${label}. Nothing was changed.`,
    );
  });
});
