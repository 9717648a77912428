/**
 * Hostile and broken input, at the parser: a corpus of malformed repos.json documents and Lambda events, and
 * property-based tests (fast-check) that the repos.json parser and the event schema answer anything with our
 * typed, actionable errors and nothing else. End to end (no IAM call after a config error, the object
 * untouched after rejected parameters): hostile-input-e2e.test.ts.
 */
import fc from "fast-check";
import * as v from "valibot";
import { afterAll, describe, expect, it } from "vitest";
import { entryKey, entryOwner, type ListEntry } from "../../src/config/list-entry.ts";
import {
  MAX_ENTRIES,
  NAME_PATTERN,
  OWNER_PATTERN,
  parseReposConfig,
  parseReposEntries,
  renderReposList,
} from "../../src/config/repos-config.ts";
import { repositoryTarget } from "../../src/domain/target.ts";
import { ConfigError } from "../../src/errors.ts";
import { handler } from "../../src/handler.ts";
import { HandlerEvent } from "../../src/handler-contract.ts";
import { configErrorProblems, MAX_MESSAGE_CHARS, PRINTABLE_MESSAGE } from "../fixtures/hostile/actionable.ts";
import { HOSTILE_REPOS_JSON, ODD_BUT_VALID_REPOS_JSON } from "../fixtures/hostile/repos-json.ts";
import { HOSTILE_EVENTS } from "../fixtures/hostile/runbook-parameters.ts";
import { writeFigures } from "./figures.ts";

const WHERE = "s3://config-bucket/repos.json";
const context = { getRemainingTimeInMillis: () => 290_000 };

const tally = {
  corpus: 0,
  corpusRejected: 0,
  valid: 0,
  validAccepted: 0,
  generated: 0,
  generatedOther: 0,
  events: 0,
  eventsRejected: 0,
  generatedEvents: 0,
};

afterAll(() => {
  writeFigures("hostile-input", [
    { label: "Malformed or hostile repos.json files tried", value: String(tally.corpus) },
    { label: "… rejected with a located, actionable ConfigError", value: String(tally.corpusRejected) },
    { label: "Odd but valid repos.json files accepted", value: `${tally.validAccepted} of ${tally.valid}` },
    { label: "Generated repos.json texts (fast-check)", value: String(tally.generated) },
    { label: "… answered with anything but a result or a ConfigError", value: String(tally.generatedOther) },
    { label: "Hostile Lambda events tried", value: String(tally.events) },
    { label: "… rejected (Failed, with a message naming the problem)", value: String(tally.eventsRejected) },
    { label: "Generated Lambda events (fast-check)", value: String(tally.generatedEvents) },
  ]);
});

