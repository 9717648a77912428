import { describe, expect, it } from "vitest";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import { parseReposConfig } from "../../src/config/repos-config.ts";
import { ConfigError, KeyDestinationRefusedError } from "../../src/errors.ts";

const WHERE = "s3://bucket/repos.json";
const ALLOWED = OwnerAllowList.of("octo-org", "alice_acme");

function list(...repos: string[]): string {
  return JSON.stringify({
    Repos: repos.map((full) => ({ Owner: full.split("/")[0], Name: full.split("/")[1] })),
  });
}

describe("the allowed owners (pAllowedGitHubOwners)", () => {
  it.each([
    ["octo-org", ["octo-org"]],
    ["octo-org,alice_acme", ["octo-org", "alice_acme"]],
    ["octo-org , alice_acme", ["octo-org", "alice_acme"]],
  ])("reads %j", (value, owners) => {
    // Act
    const parsed = OwnerAllowList.parse(value);

    // Assess
    expect(parsed).toBeInstanceOf(OwnerAllowList);
    for (const owner of owners) expect((parsed as OwnerAllowList).allows(owner)).toBe(true);
  });

  it.each([
    ["", "lists no owner"],
    [",", "lists no owner"],
    ["octo-org,-bad", 'has entries that are not GitHub logins: "-bad"'],
    ["octo-org/api", 'has entries that are not GitHub logins: "octo-org/api"'],
  ])("refuses %j: it %s", (value, problem) => {
    expect(OwnerAllowList.parse(value)).toEqual({ problem });
  });

  it("compares owners ignoring letter case, as GitHub does", () => {
    expect(ALLOWED.allows("Octo-Org")).toBe(true);
    expect(ALLOWED.allows("ALICE_ACME")).toBe(true);
    expect(ALLOWED.allows("octo-org2")).toBe(false);
  });
});

describe("repos.json with the allowed owners", () => {
  it("reads a list of allowed owners' repositories", () => {
    // Act
    const config = parseReposConfig(list("octo-org/api", "Alice_Acme/app"), WHERE, ALLOWED);

    // Assess
    expect(config.targets).toHaveLength(2);
  });

  it("refuses a list naming another owner's repository, naming each entry, the owners allowed and the alert", () => {
    // Act
    let error: unknown;
    try {
      parseReposConfig(
        list("octo-org/api", "evil-corp/harvest", "octo-org/web", "mallory/x"),
        WHERE,
        ALLOWED,
      );
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(KeyDestinationRefusedError);
    const refused = error as KeyDestinationRefusedError;
    expect(refused.message).toBe(
      `The repository list ${WHERE} names 2 repositories of owners pAllowedGitHubOwners does not allow: Repos[1] "evil-corp/harvest" (owner "evil-corp"), Repos[3] "mallory/x" (owner "mallory"). The key goes only to repositories of octo-org, alice_acme; nothing was changed.`,
    );
    expect(refused.fix).toContain("Delete-RepoConfig");
    expect(refused.fix).toContain("pAllowedGitHubOwners");
    expect(refused.repos).toEqual(["evil-corp/harvest", "mallory/x"]);
    expect(refused.alert).toContain("evil-corp/harvest, mallory/x");
    expect(refused.fault).toBe("user");
  });

  it("reports a malformed list as malformed first, whatever its owners", () => {
    expect(() => parseReposConfig('{"Repos":[{"Owner":"evil-corp"}]}', WHERE, ALLOWED)).toThrow(ConfigError);
  });

  it("reads any owner when no allow list is given (Delete-RepoConfig must be able to remove one)", () => {
    expect(parseReposConfig(list("evil-corp/harvest"), WHERE).targets).toEqual([
      { kind: "repository", owner: "evil-corp", name: "harvest", store: "actions" },
    ]);
  });
});

describe("every kind of entry with the allowed owners", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "an environment",
      { Type: "environment", Owner: "evil-corp", Name: "app", Environment: "prod" },
      'a repository of an owner pAllowedGitHubOwners does not allow: Repos[1] "evil-corp/app (environment prod)" (owner "evil-corp")',
    ],
    [
      "a repository's Dependabot secrets",
      { Owner: "evil-corp", Name: "app", Secrets: "dependabot" },
      'a repository of an owner pAllowedGitHubOwners does not allow: Repos[1] "evil-corp/app (Dependabot)" (owner "evil-corp")',
    ],
    [
      "an organization secret",
      { Type: "organization", Owner: "Evil-Corp", Visibility: "all" },
      'an entry of an owner pAllowedGitHubOwners does not allow: Repos[1] "organization Evil-Corp (Actions)" (owner "Evil-Corp"). The key goes only to octo-org, alice_acme; nothing was changed.',
    ],
    [
      "a selection by topic",
      { Owner: "evil-corp", Topic: "aws" },
      'an entry of an owner pAllowedGitHubOwners does not allow: Repos[1] "repositories of evil-corp with topic aws" (owner "evil-corp")',
    ],
    [
      "an Unmanaged repository",
      { Owner: "evil-corp", Name: "app", Unmanaged: true },
      'Repos[1] "evil-corp/app" (owner "evil-corp")',
    ],
  ])("refuses %s of another owner, naming it", (_, entry, message) => {
    // Prepare
    const text = JSON.stringify({ Version: 2, Repos: [{ Owner: "octo-org", Name: "api" }, entry] });

    // Act
    let error: unknown;
    try {
      parseReposConfig(text, WHERE, ALLOWED);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(KeyDestinationRefusedError);
    expect((error as KeyDestinationRefusedError).message).toContain(message);
  });

  it("reads an organization secret and a selection of an allowed owner, in any letter case", () => {
    // Prepare
    const text = JSON.stringify({
      Repos: [
        { Type: "organization", Owner: "Octo-Org", Visibility: "all" },
        { Owner: "OCTO-ORG", Property: "team", Value: "platform" },
      ],
    });

    // Act
    const config = parseReposConfig(text, WHERE, ALLOWED);

    // Assess
    expect(config.targets).toHaveLength(1);
    expect(config.selections).toHaveLength(1);
  });
});
