import { describe, expect, it } from "vitest";
import pkg from "../../package.json" with { type: "json" };
import lock from "../../package-lock.json" with { type: "json" };

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

describe("install scripts", () => {
  it("allows by name exactly the locked packages that have install scripts, so npm ci runs none unseen", () => {
    // Prepare: the lockfile marks each package with an install script (hasInstallScript).
    const locked = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length));

    // Act
    const allowed = Object.entries(pkg.allowScripts)
      .filter(([, allow]) => allow)
      .map(([name]) => name);

    // Assess
    expect([...new Set(locked)].sort()).toEqual(allowed.sort());
  });
});
