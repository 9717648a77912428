import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonErrorOffset } from "../../src/config/json-error-offset.ts";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("finding where JSON breaks", () => {
  it("points at the closing brace after a trailing comma", () => {
    const text = '{"Repos":[{"Owner":"a","Name":"b",}]}';

    expect(jsonErrorOffset(text)).toBe(text.indexOf("}"));
  });

  it("points at the second value when a comma is missing", () => {
    const text = '{"Owner":"a" "Name":"b"}';

    expect(jsonErrorOffset(text)).toBe(13);
  });

  it("points at the end of an unterminated document", () => {
    expect(jsonErrorOffset('{"Repos":[')).toBe(10);
  });

  it("points at text after a complete document", () => {
    expect(jsonErrorOffset('{"a":1} x')).toBe(8);
  });

  it("accepts exactly what JSON.parse accepts, for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        expect(jsonErrorOffset(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });

  it("agrees with JSON.parse on arbitrary text, including broken JSON", () => {
    const brokenJson = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom(",", "}", "]", '"', ":", "\\", "x", ""))
      .map(([json, at, insert]) => {
        const cut = at % (json.length + 1);
        return json.slice(0, cut) + insert + json.slice(cut + (insert === "" ? 1 : 0));
      });
    fc.assert(
      fc.property(fc.oneof(fc.string(), brokenJson), (text) => {
        expect(jsonErrorOffset(text) === undefined).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });
});
