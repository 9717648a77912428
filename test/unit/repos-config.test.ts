import { describe, expect, it } from "vitest";
import { parseReposConfig, renderReposConfig } from "../../src/config/repos-config.ts";
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

describe("repos.json parsing", () => {
  it("reads the original stack's format", () => {
    const config = parseReposConfig(
      '{ "Repos": [ { "Name": "key-management-1", "Owner": "grolston" }, { "Name": "key-management-3", "Owner": "grolston-aws" } ] }',
      WHERE,
    );

    expect(config.repos).toEqual([
      { owner: "grolston", name: "key-management-1" },
      { owner: "grolston-aws", name: "key-management-3" },
    ]);
  });

  it("accepts the optional Version and Type fields reserved for future target types", () => {
    const config = parseReposConfig(
      '{"Version":1,"Repos":[{"Owner":"a","Name":"b","Type":"repository"}]}',
      WHERE,
    );

    expect(config.repos).toEqual([{ owner: "a", name: "b" }]);
  });

  it("ignores a byte-order mark that Windows editors add", () => {
    expect(parseReposConfig('\uFEFF{"Repos":[{"Owner":"a","Name":"b"}]}', WHERE).repos).toHaveLength(1);
  });

  it("says at which line and column the JSON breaks", () => {
    expect(problemsOf('{\n  "Repos": [\n    {"Owner": "a" "Name": "b"}\n  ]\n}')).toEqual([
      'not valid JSON at line 3, column 19 (unexpected "\\"")',
    ]);
  });

  it("names each invalid entry and field in one message", () => {
    const problems = problemsOf(
      '{"Repos":[{"Owner":"ok","Name":"fine"},{"Owner":"-bad","Name":"x"},{"Name":"y"}]}',
    );

    expect(problems).toEqual([
      expect.stringMatching(
        /^Repos\[1\]\.Owner \("-bad\/x"\): Owner must be a GitHub user or organization name/,
      ),
      'Repos[2].Owner: missing required field "Owner"',
    ]);
  });

  it("rejects an unknown field such as a lower-case name, so typos don't go unnoticed", () => {
    expect(problemsOf('{"Repos":[{"Owner":"a","Name":"b","name":"c"}]}')[0]).toContain("unknown field");
  });

  it("rejects names GitHub forbids, including path traversal", () => {
    const problems = problemsOf(
      '{"Repos":[{"Owner":"a","Name":".."},{"Owner":"a","Name":"x/../y"},{"Owner":"a b","Name":"c"}]}',
    );

    expect(problems).toHaveLength(3);
  });

  it.each(["alice_acme", "mona-cat_octo", "octo_admin", "2abvd19d_admin", "a-b_12345678"])(
    "accepts the Enterprise Managed User login %s as owner",
    (owner) => {
      const config = parseReposConfig(`{"Repos":[{"Owner":"${owner}","Name":"app"}]}`, "s3://b/repos.json");

      expect(config.repos).toEqual([{ owner, name: "app" }]);
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
      "Acme/App is listed more than once (entries 0, 1)",
    ]);
  });

  it("rejects an empty list and an empty file", () => {
    expect(problemsOf('{"Repos":[]}')[0]).toContain("Repos is empty");
    expect(problemsOf("   ")).toEqual(["the file is empty"]);
  });

  it("rejects an unsupported target type with a message that says what is supported", () => {
    expect(problemsOf('{"Repos":[{"Owner":"a","Name":"b","Type":"organization"}]}')[0]).toContain(
      'Type must be "repository"',
    );
  });

  it("names the file and a fix in the error message", () => {
    expect(() => parseReposConfig("[]", WHERE)).toThrowError(/s3:\/\/bucket\/repos\.json/);
    try {
      parseReposConfig("[]", WHERE);
    } catch (error) {
      expect((error as ConfigError).fix).toContain('{"Repos":[{"Owner":"my-org","Name":"my-repo"}]}');
    }
  });

  it("writes the list back in the original format so it round-trips", () => {
    const text = renderReposConfig({ repos: [{ owner: "a", name: "b" }] });

    expect(JSON.parse(text)).toEqual({ Repos: [{ Name: "b", Owner: "a" }] });
    expect(parseReposConfig(text, WHERE).repos).toEqual([{ owner: "a", name: "b" }]);
  });
});
