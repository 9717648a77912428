import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entryKey, type ListEntry, type ReposConfig } from "../../src/config/list-entry.ts";
import {
  MAX_LISTED_PROBLEMS,
  MAX_REPOS,
  parseReposConfig,
  parseReposEntries,
  renderReposConfig,
  renderReposList,
} from "../../src/config/repos-config.ts";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import { ConfigError } from "../../src/errors.ts";

const WHERE = "s3://bucket/repos.json";

function problemsOf(text: string): readonly string[] {
  try {
    parseReposConfig(text, WHERE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

/** A version 2 document holding these entries. */
function v2(...entries: unknown[]): string {
  return JSON.stringify({ Version: 2, Repos: entries });
}

const target = (t: Target, unmanaged = false): ListEntry => ({ kind: "target", target: t, unmanaged });

describe("repos.json in the original format (version 1)", () => {
  it("reads the original stack's format as repositories' Actions secrets", () => {
    // Act
    const config = parseReposConfig(
      '{ "Repos": [ { "Name": "key-management-1", "Owner": "grolston" }, { "Name": "key-management-3", "Owner": "grolston-aws" } ] }',
      WHERE,
    );

    // Assess
    expect(config).toEqual({
      targets: [
        { kind: "repository", owner: "grolston", name: "key-management-1", store: "actions" },
        { kind: "repository", owner: "grolston-aws", name: "key-management-3", store: "actions" },
      ],
      selections: [],
      unmanaged: [],
    });
  });

  it("accepts the optional Version and Type fields", () => {
    // Act
    const config = parseReposConfig(
      '{"Version":1,"Repos":[{"Owner":"a","Name":"b","Type":"repository"}]}',
      WHERE,
    );

    // Assess
    expect(config.targets).toEqual([repositoryTarget({ owner: "a", name: "b" })]);
  });

  it("ignores a byte-order mark that Windows editors add", () => {
    expect(parseReposConfig('\uFEFF{"Repos":[{"Owner":"a","Name":"b"}]}', WHERE).targets).toHaveLength(1);
  });

  it("says at which line and column the JSON breaks", () => {
    expect(problemsOf('{\n  "Repos": [\n    {"Owner": "a" "Name": "b"}\n  ]\n}')).toEqual([
      'not valid JSON at line 3, column 19 (unexpected "\\"")',
    ]);
  });

  it("names each invalid entry and field in one message", () => {
    // Act
    const problems = problemsOf(
      '{"Repos":[{"Owner":"ok","Name":"fine"},{"Owner":"-bad","Name":"x"},{"Name":"y"}]}',
    );

    // Assess
    expect(problems).toEqual([
      expect.stringMatching(
        /^Repos\[1\]\.Owner \("-bad\/x"\): Owner must be a GitHub user or organization name/,
      ),
      expect.stringMatching(/^Repos\[2\]\.Owner: missing required field "Owner" \(the user or organization/),
    ]);
  });

  it("rejects an unknown field such as a lower-case name, so typos don't go unnoticed", () => {
    expect(problemsOf('{"Repos":[{"Owner":"a","Name":"b","name":"c"}]}')[0]).toContain(
      'unknown field "name"; the fields of Type "repository" entries are "Type", "Name", "Owner"',
    );
  });

  it("rejects names GitHub forbids, including path traversal", () => {
    expect(
      problemsOf(
        '{"Repos":[{"Owner":"a","Name":".."},{"Owner":"a","Name":"x/../y"},{"Owner":"a b","Name":"c"}]}',
      ),
    ).toHaveLength(3);
  });

  it.each(["alice_acme", "mona-cat_octo", "octo_admin", "2abvd19d_admin", "a-b_12345678"])(
    "accepts the Enterprise Managed User login %s as owner",
    (owner) => {
      const config = parseReposConfig(`{"Repos":[{"Owner":"${owner}","Name":"app"}]}`, WHERE);

      expect(config.targets).toEqual([repositoryTarget({ owner, name: "app" })]);
    },
  );

  it.each([
    "alice_ab",
    "alice_acme_x",
    "_acme",
    "alice_",
    "alice-_acme",
    "alice_ac-me",
    `${"a".repeat(31)}_acmecorp`,
  ])("rejects the owner %s, which is neither a GitHub login nor a managed user's", (owner) => {
    expect(problemsOf(`{"Repos":[{"Owner":"${owner}","Name":"app"}]}`)[0]).toContain(
      "Enterprise Managed User",
    );
  });

  it("reports duplicates compared case-insensitively, as GitHub compares names", () => {
    expect(problemsOf('{"Repos":[{"Owner":"Acme","Name":"App"},{"Owner":"acme","Name":"app"}]}')).toEqual([
      "Acme/App is listed more than once (Repos[0], Repos[1])",
    ]);
  });

  it("rejects an empty list and an empty file", () => {
    expect(problemsOf('{"Repos":[]}')[0]).toContain("Repos is empty");
    expect(problemsOf("   ")).toEqual(["the file is empty"]);
  });

  it("names the file and a fix that shows the format in the error", () => {
    // Act
    let error: unknown;
    try {
      parseReposConfig("[]", WHERE);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect((error as ConfigError).message).toContain(WHERE);
    expect((error as ConfigError).fix).toContain('{"Repos":[{"Owner":"my-org","Name":"my-repo"}]}');
  });

  it("writes a list of repositories' Actions secrets back in the original format, which round-trips", () => {
    // Prepare
    const config: ReposConfig = {
      targets: [repositoryTarget({ owner: "a", name: "b" })],
      selections: [],
      unmanaged: [],
    };

    // Act
    const text = renderReposConfig(config);

    // Assess
    expect(JSON.parse(text)).toEqual({ Repos: [{ Name: "b", Owner: "a" }] });
    expect(parseReposConfig(text, WHERE)).toEqual(config);
  });

  it("counts at most 10,000 repositories: the 10,001st is refused, saying to split the list", () => {
    // Prepare
    const list = (count: number) =>
      JSON.stringify({ Repos: Array.from({ length: count }, (_, i) => ({ Owner: "o", Name: `r${i}` })) });

    // Act
    const accepted = parseReposConfig(list(MAX_REPOS), WHERE);
    const refused = problemsOf(list(MAX_REPOS + 1));

    // Assess
    expect(accepted.targets).toHaveLength(MAX_REPOS);
    expect(refused).toEqual(["Repos: Repos lists 10001 repositories, more than the 10000 one stack rotates"]);
  });
});

describe("repos.json version 2: every kind of entry", () => {
  it.each<[string, Record<string, unknown>, ListEntry]>([
    [
      "a repository's Actions secrets, Secrets spelled out",
      { Owner: "octo-org", Name: "app", Secrets: "actions" },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "actions" }),
    ],
    [
      "an environment's secrets",
      { Type: "environment", Owner: "octo-org", Name: "app", Environment: "production" },
      target({ kind: "environment", owner: "octo-org", name: "app", environment: "production" }),
    ],
    [
      "an environment whose name has a slash and spaces inside",
      {
        Type: "environment",
        Owner: "octo-org",
        Name: "app",
        Environment: "eu/prod blue",
        Secrets: "actions",
      },
      target({ kind: "environment", owner: "octo-org", name: "app", environment: "eu/prod blue" }),
    ],
    [
      "a repository's Dependabot secrets",
      { Owner: "octo-org", Name: "app", Secrets: "dependabot" },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "dependabot" }),
    ],
    [
      "a repository's Codespaces secrets",
      { Owner: "octo-org", Name: "app", Secrets: "codespaces" },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "codespaces" }),
    ],
    [
      "an organization secret every repository sees",
      { Type: "organization", Owner: "octo-org", Visibility: "all" },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "actions",
        visibility: "all",
        selectedRepositories: [],
      }),
    ],
    [
      "an organization secret the private and internal repositories see",
      { Type: "organization", Owner: "octo-org", Visibility: "private" },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "actions",
        visibility: "private",
        selectedRepositories: [],
      }),
    ],
    [
      "an organization secret selected repositories see",
      { Type: "organization", Owner: "octo-org", Visibility: "selected", Repositories: ["api", "web"] },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "actions",
        visibility: "selected",
        selectedRepositories: ["api", "web"],
      }),
    ],
    [
      "an organization's Dependabot secret",
      { Type: "organization", Owner: "octo-org", Secrets: "dependabot", Visibility: "all" },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "dependabot",
        visibility: "all",
        selectedRepositories: [],
      }),
    ],
    [
      "an organization's Codespaces secret for selected repositories",
      {
        Type: "organization",
        Owner: "octo-org",
        Secrets: "codespaces",
        Visibility: "selected",
        Repositories: ["app"],
      },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "codespaces",
        visibility: "selected",
        selectedRepositories: ["app"],
      }),
    ],
    [
      "a repository with its own secret names",
      { Owner: "octo-org", Name: "app", SecretNameKeyId: "CI_KEY_ID", SecretNameSecretKey: "CI_SECRET" },
      target({
        kind: "repository",
        owner: "octo-org",
        name: "app",
        store: "actions",
        secretNames: { keyId: "CI_KEY_ID", secretKey: "CI_SECRET" },
      }),
    ],
    [
      "the key ID as an Actions variable",
      { Owner: "octo-org", Name: "app", KeyIdAs: "variable" },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "actions", keyIdAs: "variable" }),
    ],
    [
      "the key ID as an environment variable, under its own names",
      {
        Type: "environment",
        Owner: "octo-org",
        Name: "app",
        Environment: "prod",
        KeyIdAs: "variable",
        SecretNameKeyId: "AWS_KEY_ID",
        SecretNameSecretKey: "AWS_SECRET",
      },
      target({
        kind: "environment",
        owner: "octo-org",
        name: "app",
        environment: "prod",
        keyIdAs: "variable",
        secretNames: { keyId: "AWS_KEY_ID", secretKey: "AWS_SECRET" },
      }),
    ],
    [
      "the key ID as an organization variable",
      { Type: "organization", Owner: "octo-org", Visibility: "all", KeyIdAs: "variable" },
      target({
        kind: "organization",
        owner: "octo-org",
        store: "actions",
        visibility: "all",
        selectedRepositories: [],
        keyIdAs: "variable",
      }),
    ],
    [
      "KeyIdAs secret, the default, spelled out",
      { Owner: "octo-org", Name: "app", KeyIdAs: "secret" },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "actions" }),
    ],
    [
      "an organization's repositories with a topic",
      { Owner: "octo-org", Topic: "deploys-to-aws" },
      {
        kind: "selection",
        selection: { owner: "octo-org", by: { topic: "deploys-to-aws" }, store: "actions" },
      },
    ],
    [
      "an organization's repositories with a custom property value, for Dependabot",
      { Type: "repository", Owner: "octo-org", Property: "team", Value: "platform", Secrets: "dependabot" },
      {
        kind: "selection",
        selection: { owner: "octo-org", by: { property: "team", value: "platform" }, store: "dependabot" },
      },
    ],
    [
      "an Unmanaged repository",
      { Owner: "octo-org", Name: "legacy", Unmanaged: true },
      target({ kind: "repository", owner: "octo-org", name: "legacy", store: "actions" }, true),
    ],
    [
      "an Unmanaged environment",
      { Type: "environment", Owner: "octo-org", Name: "app", Environment: "sandbox", Unmanaged: true },
      target({ kind: "environment", owner: "octo-org", name: "app", environment: "sandbox" }, true),
    ],
    [
      "Unmanaged false, which is a managed place",
      { Owner: "octo-org", Name: "app", Unmanaged: false },
      target({ kind: "repository", owner: "octo-org", name: "app", store: "actions" }),
    ],
  ])("reads %s", (_, entry, expected) => {
    // Prepare
    const list = v2({ Owner: "octo-org", Name: "anchor" }, entry);

    // Act
    const entries = parseReposEntries(list, WHERE);

    // Assess
    expect(entries[1]).toEqual(expected);
  });

  it("groups the entries as the rotation reads them, each group in list order", () => {
    // Act
    const config = parseReposConfig(
      v2(
        { Owner: "o", Topic: "aws" },
        { Owner: "o", Name: "b", Unmanaged: true },
        { Owner: "o", Name: "a" },
        { Type: "organization", Owner: "o", Visibility: "all" },
        { Owner: "o", Property: "team", Value: "x" },
      ),
      WHERE,
    );

    // Assess
    expect(config.targets.map((t) => t.kind)).toEqual(["repository", "organization"]);
    expect(config.unmanaged).toEqual([{ kind: "repository", owner: "o", name: "b", store: "actions" }]);
    expect(config.selections.map((s) => s.by)).toEqual([{ topic: "aws" }, { property: "team", value: "x" }]);
  });

  it("accepts Version 2 with only repositories, and Version 1 with the new kinds", () => {
    expect(parseReposConfig('{"Version":2,"Repos":[{"Owner":"a","Name":"b"}]}', WHERE).targets).toHaveLength(
      1,
    );
    expect(
      parseReposConfig(
        '{"Version":1,"Repos":[{"Type":"organization","Owner":"a","Visibility":"all"}]}',
        WHERE,
      ).targets,
    ).toHaveLength(1);
  });

  it("lists the same repository once per store, and the same organization once per store", () => {
    // Act
    const config = parseReposConfig(
      v2(
        { Owner: "o", Name: "app" },
        { Owner: "o", Name: "app", Secrets: "dependabot" },
        { Owner: "o", Name: "app", Secrets: "codespaces" },
        { Type: "environment", Owner: "o", Name: "app", Environment: "prod" },
        { Type: "environment", Owner: "o", Name: "app", Environment: "staging" },
        { Type: "organization", Owner: "o", Visibility: "all" },
        { Type: "organization", Owner: "o", Visibility: "all", Secrets: "dependabot" },
        { Owner: "o", Topic: "aws" },
        { Owner: "o", Topic: "aws", Secrets: "dependabot" },
      ),
      WHERE,
    );

    // Assess
    expect(config.targets).toHaveLength(7);
    expect(config.selections).toHaveLength(2);
  });
});

