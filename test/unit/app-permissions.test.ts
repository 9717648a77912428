import { describe, expect, it } from "vitest";
import type { Target } from "../../src/domain/target.ts";
import {
  type AccessScope,
  installationAccess,
  MAX_TOKEN_REPOSITORIES,
  missingPermissions,
  readOnlyPermissions,
  targetPermissions,
  withoutCodespaces,
} from "../../src/github/app-permissions.ts";

function scope(targets: readonly Target[], extra: Partial<AccessScope> = {}): AccessScope {
  return { targets, selections: [], ...extra };
}

const repoTarget = (
  owner: string,
  name: string,
  store: "actions" | "dependabot" | "codespaces" = "actions",
): Target => ({
  kind: "repository",
  owner,
  name,
  store,
});

describe("the permissions a GitHub App installation token is minted with", () => {
  it.each<[string, Target, Record<string, string>]>([
    [
      "a repository's Actions secrets (and the environments that could shadow them)",
      repoTarget("acme", "api"),
      { metadata: "read", secrets: "write", actions: "read", environments: "read", contents: "read" },
    ],
    [
      "a repository's Actions secret with the key ID as a variable",
      { ...repoTarget("acme", "api"), keyIdAs: "variable" },
      {
        metadata: "read",
        secrets: "write",
        actions_variables: "write",
        actions: "read",
        environments: "read",
        contents: "read",
      },
    ],
    [
      "an environment's secrets (GitHub lists Environments and Secrets for them)",
      { kind: "environment", owner: "acme", name: "api", environment: "production" },
      { metadata: "read", environments: "write", secrets: "write", actions: "read" },
    ],
    [
      "an environment's secret with the key ID as an environment variable (Environments and Variables)",
      { kind: "environment", owner: "acme", name: "api", environment: "production", keyIdAs: "variable" },
      {
        metadata: "read",
        environments: "write",
        secrets: "write",
        actions_variables: "write",
        actions: "read",
      },
    ],
    [
      "a repository's Dependabot secrets",
      repoTarget("acme", "api", "dependabot"),
      { metadata: "read", dependabot_secrets: "write" },
    ],
    [
      "a repository's Codespaces secrets",
      repoTarget("acme", "api", "codespaces"),
      { metadata: "read", codespaces_secrets: "write" },
    ],
    [
      "an organization's Actions secret",
      {
        kind: "organization",
        owner: "acme",
        store: "actions",
        visibility: "selected",
        selectedRepositories: ["api"],
      },
      {
        metadata: "read",
        organization_secrets: "write",
        secrets: "read",
        actions: "read",
        environments: "read",
        contents: "read",
      },
    ],
    [
      "an organization's Dependabot secret",
      {
        kind: "organization",
        owner: "acme",
        store: "dependabot",
        visibility: "all",
        selectedRepositories: [],
      },
      { metadata: "read", organization_dependabot_secrets: "write", dependabot_secrets: "read" },
    ],
    [
      "an organization's Codespaces secret (GitHub has no read-only level for repository Codespaces secrets)",
      {
        kind: "organization",
        owner: "acme",
        store: "codespaces",
        visibility: "private",
        selectedRepositories: [],
      },
      { metadata: "read", organization_codespaces_secrets: "write", codespaces_secrets: "write" },
    ],
    [
      "an organization's Actions secret with the key ID as an organization variable",
      {
        kind: "organization",
        owner: "acme",
        store: "actions",
        visibility: "all",
        selectedRepositories: [],
        keyIdAs: "variable",
      },
      {
        metadata: "read",
        organization_secrets: "write",
        organization_actions_variables: "write",
        actions_variables: "read",
        secrets: "read",
        actions: "read",
        environments: "read",
        contents: "read",
      },
    ],
  ])("for %s are exactly the ones it needs", (_case, target, expected) => {
    // Act
    const permissions = targetPermissions(target);

    // Assess
    expect(permissions).toEqual(expected);
  });

  it("are the union of an owner's targets, each at the highest level one needs, and ignore other owners", () => {
    // Prepare
    const targets: Target[] = [
      repoTarget("acme", "api"),
      repoTarget("acme", "web", "dependabot"),
      {
        kind: "organization",
        owner: "acme",
        store: "dependabot",
        visibility: "selected",
        selectedRepositories: ["web"],
      },
      repoTarget("other", "tools", "codespaces"),
    ];

    // Act
    const access = installationAccess(scope(targets), "ACME");

    // Assess
    expect(access.permissions).toEqual({
      metadata: "read",
      secrets: "write",
      actions: "read",
      environments: "read",
      contents: "read",
      dependabot_secrets: "write",
      organization_dependabot_secrets: "write",
    });
    expect(access.permissions).not.toHaveProperty("codespaces_secrets");
  });

  it("add Custom properties read for a selection by property, and no narrowing to repositories", () => {
    // Act
    const access = installationAccess(
      scope([], {
        selections: [{ owner: "acme", by: { property: "team", value: "payments" }, store: "actions" }],
      }),
      "acme",
    );

    // Assess
    expect(access.permissions).toMatchObject({ organization_custom_properties: "read", secrets: "write" });
    expect(access.repositories).toBeUndefined();
    expect(access.broadBecause).toContain("by topic or property, found at run time");
  });
});

