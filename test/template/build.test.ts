import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUNDLE_PATH, ROOT, TEMPLATE_PATH } from "./dist.ts";

/** What the build reads: a copy of these builds exactly what the repository builds. */
const BUILD_INPUTS = ["package.json", "tsconfig.json", "scripts", "templates", "runbook", "src"];

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A scratch copy of the build inputs (node_modules linked), so the build can be run and broken freely. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "akm-build-"));
  copies.push(dir);
  for (const input of BUILD_INPUTS) cpSync(join(ROOT, input), join(dir, input), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

function build(cwd: string, ...args: string[]) {
  const result = spawnSync(process.execPath, ["scripts/build.mjs", ...args], { cwd, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("the build", () => {
  it("leaves dist/ exactly as a fresh build of the sources (npm run build -- --check)", () => {
    const result = build(ROOT, "--check");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("produces identical bytes twice in a row, equal to the committed dist/", () => {
    const dir = scratchCopy();
    expect(build(dir).status).toBe(0);
    const first = readFileSync(join(dir, "dist/aws-github-akm.template.yaml"));
    expect(build(dir).status).toBe(0);
    const second = readFileSync(join(dir, "dist/aws-github-akm.template.yaml"));
    expect(second.equals(first)).toBe(true);
    expect(first.equals(readFileSync(TEMPLATE_PATH))).toBe(true);
    expect(readFileSync(join(dir, "dist/lambda/index.js")).equals(readFileSync(BUNDLE_PATH))).toBe(true);
  });

  it("prints the template size, how to launch it, and that upgrades update the stack", () => {
    const dir = scratchCopy();
    const { stdout } = build(dir);
    expect(stdout).toMatch(/dist\/aws-github-akm\.template\.yaml\s+[\d.]+ KB/);
    expect(stdout).toContain("Upload a template file: dist/aws-github-akm.template.yaml");
    expect(stdout).toContain("npm run launch-link -- --bucket BUCKET --region REGION");
    expect(stdout).toContain("Update stack -> Replace existing template");
  });

  it("--help prints the usage and exits 0, like the other commands", () => {
    const result = build(ROOT, "--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Usage: npm run build [-- --check]");
    expect(result.stderr).toBe("");
  });

  it("exits 2 on an unknown argument and points to --help", () => {
    const result = build(ROOT, "--chek");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown argument(s) --chek.\nRun with --help for usage.");
  });

  it("--check names the stale file and says how to fix it", () => {
    const dir = scratchCopy();
    build(dir);
    writeFileSync(join(dir, "dist/lambda/index.js"), "// edited by hand\n");
    const result = build(dir, "--check");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("dist/lambda/index.js differs from a fresh build");
    expect(result.stderr).toContain("Run `npm run build`");
  });

  it("fails clearly when the Lambda entry is missing", () => {
    const dir = scratchCopy();
    rmSync(join(dir, "src/handler.ts"));
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("src/handler.ts does not exist");
  });

  it("changes the runbooks' fingerprint when a runbook's text changes, and only then", () => {
    const fingerprint = (dir: string) => {
      const template = parse(readFileSync(join(dir, "dist/aws-github-akm.template.yaml"), "utf8")) as {
        Resources: Record<string, { Properties: { RunbookContent: { Sha256: string } } }>;
      };
      return template.Resources.rRunbookDefaultVersions?.Properties.RunbookContent.Sha256;
    };
    const dir = scratchCopy();
    const path = join(dir, "runbook/get-repo-list.yaml");
    const before = fingerprint(ROOT);

    writeFileSync(path, `# a comment changes no content\n${readFileSync(path, "utf8")}`);
    expect(build(dir).status).toBe(0);
    const commentOnly = fingerprint(dir);
    writeFileSync(path, readFileSync(path, "utf8").replace("Changes nothing.", "Changes nothing at all."));
    expect(build(dir).status).toBe(0);
    const edited = fingerprint(dir);

    expect(commentOnly).toBe(before);
    expect(edited).toMatch(/^[0-9a-f]{64}$/);
    expect(edited).not.toBe(before);
  });

  it("refuses a runbook that would show a NoEcho parameter in the custom resource's properties", () => {
    const dir = scratchCopy();
    const path = join(dir, "runbook/get-repo-list.yaml");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: "${...}" is CloudFormation Fn::Sub syntax here.
    writeFileSync(path, readFileSync(path, "utf8").replace("Changes nothing.", "Token ${pGitHubToken}."));
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /templates\/40-runbooks\.yaml:\d+: the runbooks use the NoEcho parameter\(s\) pGitHubToken/,
    );
  });

  it("points at the file and line of a runbook the template asks for but does not have", () => {
    const dir = scratchCopy();
    const path = join(dir, "templates/40-runbooks.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace("!Runbook rotate", "!Runbook rotat"));
    const result = build(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /templates\/40-runbooks\.yaml:\d+ asks for !Runbook rotat, .* does not exist/,
    );
  });
});