describe("rendering a version 2 list", () => {
  it("writes Version 2 and each entry's fields in one order, leaving defaults out", () => {
    // Prepare
    const entries = parseReposEntries(
      v2(
        { Owner: "o", Name: "app" },
        { Environment: "prod", Name: "app", Owner: "o", Type: "environment", Secrets: "actions" },
        {
          Repositories: ["a", "b"],
          Visibility: "selected",
          Owner: "o",
          Type: "organization",
          KeyIdAs: "secret",
        },
        { SecretNameSecretKey: "S", SecretNameKeyId: "K", KeyIdAs: "variable", Name: "web", Owner: "o" },
        { Value: "x", Property: "team", Owner: "o", Secrets: "dependabot" },
        { Unmanaged: true, Name: "old", Owner: "o" },
      ),
      WHERE,
    );

    // Act
    const text = renderReposList(entries);

    // Assess
    const document = JSON.parse(text) as { Version: number; Repos: Record<string, unknown>[] };
    expect(Object.keys(document)).toEqual(["Version", "Repos"]);
    expect(document.Version).toBe(2);
    expect(document.Repos.map((entry) => Object.keys(entry))).toEqual([
      ["Name", "Owner"],
      ["Type", "Name", "Owner", "Environment"],
      ["Type", "Owner", "Visibility", "Repositories"],
      ["Name", "Owner", "SecretNameKeyId", "SecretNameSecretKey", "KeyIdAs"],
      ["Owner", "Property", "Value", "Secrets"],
      ["Name", "Owner", "Unmanaged"],
    ]);
    expect(parseReposEntries(text, WHERE)).toEqual(entries);
  });

  it("writes the original format again once every entry is a repository's Actions secrets", () => {
    // Prepare
    const entries = parseReposEntries(v2({ Owner: "o", Name: "a" }, { Owner: "o", Name: "b" }), WHERE);

    // Act
    const text = renderReposList(entries);

    // Assess
    expect(JSON.parse(text)).toEqual({
      Repos: [
        { Name: "a", Owner: "o" },
        { Name: "b", Owner: "o" },
      ],
    });
  });

  it("reads back any list of valid entries exactly as it was (fast-check)", () => {
    const owner = fc.constantFrom("octo-org", "Alice_Acme", "a");
    const name = fc.constantFrom("app", "web", ".github", "x-y_z.1");
    const names = fc.option(
      fc.constantFrom({ keyId: "CI_ID", secretKey: "CI_SECRET" }, { keyId: "k", secretKey: "s" }),
      { nil: undefined },
    );
    const store = fc.constantFrom("actions", "dependabot", "codespaces" as const);
    const extras = (s: string) =>
      fc.record({ secretNames: names, variable: s === "actions" ? fc.boolean() : fc.constant(false) });
    const withExtras = <T extends object>(base: T, e: { secretNames: unknown; variable: boolean }): T => ({
      ...base,
      ...(e.secretNames === undefined ? {} : { secretNames: e.secretNames }),
      ...(e.variable ? { keyIdAs: "variable" } : {}),
    });
    const entry: fc.Arbitrary<ListEntry> = fc.oneof(
      fc
        .tuple(owner, name, store, fc.boolean())
        .chain(([o, n, s, unmanaged]) =>
          extras(s).map((e) =>
            target(withExtras({ kind: "repository", owner: o, name: n, store: s } as Target, e), unmanaged),
          ),
        ),
      fc
        .tuple(owner, name, fc.constantFrom("prod", "eu/west 1", "Staging"), fc.boolean())
        .chain(([o, n, env, unmanaged]) =>
          extras("actions").map((e) =>
            target(
              withExtras({ kind: "environment", owner: o, name: n, environment: env } as Target, e),
              unmanaged,
            ),
          ),
        ),
      fc
        .tuple(
          owner,
          store,
          fc.constantFrom("all", "private", "selected" as const),
          fc.uniqueArray(name, { minLength: 1 }),
        )
        .chain(([o, s, visibility, repos]) =>
          extras(s).map((e) =>
            target(
              withExtras(
                {
                  kind: "organization",
                  owner: o,
                  store: s,
                  visibility,
                  selectedRepositories: visibility === "selected" ? repos : [],
                } as Target,
                e,
              ),
            ),
          ),
        ),
      fc
        .tuple(
          owner,
          store,
          fc.oneof(fc.constant({ topic: "aws" }), fc.constant({ property: "team", value: "A b" })),
        )
        .chain(([o, s, by]) =>
          extras(s).map(
            (e) => ({ kind: "selection", selection: withExtras({ owner: o, by, store: s }, e) }) as ListEntry,
          ),
        ),
    );
    const list = fc
      .uniqueArray(entry, { minLength: 1, maxLength: 12, selector: entryKey })
      .filter((entries) => entries.some((e) => e.kind === "selection" || !e.unmanaged));
    fc.assert(
      fc.property(list, (entries) => {
        expect(parseReposEntries(renderReposList(entries), WHERE)).toEqual(entries);
      }),
      { numRuns: 300 },
    );
  });
});

