import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import {
  ADDED_REPO,
  createDemoCommand,
  DEMO_REPOS,
  DemoFailure,
  type DemoProcess,
  ensurePythonTools,
  motoServerPath,
  Output,
  requireLambdaNode,
  Teardown,
  wantsColour,
} from "../../scripts/lib/demo.ts";
import { PROJECT_ROOT, UsageError } from "../../scripts/lib/shared/cli.ts";
import { runCli } from "./cli-harness.ts";

interface DemoRun {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `scripts/demo.ts` as `npm run demo` does (tsx, from the project root), with CI=true and pipes, not a
 * terminal. `interruptWhen` sends SIGINT once stdout contains that text.
 */
function runDemo(options: { readonly interruptWhen?: string } = {}): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
        join(PROJECT_ROOT, "scripts", "demo.ts"),
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      if (!interrupted && options.interruptWhen !== undefined && stdout.includes(options.interruptWhen)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

/** The lines of the section whose heading starts with `heading`, up to the next heading. */
function section(stdout: string, heading: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start === -1) throw new Error(`no section "${heading}" in:\n${stdout}`);
  const end = lines.findIndex((line, i) => i > start && line !== "" && !line.startsWith(" "));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The rows of the table whose header line starts with `header` (cells are separated by 2+ spaces). */
function tableRows(lines: readonly string[], header: string): string[][] {
  const start = lines.findIndex((line) => line.trim().startsWith(header));
  if (start === -1) throw new Error(`no table "${header}" in:\n${lines.join("\n")}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    rows.push(line.trim().split(/ {2,}/));
  }
  return rows;
}

describe("npm run demo", () => {
  it("rotates through every runbook on a local stack, shows key IDs only and ends on one active key", async () => {
    // Act
    const run = await runDemo();

    // Assess
    expect(run.exitCode, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).not.toContain("\u001b["); // no colours when not a terminal

    const firstRotation = section(run.stdout, "3/5");
    const first = tableRows(firstRotation, "REPO");
    expect(first.map(([repo]) => repo)).toEqual(DEMO_REPOS);
    const firstKey = first[0]?.[2] ?? "";
    expect(firstKey).toMatch(/^AKIA[A-Z0-9]{16}$/);
    for (const row of first) expect(row).toEqual([row[0], "written", firstKey, "✓ decrypts to active key"]);
    const [legacyAfterFirst, newAfterFirst] = tableRows(firstRotation, "KEY ID");
    expect(legacyAfterFirst?.slice(1)).toEqual(["original tool (legacy)", "Active", "Inactive"]);
    expect(newAfterFirst).toEqual([firstKey, "Rotate #1", "Active", "Active"]);

    const secondRotation = section(run.stdout, "5/5");
    const second = tableRows(secondRotation, "REPO");
    expect(second.map(([repo]) => repo)).toEqual([...DEMO_REPOS, ADDED_REPO]);
    const secondKey = second[0]?.[2] ?? "";
    expect(secondKey).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(secondKey).not.toBe(firstKey);
    for (const row of second) expect(row).toEqual([row[0], "written", secondKey, "✓ decrypts to active key"]);
    const finalKeys = tableRows(secondRotation, "KEY ID");
    expect(finalKeys).toEqual([
      [legacyAfterFirst?.[0], "original tool (legacy)", "deleted", "deleted"],
      [firstKey, "Rotate #1", "Active", "Inactive"],
      [secondKey, "Rotate #2", "Active", "Active"],
    ]);
    expect(finalKeys.filter((row) => row[3] === "Active")).toHaveLength(1);

    const checks = section(run.stdout, "Checks").filter((line) => line.trim() !== "");
    expect(checks.length).toBeGreaterThan(0);
    for (const line of checks) expect(line.trim()).toMatch(/^✓ /);

    // Secret hygiene: moto issues 40-character secrets of [A-Za-z0-9+/]; the token is "emulated-token-<hex>".
    expect(output).not.toMatch(/[A-Za-z0-9+/]{40,}/);
    expect(output).not.toMatch(/emulated-token|[0-9a-f]{32,}/);
  });

  it("stops its servers and exits 130 on Ctrl-C in the middle of a rotation", async () => {
    // Act
    const run = await runDemo({ interruptWhen: "3/5" });

    // Assess
    expect(run.exitCode, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(130);
    expect(run.stderr).toContain("demo: interrupted (SIGINT)");
    const moto = /AWS \(moto\)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    const github = /GitHub emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    expect(moto).toBeDefined();
    expect(github).toBeDefined();
    await expect(fetch(`${moto}/moto-api/`)).rejects.toThrow();
    await expect(fetch(`${github}/user`)).rejects.toThrow();
  });
});

describe("demo command prerequisites", () => {
  const temporaryDirs: string[] = [];
  const temporaryDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "akm-demo-"));
    temporaryDirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const host: DemoProcess = {
    colour: false,
    onSignal: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };

  it("exits 2 and says to run npm run build when the rendered template is missing", async () => {
    // Prepare
    const root = temporaryDir();

    // Act
    const run = await runCli(createDemoCommand(host), [], root);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("dist/aws-github-akm.template.yaml does not exist");
    expect(run.stderr).toContain("npm run build");
    expect(run.stdout).toBe("");
  });

  it("prints its help, with what it needs and its exit codes, on --help", async () => {
    // Act
    const run = await runCli(createDemoCommand(host), ["--help"]);

    // Assess
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Usage: npm run demo");
    expect(run.stdout).toContain("npm run build");
    expect(run.stdout).toContain("130  interrupted");
  });

  it("exits 2 on arguments, which it does not take", async () => {
    // Act
    const run = await runCli(createDemoCommand(host), ["--fast"]);

    // Assess
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("demo takes no arguments");
  });

  it("installs only moto (scripts/setup-python.sh demo), saying so, when moto is not installed", async () => {
    // Prepare: a stand-in that records which set it was asked for.
    const root = temporaryDir();
    mkdirSync(join(root, "scripts"));
    writeFileSync(
      join(root, "scripts", "setup-python.sh"),
      'mkdir -p .venv/bin && touch .venv/bin/moto_server && echo "$1" > .venv/asked\n',
    );
    const lines: string[] = [];

    // Act
    await ensurePythonTools(root, new Output((line) => lines.push(line), false));

    // Assess
    expect(existsSync(motoServerPath(root))).toBe(true);
    expect(readFileSync(join(root, ".venv", "asked"), "utf8")).toBe("demo\n");
    expect(lines.join("\n")).toContain(
      "Running `bash scripts/setup-python.sh demo`: it creates .venv and installs the pinned moto[server]",
    );
  });

  it("says plainly that Node 24 is missing when the node@24 install script did not run", () => {
    // Prepare: a project whose node_modules has no node@24 binary.
    const root = temporaryDir();

    // Act
    const act = () => requireLambdaNode(root);

    // Assess
    expect(act).toThrow(UsageError);
    expect(act).toThrow(/Node 24 is not installed: node_modules\/node\/bin\/node is missing/);
    expect(act).toThrow(/Run `npm rebuild node`/);
  });

  it("finds the Node 24 binary of this project", () => {
    // Act
    const act = () => requireLambdaNode(PROJECT_ROOT);

    // Assess
    expect(act).not.toThrow();
  });

  it("fails with what to do when scripts/setup-python.sh fails", async () => {
    // Prepare
    const root = temporaryDir();
    mkdirSync(join(root, "scripts"));
    writeFileSync(join(root, "scripts", "setup-python.sh"), "exit 3\n");
    chmodSync(join(root, "scripts", "setup-python.sh"), 0o755);

    // Act
    const installing = ensurePythonTools(root, new Output(() => {}, false));

    // Assess
    await expect(installing).rejects.toBeInstanceOf(DemoFailure);
    await expect(installing).rejects.toThrow(/failed \(exit 3\).*python3/s);
  });

  it("does nothing when moto is installed", async () => {
    // Prepare
    const root = temporaryDir();
    mkdirSync(join(root, ".venv", "bin"), { recursive: true });
    writeFileSync(motoServerPath(root), "");
    const lines: string[] = [];

    // Act
    await ensurePythonTools(root, new Output((line) => lines.push(line), false));

    // Assess
    expect(lines).toEqual([]);
  });
});

describe("demo teardown", () => {
  it("stops what started in reverse order, once, including a server still starting", async () => {
    // Prepare
    const teardown = new Teardown();
    const stopped: string[] = [];
    await teardown.start("first", Promise.resolve("a"), async (value) => {
      stopped.push(value);
    });
    let finishStarting: (value: string) => void = () => {};
    const starting = teardown.start(
      "second",
      new Promise<string>((resolve) => {
        finishStarting = resolve;
      }),
      async (value) => {
        stopped.push(value);
      },
    );

    // Act
    const done = teardown.run(() => {});
    finishStarting("b");
    await Promise.all([done, starting, teardown.run(() => {})]);

    // Assess
    expect(stopped).toEqual(["b", "a"]);
  });

  it("reports a server that cannot be stopped and stops the others", async () => {
    // Prepare
    const teardown = new Teardown();
    const stopped: string[] = [];
    const reports: string[] = [];
    await teardown.start("moto", Promise.resolve("moto"), async (value) => {
      stopped.push(value);
    });
    await teardown.start("the emulator", Promise.resolve("emulator"), async () => {
      throw new Error("already closed");
    });

    // Act
    await teardown.run((line) => reports.push(line));

    // Assess
    expect(stopped).toEqual(["moto"]);
    expect(reports).toEqual(["could not stop the emulator: already closed"]);
  });
});

describe("demo output", () => {
  it("uses colour only on a terminal without NO_COLOR or TERM=dumb", () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({}, {})).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  it("aligns table columns by their text, not by colour codes", () => {
    // Prepare
    const plain: string[] = [];
    const coloured: string[] = [];
    const rows = [
      ["acme/api", { text: "written", style: "good" as const }, "AKIA1"],
      ["acme/billing", { text: "failed", style: "bad" as const }, "AKIA2"],
    ];

    // Act
    new Output((line) => plain.push(line), false).table(["repo", "result", "key"], rows);
    const out = new Output((line) => coloured.push(line), true);
    out.table(["repo", "result", "key"], rows);

    // Assess
    expect(plain).toEqual([
      "  REPO          RESULT   KEY",
      "  acme/api      written  AKIA1",
      "  acme/billing  failed   AKIA2",
    ]);
    expect(coloured.map((line) => stripVTControlCharacters(line))).toEqual(plain);
    expect(coloured).not.toEqual(plain);
    expect(out.text).toBe(plain.join("\n"));
  });
});
