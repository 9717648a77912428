/**
 * README's repos.json examples are what a user copies first: each must be a list the function accepts. The JSON
 * code blocks that hold a `Repos` list are parsed as they are; each entry README quotes inline (a JSON object with
 * an `Owner`, e.g. `{ "Type": "organization", "Owner": "octo-org", "Visibility": "all" }`) is parsed as the one
 * entry of a version 2 list.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/shared/cli.ts";
import { parseReposConfig } from "../../src/config/repos-config.ts";

const README = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const WHERE = "s3://bucket/repos.json";

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON code blocks of README whose document has a `Repos` field. */
function listBlocks(): string[] {
  return [...README.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? "")
    .filter((text) => {
      const json = parsedOrUndefined(text);
      return isRecord(json) && "Repos" in json;
    });
}

/** The inline code spans of README that are one entry of the list: JSON objects with an `Owner`. */
function inlineEntries(): string[] {
  return [
    ...new Set(
      [...README.matchAll(/`(\{[^`]*\})`/g)]
        .map((match) => match[1] ?? "")
        .filter((text) => {
          const json = parsedOrUndefined(text);
          return isRecord(json) && "Owner" in json;
        }),
    ),
  ];
}

describe("README's repos.json examples", () => {
  it("quotes lists and entries to check", () => {
    expect(listBlocks().length).toBeGreaterThanOrEqual(3);
    expect(inlineEntries().length).toBeGreaterThanOrEqual(5);
  });

  it.each(listBlocks().map((text) => [text.split("\n").length, text] as const))(
    "accepts the list of %i lines as README writes it",
    (_, text) => {
      // Act
      const parse = () => parseReposConfig(text, WHERE);

      // Assess
      expect(parse).not.toThrow();
    },
  );

  it.each(inlineEntries())("accepts the entry %s as the one entry of a version 2 list", (entry) => {
    // Prepare
    const text = `{ "Version": 2, "Repos": [ ${entry} ] }`;

    // Act
    const parse = () => parseReposConfig(text, WHERE);

    // Assess
    expect(parse).not.toThrow();
  });
});