describe("repos.json version 2: what is refused, and how the message says to fix it", () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      "an unknown Type",
      { Type: "dependabot", Owner: "o", Name: "a" },
      /^Repos\[1\]\.Type \("o\/a"\): Type must be "repository" \(the default\), "environment" or "organization", not the text "dependabot"$/,
    ],
    [
      "an environment without its Environment",
      { Type: "environment", Owner: "o", Name: "a" },
      /^Repos\[1\]\.Environment \("o\/a"\): missing required field "Environment" \(the environment's name, as the workflow's `environment:` names it\)$/,
    ],
    [
      "an environment without its repository",
      { Type: "environment", Owner: "o", Environment: "prod" },
      /^Repos\[1\]\.Name: missing required field "Name"/,
    ],
    [
      "an environment's Dependabot secrets",
      { Type: "environment", Owner: "o", Name: "a", Environment: "prod", Secrets: "dependabot" },
      /Secrets must be "actions" or left out, not the text "dependabot": environments hold Actions secrets only \(a repository's Dependabot or Codespaces secrets are an entry of Type "repository" with that Secrets\)/,
    ],
    [
      "an environment name of 256 characters",
      { Type: "environment", Owner: "o", Name: "a", Environment: "e".repeat(256) },
      /Environment "e{60}\.\.\." is longer than 255 characters/,
    ],
    [
      "an environment name with a leading space",
      { Type: "environment", Owner: "o", Name: "a", Environment: " prod" },
      /Environment " prod" starts or ends with a space/,
    ],
    [
      "an environment name with a right-to-left override",
      { Type: "environment", Owner: "o", Name: "a", Environment: "prod\u202E" },
      /Environment "prod\\u202e" contains the control or invisible character U\+202E \(character 5\)/,
    ],
    [
      "an empty environment name",
      { Type: "environment", Owner: "o", Name: "a", Environment: "" },
      /Environment "" is empty/,
    ],
    [
      "an organization without Visibility",
      { Type: "organization", Owner: "o" },
      /^Repos\[1\]\.Visibility \("organization o"\): missing required field "Visibility" \(which of the organization's repositories see the secret: "all", "private" or "selected"\)$/,
    ],
    [
      "the visibility public, which GitHub does not have",
      { Type: "organization", Owner: "o", Visibility: "public" },
      /Visibility must be "all", "private" or "selected" \(which of the organization's repositories see the secret\), not the text "public"/,
    ],
    [
      "selected visibility without Repositories",
      { Type: "organization", Owner: "o", Visibility: "selected" },
      /missing required field "Repositories": Visibility "selected" shares the secret with the repositories it lists/,
    ],
    [
      "Repositories with visibility all",
      { Type: "organization", Owner: "o", Visibility: "all", Repositories: ["a"] },
      /"Repositories" goes only with Visibility "selected" \(the secret is visible to every repository\)/,
    ],
    [
      "an empty Repositories list",
      { Type: "organization", Owner: "o", Visibility: "selected", Repositories: [] },
      /Repositories is empty: list the repositories that see the secret/,
    ],
    [
      "Repositories as one string",
      { Type: "organization", Owner: "o", Visibility: "selected", Repositories: "a,b" },
      /Repositories must be a list of repository names like \["app-one", "app-two"\], not the text "a,b"/,
    ],
    [
      "an invalid name in Repositories",
      { Type: "organization", Owner: "o", Visibility: "selected", Repositories: ["ok", "../x"] },
      /^Repos\[1\]\.Repositories\[1\] \("organization o"\): each of Repositories must be a GitHub repository name/,
    ],
    [
      "a repository listed twice in Repositories, in another letter case",
      { Type: "organization", Owner: "o", Visibility: "selected", Repositories: ["App", "app"] },
      /"Repositories" lists "app" more than once \(names compare case-insensitively, as on GitHub\)/,
    ],
    [
      "a Name on an organization entry",
      { Type: "organization", Owner: "o", Name: "a", Visibility: "all" },
      /"Name" does not apply to Type "organization" entries; it belongs to Type "repository" and Type "environment"/,
    ],
    [
      "Visibility on a repository entry",
      { Owner: "o", Name: "a", Visibility: "all" },
      /"Visibility" does not apply to Type "repository" entries; it belongs to Type "organization"/,
    ],
    [
      "Unmanaged on an organization entry",
      { Type: "organization", Owner: "o", Visibility: "all", Unmanaged: true },
      /"Unmanaged" does not apply to Type "organization" entries/,
    ],
    [
      "a repository entry with neither Name, Topic nor Property",
      { Owner: "o", Secrets: "dependabot" },
      /missing required field "Name" \(the repository's name; or "Topic", or "Property" with "Value", to select an organization's repositories\)/,
    ],
    [
      "a Name and a Topic together",
      { Owner: "o", Name: "a", Topic: "aws" },
      /give one of "Name" and "Topic": "Name" names one repository, "Topic" or "Property" select repositories/,
    ],
    [
      "a topic with capital letters",
      { Owner: "o", Topic: "Deploys-To-AWS" },
      /Topic must be a GitHub topic: 1–50 lowercase letters, digits or hyphens, starting with a letter or digit/,
    ],
    ["a topic of 51 characters", { Owner: "o", Topic: "t".repeat(51) }, /Topic must be a GitHub topic/],
    ["a topic starting with a hyphen", { Owner: "o", Topic: "-aws" }, /Topic must be a GitHub topic/],
    [
      "a Property without its Value",
      { Owner: "o", Property: "team" },
      /"Property" and "Value" go together: the repositories whose custom property has that value/,
    ],
    [
      "a Value without its Property",
      { Owner: "o", Name: "a", Value: "x" },
      /"Property" and "Value" go together/,
    ],
    [
      "a property name with a space",
      { Owner: "o", Property: "my team", Value: "x" },
      /Property must be a GitHub custom property name: 1–75 letters, digits, "_", "-", "\$" or "#" \(character 3 is a space/,
    ],
    [
      "a property name of 76 characters",
      { Owner: "o", Property: "p".repeat(76), Value: "x" },
      /Property must be a GitHub custom property name/,
    ],
    [
      "a property value with a double quote",
      { Owner: "o", Property: "team", Value: 'a"b' },
      /Value must be a GitHub custom property value: 1–200 printable ASCII characters other than "\\""/,
    ],
    [
      "Secrets in another letter case",
      { Owner: "o", Name: "a", Secrets: "Dependabot" },
      /Secrets must be "actions", "dependabot" or "codespaces", not the text "Dependabot"/,
    ],
    [
      "the key ID as a variable of Dependabot secrets",
      { Owner: "o", Name: "a", Secrets: "dependabot", KeyIdAs: "variable" },
      /KeyIdAs "variable" needs Secrets "actions": Dependabot has no configuration variables/,
    ],
    [
      "the key ID as a variable of an organization's Codespaces secret",
      { Type: "organization", Owner: "o", Visibility: "all", Secrets: "codespaces", KeyIdAs: "variable" },
      /KeyIdAs "variable" needs Secrets "actions": Codespaces has no configuration variables/,
    ],
    [
      "an unknown KeyIdAs",
      { Owner: "o", Name: "a", KeyIdAs: "both" },
      /KeyIdAs must be "secret" or "variable"/,
    ],
    [
      "only one of the two secret names",
      { Owner: "o", Name: "a", SecretNameKeyId: "K" },
      /"SecretNameKeyId" and "SecretNameSecretKey" go together: give both names, or neither for the stack's names/,
    ],
    [
      "two secret names that differ only in letter case",
      { Owner: "o", Name: "a", SecretNameKeyId: "AWS_KEY", SecretNameSecretKey: "aws_key" },
      /name the same secret \("AWS_KEY", "aws_key"\): GitHub compares secret names case-insensitively/,
    ],
    [
      "a secret name starting with GITHUB_",
      { Owner: "o", Name: "a", SecretNameKeyId: "github_KEY", SecretNameSecretKey: "S" },
      /SecretNameKeyId "github_KEY" starts with GITHUB_ \(reserved by GitHub, in any letter case\)/,
    ],
    [
      "a secret name starting with a digit",
      { Owner: "o", Name: "a", SecretNameKeyId: "K", SecretNameSecretKey: "1S" },
      /SecretNameSecretKey "1S" starts with a digit/,
    ],
    [
      "a secret name with a hyphen",
      { Owner: "o", Name: "a", SecretNameKeyId: "AWS-KEY", SecretNameSecretKey: "S" },
      /SecretNameKeyId "AWS-KEY" contains "-"; only letters, digits and underscores are allowed/,
    ],
    [
      "an Unmanaged selection",
      { Owner: "o", Topic: "aws", Unmanaged: true },
      /"Unmanaged" marks one repository \(or environment\) whose copy of the names holds another key on purpose; a selection cannot be Unmanaged/,
    ],
    [
      "Unmanaged as text",
      { Owner: "o", Name: "a", Unmanaged: "yes" },
      /Unmanaged must be true or false, not the text "yes"/,
    ],
  ])("refuses %s", (_, entry, problem) => {
    // Act
    const problems = problemsOf(v2({ Owner: "o", Name: "anchor" }, entry));

    // Assess
    expect(problems).toContainEqual(expect.stringMatching(problem));
  });

  it("refuses a Version other than 1 or 2", () => {
    expect(problemsOf('{"Version":3,"Repos":[{"Owner":"a","Name":"b"}]}')).toEqual([
      "Version: Version must be 1 or 2 or left out, not a number (3)",
    ]);
  });

  it.each<[string, unknown[], string]>([
    [
      "an environment listed twice, its name in another letter case",
      [
        { Type: "environment", Owner: "o", Name: "app", Environment: "Prod" },
        { Type: "environment", Owner: "O", Name: "APP", Environment: "prod" },
      ],
      '"o/app (environment Prod)" is listed more than once (Repos[0], Repos[1])',
    ],
    [
      "a place listed both managed and Unmanaged",
      [
        { Owner: "o", Name: "app" },
        { Owner: "o", Name: "app", Unmanaged: true },
      ],
      "o/app is listed more than once (Repos[0], Repos[1])",
    ],
    [
      "two organization secrets of one store, whatever their visibility",
      [
        { Type: "organization", Owner: "o", Visibility: "all" },
        { Type: "organization", Owner: "o", Visibility: "selected", Repositories: ["a"] },
      ],
      '"organization o (Actions)" is listed more than once (Repos[0], Repos[1])',
    ],
    [
      "a selection listed twice",
      [
        { Owner: "o", Property: "Team", Value: "x" },
        { Owner: "o", Property: "team", Value: "x" },
      ],
      '"repositories of o whose property Team is x" is listed more than once (Repos[0], Repos[1])',
    ],
  ])("refuses %s", (_, entries, problem) => {
    expect(problemsOf(v2(...entries))).toEqual([problem]);
  });

  it("tells a list with two organization secrets of one store to keep one entry with a wider visibility", () => {
    // Prepare
    const text = v2(
      { Type: "organization", Owner: "o", Visibility: "all" },
      { Type: "organization", Owner: "o", Visibility: "selected", Repositories: ["a"] },
    );

    // Act
    const error = (() => {
      try {
        parseReposConfig(text, WHERE);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).fix).toContain(
      'An organization has one secret of these names per product (Actions, Dependabot, Codespaces): keep one organization entry per "Secrets"',
    );
  });

  it("does not talk about organizations when a repository is listed twice", () => {
    // Prepare
    const text = v2({ Owner: "o", Name: "app" }, { Owner: "O", Name: "APP" });

    // Act
    const error = (() => {
      try {
        parseReposConfig(text, WHERE);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    // Assess
    expect((error as ConfigError).fix).not.toContain("organization");
  });

  it("refuses a list whose every entry is Unmanaged: it names no place to write the key to", () => {
    expect(problemsOf(v2({ Owner: "o", Name: "a", Unmanaged: true }))).toEqual([
      "Repos: every entry is Unmanaged, so the list names no place to write the key to",
    ]);
  });

  it("does not count Unmanaged places against the 10,000 places one stack writes", () => {
    // Prepare
    const entries = [
      ...Array.from({ length: MAX_REPOS }, (_, i) => ({ Owner: "o", Name: `r${i}` })),
      { Owner: "o", Name: "legacy", Unmanaged: true },
    ];

    // Act
    const config = parseReposConfig(v2(...entries), WHERE);

    // Assess
    expect(config.targets).toHaveLength(MAX_REPOS);
    expect(config.unmanaged).toHaveLength(1);
  });

  it("counts selections against the 10,000 places one stack writes", () => {
    // Prepare
    const entries = [
      ...Array.from({ length: MAX_REPOS }, (_, i) => ({ Owner: "o", Name: `r${i}` })),
      { Owner: "o", Topic: "aws" },
    ];

    // Act
    const problems = problemsOf(v2(...entries));

    // Assess
    expect(problems).toEqual([
      "Repos: Repos names 10001 places and selections to write the key to, more than the 10000 one stack rotates",
    ]);
  });

  it("reports every problem of every entry at once, the first 20 and how many more", () => {
    // Prepare
    const entries = Array.from({ length: 30 }, (_, i) => ({
      Type: "organization",
      Owner: "o",
      Name: `r${i}`,
    }));

    // Act
    const problems = problemsOf(v2(...entries));

    // Assess
    expect(problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(problems.at(-1)).toBe("... and 40 more problems");
  });
});
