import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };

// npm's commands that publish to or change a registry: `npm run X` must never be one typo from one of them.
const REGISTRY_COMMANDS = [
  "publish",
  "unpublish",
  "deprecate",
  "dist-tag",
  "owner",
  "access",
  "version",
  "pack",
];

describe("package.json", () => {
  it("is private, so `npm publish` refuses it", () => {
    // Assess
    expect(pkg.private).toBe(true);
  });

  it("names no script after an npm command that changes a registry", () => {
    // Act
    const clashes = Object.keys(pkg.scripts).filter((name) => REGISTRY_COMMANDS.includes(name));

    // Assess
    expect(clashes).toEqual([]);
  });
});