describe("the repositories a GitHub App installation token is narrowed to", () => {
  it("are the owner's listed repositories, environments' and selected ones included, each once whatever its case", () => {
    // Prepare
    const targets: Target[] = [
      repoTarget("acme", "api"),
      { kind: "environment", owner: "acme", name: "API", environment: "production" },
      {
        kind: "organization",
        owner: "acme",
        store: "actions",
        visibility: "selected",
        selectedRepositories: ["web", "api"],
      },
      repoTarget("other", "tools"),
    ];

    // Act
    const access = installationAccess(scope(targets, { unmanaged: [repoTarget("acme", "legacy")] }), "acme");

    // Assess
    expect(access.repositories).toEqual(["api", "web", "legacy"]);
    expect(access.broadBecause).toBeUndefined();
  });

  it.each<[string, AccessScope, string]>([
    [
      "an organization secret visible to all repositories",
      scope([
        {
          kind: "organization",
          owner: "acme",
          store: "actions",
          visibility: "all",
          selectedRepositories: [],
        },
      ]),
      "visible to all repositories",
    ],
    [
      "an organization secret visible to all private repositories",
      scope([
        {
          kind: "organization",
          owner: "acme",
          store: "actions",
          visibility: "private",
          selectedRepositories: [],
        },
      ]),
      "visible to all private repositories",
    ],
    [
      "more repositories than GitHub narrows a token to",
      scope(Array.from({ length: MAX_TOKEN_REPOSITORIES + 1 }, (_, i) => repoTarget("acme", `repo-${i}`))),
      "GitHub narrows a token to at most 500",
    ],
  ])("are every repository of the installation for %s, and say why", (_case, accessScope, why) => {
    // Act
    const access = installationAccess(accessScope, "acme");

    // Assess
    expect(access.repositories).toBeUndefined();
    expect(access.broadBecause).toContain(why);
  });

  it("are 500 named ones at GitHub's limit", () => {
    // Act
    const access = installationAccess(
      scope(Array.from({ length: MAX_TOKEN_REPOSITORIES }, (_, i) => repoTarget("acme", `repo-${i}`))),
      "acme",
    );

    // Assess
    expect(access.repositories).toHaveLength(500);
  });
});

describe("the permissions an installation lacks", () => {
  it("are named as the App's settings page names them, a read grant not counting for a write need", () => {
    // Act
    const missing = missingPermissions(
      { metadata: "read", secrets: "write", environments: "read", organization_secrets: "write" },
      { metadata: "read", secrets: "read", environments: "write" },
    );

    // Assess
    expect(missing).toEqual([
      "Repository permissions → Secrets: Read and write",
      "Organization permissions → Secrets: Read and write",
    ]);
  });
});

describe("the permissions of a DryRun's tokens", () => {
  it("are read-only, but for Codespaces secrets, which GitHub offers only with write", () => {
    // Act
    const permissions = readOnlyPermissions({
      metadata: "read",
      secrets: "write",
      codespaces_secrets: "write",
    });

    // Assess
    expect(permissions).toEqual({ metadata: "read", secrets: "read", codespaces_secrets: "write" });
  });
});

describe("the scope of a GitHub Enterprise Server run", () => {
  it("leaves out every Codespaces entry (targets, selections, unmanaged) and keeps the rest", () => {
    // Prepare
    const environment: Target = { kind: "environment", owner: "acme", name: "api", environment: "prod" };
    const selection = { owner: "acme", by: { topic: "aws" }, store: "codespaces" } as const;

    // Act
    const kept = withoutCodespaces(
      scope([repoTarget("acme", "api"), repoTarget("acme", "api", "codespaces"), environment], {
        selections: [selection, { ...selection, store: "dependabot" }],
        unmanaged: [repoTarget("acme", "old", "codespaces")],
      }),
    );

    // Assess
    expect(kept).toEqual({
      targets: [repoTarget("acme", "api"), environment],
      selections: [{ ...selection, store: "dependabot" }],
      unmanaged: [],
    });
  });
});
