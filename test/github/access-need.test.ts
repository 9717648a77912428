/**
 * What the machine user and its token need for each kind of target, as GitHub's refusals explain it: the role, the
 * fine-grained permission and the classic scope of the store and scope written.
 */
import { describe, expect, it } from "vitest";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import { accessNeed } from "../../src/github/access-need.ts";
import { isEnterpriseServer } from "../../src/github/enterprise-server.ts";
import { tokenNeeds } from "../../src/github/forbidden-reason.ts";
import {
  type GitHubCall,
  type HttpFailure,
  toGitHubAccessError,
} from "../../src/github/to-github-access-error.ts";

function answer(status: number, message: string, headers: Record<string, string> = {}): HttpFailure {
  const body = { message, documentation_url: "https://docs.github.com/rest", status: String(status) };
  return Object.assign(new Error(message), { status, response: { headers, data: body } });
}

function callFor(target: Target, scope: NonNullable<GitHubCall["scope"]>, repo: string): GitHubCall {
  return {
    action: "GET public key",
    repo,
    scope,
    need: accessNeed(target),
    tokenSecretName: "GHS-AKM-ci-GitHubToken-bot",
    machineUser: "acme-bot",
  };
}

describe("what writing each kind of target needs", () => {
  it("says for a repository's Actions secrets exactly what it said before other targets existed", () => {
    // Act
    const needs = accessNeed(repositoryTarget({ owner: "acme", name: "app" })).needs("acme-bot");

    // Assess
    expect(needs).toBe(tokenNeeds("acme/app", "acme-bot"));
  });

  it.each([
    [
      { kind: "repository", owner: "acme", name: "app", store: "dependabot" },
      '"Dependabot secrets: Read and write"',
      '"repo"',
    ],
    [
      { kind: "repository", owner: "acme", name: "app", store: "codespaces" },
      '"Codespaces secrets: Read and write"',
      '"repo"',
    ],
    [
      { kind: "repository", owner: "acme", name: "app", store: "actions", keyIdAs: "variable" },
      '"Secrets: Read and write" and "Variables: Read and write"',
      '"repo"',
    ],
    [
      { kind: "environment", owner: "acme", name: "app", environment: "prod" },
      'the repository permissions "Environments: Read and write" and "Secrets: Read and write"',
      '"repo"',
    ],
    [
      { kind: "environment", owner: "acme", name: "app", environment: "prod", keyIdAs: "variable" },
      '"Environments: Read and write" and "Secrets: Read and write" and "Variables: Read and write"',
      '"repo"',
    ],
    [
      { kind: "organization", owner: "acme", store: "actions", visibility: "all", selectedRepositories: [] },
      'the organization permission "Secrets: Read and write"',
      '"admin:org"',
    ],
    [
      {
        kind: "organization",
        owner: "acme",
        store: "dependabot",
        visibility: "all",
        selectedRepositories: [],
      },
      '"Organization dependabot secrets: Read and write"',
      '"admin:org"',
    ],
    [
      {
        kind: "organization",
        owner: "acme",
        store: "codespaces",
        visibility: "all",
        selectedRepositories: [],
      },
      '"Organization codespaces secrets: Read and write"',
      '"admin:org"',
    ],
  ] satisfies [Target, string, string][])(
    "names the permission and scope %j needs",
    (target, permission, scope) => {
      // Act
      const needs = accessNeed(target).needs("acme-bot");

      // Assess
      expect(needs).toContain(permission);
      expect(needs).toContain(`a classic token needs the ${scope} scope`);
    },
  );

  it("asks for the owner role for an organization's secrets and for access to its selected repositories", () => {
    // Act
    const needs = accessNeed({
      kind: "organization",
      owner: "acme",
      store: "actions",
      visibility: "selected",
      selectedRepositories: ["app"],
    }).needs(undefined);

    // Assess
    expect(needs).toContain("The machine user needs the owner role in organization acme");
    expect(needs).toContain("access to the selected repositories");
  });

  it("reminds that an environment must exist", () => {
    // Act
    const needs = accessNeed({ kind: "environment", owner: "acme", name: "app", environment: "prod" }).needs(
      undefined,
    );

    // Assess
    expect(needs).toContain("(and the environment prod must exist in it)");
  });
});

describe("GitHub's refusals of a target's secrets", () => {
  it("explains a 404 of an environment's secrets by the repository or its environment", () => {
    // Prepare
    const target: Target = { kind: "environment", owner: "acme", name: "app", environment: "prod" };

    // Act
    const error = toGitHubAccessError(
      answer(404, "Not Found"),
      callFor(target, "environment", "acme/app (environment prod)"),
    );

    // Assess
    expect(error.message).toBe(
      "GitHub refused GET public key on acme/app (environment prod) (404 Not Found): the repository or its environment does not exist, or the token cannot see it.",
    );
    expect(error.fix).toContain(
      "Check Owner, Name and Environment of acme/app (environment prod) in repos.json",
    );
  });

  it("gives the owner role as the fix when GitHub says a Dependabot organization secret needs admin rights", () => {
    // Prepare
    const target: Target = {
      kind: "organization",
      owner: "acme",
      store: "dependabot",
      visibility: "private",
      selectedRepositories: [],
    };

    // Act
    const error = toGitHubAccessError(
      answer(403, "Must have admin rights to Repository."),
      callFor(target, "organization", "organization acme (Dependabot)"),
    );

    // Assess
    expect(error.fix).toContain(
      "Make the machine user acme-bot an owner of organization acme (organization Settings → People → Change role → Owner).",
    );
  });

  it("names the Dependabot secrets permission when a fine-grained token lacks it on a repository", () => {
    // Prepare
    const target: Target = { kind: "repository", owner: "acme", name: "app", store: "dependabot" };

    // Act
    const error = toGitHubAccessError(
      answer(403, "Resource not accessible by personal access token", {
        "x-accepted-github-permissions": "dependabot_secrets=read",
      }),
      callFor(target, "repository", "acme/app (Dependabot)"),
    );

    // Assess
    expect(error.fix).toContain(
      'under Repository access include acme/app, and under Repository permissions set "Dependabot secrets" to "Read and write"',
    );
  });
});

describe("GitHub Enterprise Server, told by its API URL", () => {
  it.each([
    ["https://github.example.com/api/v3", true],
    ["https://github.example.com/api/v3/", true],
    ["http://127.0.0.1:8080/api/v3", true],
    ["https://api.github.com", false],
    ["https://api.acme.ghe.com", false],
    ["http://127.0.0.1:8080", false],
  ])("%s is a GitHub Enterprise Server: %s", (url, expected) => {
    // Act
    const enterprise = isEnterpriseServer(url);

    // Assess
    expect(enterprise).toBe(expected);
  });
});