/** The error `parseReposConfig` throws for `text` (undefined when it accepts the text). */
function rejection(text: string): unknown {
  try {
    parseReposConfig(text, WHERE);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("repos.json that is broken or hostile", () => {
  it.each(HOSTILE_REPOS_JSON)("is rejected with a located, actionable error: $name", (hostile) => {
    // Prepare
    tally.corpus++;

    // Act
    const error = rejection(hostile.text);

    // Assess
    expect(error, "accepted").toBeInstanceOf(ConfigError);
    expect(configErrorProblems(error, WHERE)).toEqual([]);
    expect((error as ConfigError).problems).toContainEqual(expect.stringMatching(hostile.problem));
    if (hostile.hiddenCharacter !== undefined) {
      expect((error as ConfigError).message).not.toContain(hostile.hiddenCharacter);
    }
    tally.corpusRejected++;
  });

  it.each(ODD_BUT_VALID_REPOS_JSON)("is accepted when odd but valid: $name", ({ text }) => {
    // Prepare
    tally.valid++;

    // Act
    const config = parseReposConfig(text, WHERE);

    // Assess
    expect(config.targets.length + config.selections.length).toBeGreaterThan(0);
    tally.validAccepted++;
  });

  it("holds at least 40 malformed documents", () => {
    expect(HOSTILE_REPOS_JSON.length).toBeGreaterThanOrEqual(40);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property-based: whatever the text, the parser answers with a valid list or an actionable ConfigError.

// fast-check cannot generate from a lookahead, so: the same languages written without one.
const validOwner = fc.stringMatching(/^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,19}$/);
const validName = fc.stringMatching(/^[A-Za-z0-9._-]{1,100}$/).filter((name) => NAME_PATTERN.test(name));
/** Strings a hostile or careless user could put in a name: look-alikes, controls, traversal, huge. */
const oddName = fc.oneof(
  validOwner,
  validName,
  fc.constantFrom("..", ".", "../x", "%2e%2e", "", " ", "a--b", "-a", "a-", "a/b", "a\u0000", "\u0430cme"),
  fc.constantFrom("\u202Eevil", "ac\u200Bme", "\uFEFFacme", "\uD800", "x".repeat(5_000)),
  fc.string({ unit: "binary", maxLength: 50 }),
);
const anyJsonValue = fc.jsonValue({ maxDepth: 3 });
const entryValue = fc.oneof(
  { weight: 4, arbitrary: fc.record({ Owner: oddName, Name: oddName }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.constantFrom("Owner", "Name", "Type", "name", "__proto__", "x"),
      anyJsonValue,
    ),
  },
  {
    // Version 2's fields, with values that are sometimes right.
    weight: 3,
    arbitrary: fc.record(
      {
        Owner: oddName,
        Name: oddName,
        Type: fc.oneof(fc.constantFrom("repository", "environment", "organization", "org"), anyJsonValue),
        Environment: fc.oneof(oddName, fc.constantFrom("production", " prod", "a\u202eb", "x".repeat(300))),
        Secrets: fc.oneof(fc.constantFrom("actions", "dependabot", "codespaces", "Actions"), anyJsonValue),
        Visibility: fc.oneof(fc.constantFrom("all", "private", "selected", "public"), anyJsonValue),
        Repositories: fc.oneof(fc.array(oddName, { maxLength: 4 }), anyJsonValue),
        Topic: fc.oneof(oddName, fc.constantFrom("deploys-to-aws", "Deploys", "-x")),
        Property: fc.oneof(oddName, fc.constantFrom("team", "a b", "$#_-")),
        Value: fc.oneof(oddName, fc.constantFrom("platform", 'a"b')),
        SecretNameKeyId: fc.oneof(oddName, fc.constantFrom("AWS_KEY_ID", "GITHUB_X", "1X")),
        SecretNameSecretKey: fc.oneof(oddName, fc.constantFrom("AWS_SECRET", "aws_key_id")),
        KeyIdAs: fc.oneof(fc.constantFrom("secret", "variable"), anyJsonValue),
        Unmanaged: fc.oneof(fc.boolean(), anyJsonValue),
      },
      { requiredKeys: ["Owner"] },
    ),
  },
  { weight: 1, arbitrary: anyJsonValue },
);
const documentValue = fc.oneof(
  { weight: 4, arbitrary: fc.record({ Repos: fc.array(entryValue, { maxLength: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.constantFrom("Repos", "Version", "repos", "Extra"),
      fc.oneof(fc.array(entryValue, { maxLength: 4 }), anyJsonValue),
    ),
  },
  { weight: 1, arbitrary: anyJsonValue },
);
/** JSON text around a value: indented or not, with a BOM or stray characters, possibly cut or doubled. */
const documentText = fc
  .tuple(
    documentValue,
    fc.constantFrom(0, 2, "\t"),
    fc.constantFrom("", "\uFEFF", "\uFEFF\uFEFF", " \n"),
    fc.nat(),
    fc.constantFrom("", ",", "}", "]", '"', "\\", "\u0000", "\u0430", "x", "{", "[", ':"Repos":[]'),
  )
  .map(([value, indent, prefix, at, insert]) => {
    const json = JSON.stringify(value, null, indent) ?? "null";
    const cut = insert === "" ? json.length : at % (json.length + 1);
    return prefix + json.slice(0, cut) + insert + json.slice(cut);
  });
const anyText = fc.oneof(
  { weight: 3, arbitrary: documentText },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json() },
);

describe("the repos.json parser, for any text (fast-check)", () => {
  it("answers with a valid list or an actionable ConfigError, never anything else", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        tally.generated++;
        let config: ReturnType<typeof parseReposConfig>;
        try {
          config = parseReposConfig(text, WHERE);
        } catch (error) {
          const problems = configErrorProblems(error, WHERE);
          if (!(error instanceof ConfigError)) tally.generatedOther++;
          expect(problems).toEqual([]);
          return;
        }
        // Accepted: only names GitHub allows, distinct, within the limits, and written back the same.
        const entries = parseReposEntries(text, WHERE);
        expect(config.targets.length + config.selections.length).toBeGreaterThan(0);
        expect(entries.length).toBeLessThanOrEqual(MAX_ENTRIES);
        for (const entry of entries) {
          expect(entryOwner(entry)).toMatch(OWNER_PATTERN);
          if (entry.kind === "target" && entry.target.kind !== "organization") {
            expect(entry.target.name).toMatch(NAME_PATTERN);
          }
        }
        const keys = entries.map(entryKey);
        expect(new Set(keys).size).toBe(keys.length);
        expect(parseReposEntries(renderReposList(entries), WHERE)).toEqual(entries);
      }),
      { numRuns: 3_000 },
    );
  });

  it("accepts every list of distinct valid repositories and reads it back unchanged", () => {
    const repoList = fc.uniqueArray(fc.record({ owner: validOwner, name: validName }), {
      minLength: 1,
      maxLength: 20,
      selector: (repo) => `${repo.owner}/${repo.name}`.toLowerCase(),
    });
    fc.assert(
      fc.property(repoList, fc.boolean(), (repos, withBom) => {
        tally.generated++;
        const entries: ListEntry[] = repos.map((repo) => ({
          kind: "target",
          target: repositoryTarget(repo),
          unmanaged: false,
        }));
        const text = (withBom ? "\uFEFF" : "") + renderReposList(entries);

        const config = parseReposConfig(text, WHERE);

        expect(config.targets).toEqual(repos.map(repositoryTarget));
        expect(JSON.parse(text.replace(/^\uFEFF/, ""))).not.toHaveProperty("Version");
      }),
      { numRuns: 500 },
    );
  });

  it("rejects a document in which any field is repeated, naming the field", () => {
    // A valid document, and a field of one of its objects written a second time.
    const repeated = fc
      .tuple(
        fc.uniqueArray(fc.record({ Owner: validOwner, Name: validName }), {
          minLength: 1,
          maxLength: 5,
          selector: (entry) => `${entry.Owner}/${entry.Name}`.toLowerCase(),
        }),
        fc.nat(),
        fc.constantFrom("Owner", "Name", "Repos"),
      )
      .map(([entries, at, field]) => {
        const index = at % entries.length;
        const parts = entries.map((entry, i) =>
          i === index && field !== "Repos"
            ? `{"Owner":${JSON.stringify(entry.Owner)},"Name":${JSON.stringify(entry.Name)},${JSON.stringify(field)}:"x"}`
            : JSON.stringify(entry),
        );
        const list = `[${parts.join(",")}]`;
        return { field, text: field === "Repos" ? `{"Repos":${list},"Repos":${list}}` : `{"Repos":${list}}` };
      });
    fc.assert(
      fc.property(repeated, ({ field, text }) => {
        tally.generated++;

        const error = rejection(text);

        expect(configErrorProblems(error, WHERE)).toEqual([]);
        expect((error as ConfigError).problems).toContainEqual(
          expect.stringContaining(`the field "${field}" appears more than once`),
        );
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Lambda events (the runbooks' InputPayload), through the handler's event schema.

describe("Lambda events that are broken or hostile", () => {
  it.each(HOSTILE_EVENTS)("are answered Failed with the problem named: $name", async (hostile) => {
    // Prepare
    tally.events++;

    // Act
    const result = await handler(hostile.event, context);

    // Assess
    expect(result.status).toBe("Failed");
    expect(result.summary).toMatch(hostile.message);
    expect(result.summary).toContain("Fix: ");
    expect(result.summary.length).toBeLessThan(MAX_MESSAGE_CHARS);
    expect(result.summary).toMatch(PRINTABLE_MESSAGE);
    if (hostile.hiddenCharacter !== undefined) expect(result.summary).not.toContain(hostile.hiddenCharacter);
    tally.eventsRejected++;
  });

  it("rejects any other value with short, printable messages and never throws (fast-check)", () => {
    const eventLike = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          action: fc.oneof(
            fc.constantFrom("rotate", "retire", "list-repos", "add-repo", "delete-repo"),
            fc.string({ unit: "binary", maxLength: 30 }),
          ),
          owner: fc.oneof(oddName, fc.jsonValue({ maxDepth: 1 })),
          name: fc.oneof(oddName, fc.jsonValue({ maxDepth: 1 })),
          dryRun: fc.jsonValue({ maxDepth: 1 }),
          executionId: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(eventLike, (event) => {
        tally.generatedEvents++;
        const result = v.safeParse(HandlerEvent, event);
        if (result.success) return;
        for (const issue of result.issues) {
          expect(issue.message.length).toBeGreaterThan(10);
          expect(issue.message.length).toBeLessThan(600);
          expect(issue.message).toMatch(PRINTABLE_MESSAGE);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
