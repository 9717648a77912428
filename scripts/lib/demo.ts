/**
 * `npm run demo`: a complete key rotation on this machine, without AWS or GitHub. It starts moto and the GitHub
 * emulator (scripts/local-stack/), deploys the stack's resources there as the template creates them, and tells
 * the story through the runbooks exactly as dist/ deploys them (the runbook simulator runs them; their Lambda
 * steps run the template's inline code on Node 24): list the repositories, plan a rotation, rotate, add a
 * repository, rotate again. Only access key IDs are ever printed; the GitHub emulator decrypts what the function
 * wrote, so each repository's pair is checked against IAM without showing it. The output is in colour only on a
 * terminal, and every line is kept so the demo can check its own output for secrets before it ends.
 * scripts/demo.ts runs this in a child process (see there why).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { SETTINGS_ENV } from "../../src/config/settings.ts";
import type { HandlerResult, RepoResult } from "../../src/handler-contract.ts";
import { parseRepoLogLines } from "../../src/render-answer.ts";
import { startMoto } from "../local-stack/moto.ts";
import {
  createStack,
  type KeyState,
  type RunbookName,
  type RunbookRun,
  type Stack,
} from "../local-stack/stack-fixture.ts";
import { CliError, type Command, ExitCode, exitCodeHelp, UsageError } from "./shared/cli.ts";

/** The IAM user whose key rotates (the README's example name). */
const DEMO_USER = "ci-deployer";
/** The repositories in repos.json at the start, each holding the legacy key. */
export const DEMO_REPOS: readonly string[] = [
  "acme/api",
  "acme/web",
  "acme/mobile",
  "acme/infra",
  "acme/docs",
];
/** Exists on the emulated GitHub from the start; Add-RepoConfig lists it before the second rotation. */
export const ADDED_REPO = "acme/billing";

const HELP = `Usage: npm run demo

Runs a complete key rotation on this machine, without AWS or GitHub: moto stands in for AWS and a local
emulator for GitHub, and the runbooks and Lambda code are those of dist/aws-github-akm.template.yaml,
exactly as deployed. An IAM user "${DEMO_USER}" starts with one key made by the original tool, already in
the Actions secrets of ${DEMO_REPOS.length} repositories. The demo then runs Get-RepoList, Rotate with
DryRun=true, Rotate (the grace period is simulated, then Retire runs), Add-RepoConfig for ${ADDED_REPO},
and Rotate again, and prints what each did and the keys IAM holds.

Only access key IDs are printed, never a secret: the GitHub emulator decrypts what the function wrote and
the demo checks it against IAM. It takes about half a minute (the function spaces its GitHub writes a
second apart, as against the real GitHub). Ctrl-C stops it and every server it started.

Needs Node.js with the project's dependencies (npm ci, including the Node 24 binary of the node@24 dev
dependency), dist/aws-github-akm.template.yaml (npm run build), and moto in .venv (installed on the first
run by \`bash scripts/setup-python.sh demo\`, which needs python3 and access to PyPI). No AWS credentials,
no GitHub account.

${exitCodeHelp({ runbookFailed: false })}
  1  also: a runbook did not succeed, or one of the demo's checks failed (the message lists them)
  130  interrupted (Ctrl-C)`;

/** Dependencies the process gives the demo. */
export interface DemoProcess {
  /** Whether standard output gets colours. */
  readonly colour: boolean;
  /** Registers a handler for every arrival of a termination signal; returns how to remove it. */
  readonly onSignal: (signal: NodeJS.Signals, handler: () => void) => () => void;
  /** Ends the process (after an interruption). */
  readonly exit: (code: number) => never;
}

const PROCESS: DemoProcess = {
  colour: wantsColour(process.stdout, process.env),
  onSignal: (signal, handler) => {
    process.on(signal, handler);
    return () => process.removeListener(signal, handler);
  },
  exit: (code) => process.exit(code),
};

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function createDemoCommand(host: DemoProcess = PROCESS): Command {
  return {
    name: "demo",
    help: HELP,
    async run(argv, context) {
      if (argv.length > 0) {
        throw new UsageError(`demo takes no arguments (got: ${argv.join(" ")}).\nRun with --help for usage.`);
      }
      const started = performance.now();
      const out = new Output(context.stdout, host.colour);
      requireRenderedTemplate(
        context.projectRoot,
        join(context.projectRoot, "dist", "aws-github-akm.template.yaml"),
      );
      requireLambdaNode(context.projectRoot);
      out.line(
        out.style(
          "aws-github-akm demo: a complete key rotation on this machine, without AWS or GitHub",
          "bold",
        ),
      );
      await ensurePythonTools(context.projectRoot, out);

      const teardown = new Teardown();
      const killLambda = new AbortController();
      let interrupted: NodeJS.Signals | undefined;
      const interrupt = (signal: NodeJS.Signals) => {
        // Repeats (the terminal's Ctrl-C and the one scripts/demo.ts passes on) while stopping change nothing.
        if (interrupted !== undefined) return;
        interrupted = signal;
        context.stderr(`\ndemo: interrupted (${signal}); stopping the servers it started...`);
        killLambda.abort();
        void teardown.run(context.stderr).finally(() => host.exit(128 + (constants.signals[signal] ?? 2)));
      };
      const removers = SIGNALS.map((signal) => host.onSignal(signal, () => interrupt(signal)));
      try {
        out.line("Starting moto (the local AWS) and the GitHub emulator...");
        const moto = await teardown.start("moto", failsAs("start moto", startMoto()), (server) =>
          server.stop(),
        );
        const stack = await teardown.start(
          "the GitHub emulator",
          failsAs(
            "set up the demo stack",
            createStack(moto.endpoint, {
              userName: DEMO_USER,
              repos: DEMO_REPOS,
              githubRepos: [...DEMO_REPOS, ADDED_REPO],
              existingKeys: 1,
              seedReposWithExistingKey: true,
            }),
          ),
          (created) => created.close(),
        );
        const problems = await new Scenario(stack, out, killLambda.signal).run();
        if (problems.length > 0) {
          throw new DemoFailure(
            `the demo's checks found ${problems.length} problem(s):\n${problems.map((problem) => `- ${problem}`).join("\n")}`,
          );
        }
        out.line();
        out.line(
          `Done in ${((performance.now() - started) / 1000).toFixed(0)} s. To deploy it for real, see README.md, section Install.`,
        );
        return ExitCode.Success;
      } catch (error) {
        // After Ctrl-C, failures of what was running are expected: the signal handler reports and exits.
        if (interrupted !== undefined) return new Promise<never>(() => {});
        throw error;
      } finally {
        if (interrupted === undefined) await teardown.run(context.stderr);
        for (const remove of removers) remove();
      }
    },
  };
}

/** Turns an unexpected error of a setup step into a DemoFailure that says what was being done. */
async function failsAs<T>(action: string, promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new DemoFailure(`could not ${action}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** The demo could not complete: its message says what failed and, where known, what to do. Exit 1. */
export class DemoFailure extends CliError {
  readonly exitCode = ExitCode.Failure;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DemoFailure";
  }
}

/** The demo runs the template users deploy; without it there is nothing to run. Exit 2 (`npm run build`). */
function requireRenderedTemplate(projectRoot: string, templatePath: string): void {
  if (existsSync(templatePath)) return;
  throw new UsageError(
    `${relative(projectRoot, templatePath)} does not exist: the demo runs the runbooks and Lambda code of the rendered template.\nRun \`npm run build\` first, then \`npm run demo\` again.`,
  );
}

/** The Node binary the Lambda code runs on (the `node@24` dev dependency, as in scripts/local-stack/lambda-runner.ts). */
function lambdaNodePath(projectRoot: string): string {
  return join(projectRoot, "node_modules", "node", "bin", "node");
}

/**
 * The demo runs the Lambda code on Node 24, the runtime's major. That binary comes from the `node@24` dev
 * dependency's install script; when it did not run (`npm ci --ignore-scripts`, or an npm that skips install
 * scripts not listed in package.json's allowScripts), say so instead of failing later with ENOENT. Exit 2.
 */
export function requireLambdaNode(projectRoot: string): void {
  if (existsSync(lambdaNodePath(projectRoot))) return;
  throw new UsageError(
    `Node 24 is not installed: ${relative(projectRoot, lambdaNodePath(projectRoot))} is missing. The demo runs the ` +
      "Lambda code on it (the nodejs24.x runtime's major). It comes from the node@24 dev dependency, whose install " +
      "script did not run (npm ci --ignore-scripts, or an npm that skips install scripts not allowed in " +
      "package.json's allowScripts).\nRun `npm rebuild node` (or `npm ci` with install scripts allowed), then " +
      "`npm run demo` again.",
  );
}

/** The moto server the demo starts (installed into .venv by scripts/setup-python.sh). */
export function motoServerPath(projectRoot: string): string {
  return join(projectRoot, ".venv", "bin", "moto_server");
}

/**
 * Installs the pinned moto server into .venv when it is missing (`scripts/setup-python.sh demo`: moto only,
 * not the test tools), saying so first (it downloads from PyPI and takes a minute, once). Its own output goes
 * straight to the terminal.
 */
export async function ensurePythonTools(projectRoot: string, out: Output): Promise<void> {
  if (existsSync(motoServerPath(projectRoot))) return;
  const script = join("scripts", "setup-python.sh");
  out.line(
    `moto (the local AWS) is not installed yet: ${relative(projectRoot, motoServerPath(projectRoot))} is missing.`,
  );
  out.line(
    `Running \`bash ${script} demo\`: it creates .venv and installs the pinned moto[server] from scripts/requirements-demo.txt (once; needs python3 and access to PyPI)...`,
  );
  const outcome = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const child = spawn("bash", [script, "demo"], {
      cwd: projectRoot,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("exit", (code, signal) => resolve({ code: code ?? (signal === null ? null : 128) }));
  });
  if (outcome.code !== 0) {
    const how = outcome.error
      ? `could not start (${outcome.error.message})`
      : `failed (exit ${outcome.code})`;
    throw new DemoFailure(
      `bash ${script} demo ${how}. Fix what it printed (it needs python3 with the venv module; on Debian/Ubuntu: apt install python3-venv), then run \`npm run demo\` again.`,
    );
  }
  if (!existsSync(motoServerPath(projectRoot))) {
    throw new DemoFailure(
      `bash ${script} demo succeeded but ${relative(projectRoot, motoServerPath(projectRoot))} is still missing; check scripts/requirements-demo.txt lists moto[server].`,
    );
  }
  out.line("Python tools installed.");
}

/**
 * Stops what the demo started, in reverse order, exactly once: at the end, on an error, or on Ctrl-C.
 * A server still starting when teardown begins is stopped as soon as it is up, so none is left behind.
 */
export class Teardown {
  readonly #stops: { readonly what: string; readonly stop: () => Promise<void> }[] = [];
  readonly #starting = new Set<Promise<unknown>>();
  #running: Promise<void> | undefined;

  /** Awaits `starting` and registers how to stop what it started. */
  async start<T>(what: string, starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
    const tracked = starting.then((started) => {
      this.#stops.push({ what, stop: () => stop(started) });
      return started;
    });
    this.#starting.add(tracked);
    try {
      return await tracked;
    } finally {
      this.#starting.delete(tracked);
    }
  }

  /** Stops everything (the first call does the work; later calls wait for it). Never rejects. */
  run(report: (line: string) => void): Promise<void> {
    this.#running ??= (async () => {
      await Promise.allSettled([...this.#starting]);
      for (const { what, stop } of this.#stops.splice(0).reverse()) {
        try {
          await stop();
        } catch (error) {
          report(`could not stop ${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.#running;
  }
}

/** How many numbered steps the story has (its headings read "3/5"). */
const STEPS = 5;
/** The Rotate runbook's aws:sleep before Retire (runbook/rotate.yaml). */
const GRACE_STEP = "WaitForGracePeriod";

/** The demo's story over a local stack; `run` returns the problems its own checks found (empty: all held). */
class Scenario {
  readonly #problems: string[] = [];
  /** Where each key ID came from, in the order the keys were made. */
  readonly #origins = new Map<string, string>();
  readonly #keyIdSecret: string;
  readonly #secretKeySecret: string;
  #keysDuringGrace: KeyState[] | undefined;

  constructor(
    private readonly stack: Stack,
    private readonly out: Output,
    private readonly killLambda: AbortSignal,
  ) {
    this.#keyIdSecret = stack.env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID";
    this.#secretKeySecret = stack.env[SETTINGS_ENV.secretNameSecretKey] ?? "AWS_SECRET_ACCESS_KEY";
  }

  async run(): Promise<string[]> {
    const legacy = this.stack.existingKeys[0]?.accessKeyId;
    if (legacy === undefined)
      throw new DemoFailure("the demo stack has no pre-existing key (a bug in the demo)");
    this.#origins.set(legacy, "original tool (legacy)");
    this.#introduce(legacy);

    await this.#getRepoList();
    await this.#dryRun(legacy);
    const first = await this.#rotate(
      3,
      "Rotate: create and verify a new key, write it everywhere, then retire the old one",
      "Rotate #1",
    );
    await this.#addRepo();
    const second = await this.#rotate(
      5,
      `Rotate again: the legacy key is deleted, ${ADDED_REPO} gets the key`,
      "Rotate #2",
    );
    await this.#checks({ legacy, first, second });
    return this.#problems;
  }

  #introduce(legacy: string): void {
    const { stack, out } = this;
    out.heading("The local stack");
    const runtime = stack.lambda.runtime;
    out.fields([
      ["AWS (moto)", `${stack.endpoint}  IAM, STS, S3, Secrets Manager, KMS`],
      ["GitHub emulator", `${stack.github.url}  decrypts what it receives, so the demo can check it`],
      [
        "template",
        `dist/aws-github-akm.template.yaml: its runbooks run by a local simulator, its Lambda code (${runtime}) on Node 24`,
      ],
      ["IAM user", `${stack.user.userName}, one access key ${legacy} (Active), made by the original tool`],
      ["repos.json", `s3://${stack.bucket}/${stack.configKey}: ${stack.repos.length} repositories`],
      [
        "secrets",
        `each repository holds ${legacy} in ${this.#keyIdSecret} and its secret in ${this.#secretKeySecret}`,
      ],
    ]);
  }

  async #getRepoList(): Promise<void> {
    const run = await this.#runbook(1, "Get-RepoList: the repositories in repos.json", "Get-RepoList");
    const listed = parseRepoLogLines(run.invocations.at(-1)?.logs ?? "").map((repo) => repo.repo);
    this.out.line(`${listed.length} repositories: ${listed.join(", ")}`, 2);
    for (const repo of this.stack.repos) {
      if (!listed.includes(repo)) this.#problems.push(`Get-RepoList did not list ${repo}`);
    }
  }

  async #dryRun(legacy: string): Promise<void> {
    const { stack, out } = this;
    const keysBefore = await stack.keys();
    const writesBefore = this.#secretWrites();
    const run = await this.#runbook(2, "Rotate with DryRun=true: the plan, nothing changes", "Rotate", {
      DryRun: true,
    });
    const result = rotateResults(run);
    out.block(preamble(rotateSummary(run)));
    out.line();
    out.table(
      ["repo", "holds now", "plan", "secrets"],
      result.map((repo) => [
        repo.repo,
        this.#key(stack.secretValues(repo.repo).accessKeyId ?? "(none)"),
        repo.result,
        repo.detail,
      ]),
    );
    const keysAfter = await stack.keys();
    const unchanged =
      JSON.stringify(keysAfter) === JSON.stringify(keysBefore) && this.#secretWrites() === writesBefore;
    out.line();
    out.check(unchanged, `nothing changed: IAM still has only ${legacy} (Active), no secret was written`);
    if (!unchanged) this.#problems.push("the dry run changed IAM keys or GitHub secrets");
  }

  /** A real rotation: its table, the simulated grace period, Retire, and the keys. Returns the new key ID. */
  async #rotate(step: number, title: string, origin: string): Promise<string> {
    const { stack, out } = this;
    this.#keysDuringGrace = undefined;
    const sleepsBefore = stack.sleeps.length;
    const run = await this.#runbook(step, title, "Rotate", {});
    const outputs = run.execution.outputs;
    const newKey = String(outputs["CheckRotateResult.NewAccessKeyId"] ?? "");
    if (!/^AKIA[A-Z0-9]{16}$/.test(newKey))
      throw new DemoFailure(`Rotate reported no new key ID (got "${newKey}")`);
    this.#origins.set(newKey, origin);

    out.block(preamble(rotateSummary(run)));
    out.line();
    const keys = await stack.keys();
    const rows: CellInput[][] = [];
    for (const repo of rotateResults(run)) {
      const verdict = await this.#verify(repo.repo, keys, newKey);
      rows.push([
        repo.repo,
        { text: repo.result, style: repo.result === "failed" ? "bad" : undefined },
        this.#key(verdict.held ?? "(none)"),
        { text: verdict.text, style: verdict.ok ? "good" : "bad" },
      ]);
    }
    out.table(["repo", "result", "key ID now held", "verified"], rows);

    const sleeps = stack.sleeps.slice(sleepsBefore);
    const grace = sleeps.find((sleep) => sleep.stepName === GRACE_STEP);
    out.line();
    // WaitForWriteBudget runs in every loop iteration; it waits only when GitHub's write budget is used up.
    for (const other of sleeps.filter((sleep) => sleep !== grace && sleep.ms >= 1000)) {
      out.line(`${other.stepName}: waits ${Math.round(other.ms / 1000)} s (simulated).`, 2);
    }
    if (grace === undefined) {
      this.#problems.push(`step ${step}: the Rotate runbook did not reach ${GRACE_STEP}`);
      out.check(false, `the runbook did not reach ${GRACE_STEP}`);
    } else {
      out.line(
        `${GRACE_STEP}: waits ${Math.round(grace.ms / 60_000)} min (until ${grace.timestamp ?? "?"}) so running workflows finish with the old key;`,
        2,
      );
      out.line("simulated: the stack's clock moved forward instead of waiting.", 2);
    }
    const retire = String(outputs["CheckRetire.Summary"] ?? "(Retire did not run)");
    out.line(`Retire: ${retire.split("\n")[0] ?? ""}`, 2);
    out.line();
    this.#keysTable(await stack.keys());
    return newKey;
  }

  async #addRepo(): Promise<void> {
    const [owner = "", name = ""] = ADDED_REPO.split("/");
    const run = await this.#runbook(4, `Add-RepoConfig: list ${ADDED_REPO}`, "Add-RepoConfig", {
      GITHUBOWNER: owner,
      GITHUBREPO: name,
    });
    this.out.block(String(run.execution.outputs["CheckAddRepo.Summary"] ?? ""));
  }

  /** Runs one runbook, with a heading before and its status after; a run that does not succeed ends the demo. */
  async #runbook(
    step: number,
    title: string,
    name: RunbookName,
    parameters: Readonly<Record<string, unknown>> = {},
  ): Promise<RunbookRun> {
    const { stack, out } = this;
    const document = stack.runbookDocument(name).name;
    const shown = Object.entries(parameters).map(([key, value]) => `${key}=${String(value)}`);
    out.heading(`${step}/${STEPS}  ${title}`);
    const started = performance.now();
    let run: RunbookRun;
    try {
      run = await stack.runRunbook(name, parameters, {
        killLambda: this.killLambda,
        onSleep: async (sleep) => {
          if (sleep.stepName === GRACE_STEP) this.#keysDuringGrace = await stack.keys();
        },
      });
    } catch (error) {
      throw new DemoFailure(
        `${document} could not run: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
    const { status, failureMessage } = run.execution;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const line = `${document}${shown.length > 0 ? ` ${shown.join(" ")}` : ""}`;
    const note = `${status}, ${seconds} s`;
    out.line(
      `${line}  ${note}`,
      2,
      `${out.style(line, "dim")}  ${out.style(note, status === "Success" ? "good" : "bad")}`,
    );
    if (status !== "Success") {
      throw new DemoFailure(`${document} ended ${status}: ${failureMessage ?? "(no failure message)"}`);
    }
    return run;
  }

  /** What the emulator decrypted for a repository, checked against IAM (only the key ID is returned). */
  async #verify(
    repo: string,
    keys: readonly KeyState[],
    expected: string,
  ): Promise<{ held: string | undefined; ok: boolean; text: string }> {
    const { accessKeyId: held, secretAccessKey } = this.stack.secretValues(repo);
    const fail = (text: string) => {
      this.#problems.push(`${repo}: ${text}`);
      return { held, ok: false, text: `✗ ${text}` };
    };
    if (held === undefined) return fail(`no ${this.#keyIdSecret} secret`);
    const status = keys.find((key) => key.accessKeyId === held)?.status ?? "deleted";
    if (status !== "Active") return fail(`holds a key that is ${status} in IAM`);
    const issued = await this.stack.issuedSecretOf(held);
    if (secretAccessKey === undefined || issued === undefined || secretAccessKey !== issued) {
      return fail(`${this.#secretKeySecret} does not decrypt to that key's secret`);
    }
    if (held !== expected) return fail(`holds ${held}, not the new key ${expected}`);
    return { held, ok: true, text: "✓ decrypts to active key" };
  }

  /** Every key the demo has seen, with its status while the runbook waited and now ("deleted": gone). */
  #keysTable(now: readonly KeyState[]): void {
    const during = this.#keysDuringGrace;
    const statusIn = (keys: readonly KeyState[] | undefined, id: string) =>
      keys === undefined ? "-" : (keys.find((key) => key.accessKeyId === id)?.status ?? "deleted");
    const style = (status: string) =>
      status === "Active" ? ("good" as const) : status === "deleted" ? ("dim" as const) : undefined;
    this.out.line("IAM access keys of the user:", 2);
    this.out.table(
      ["key ID", "made by", "during grace", "now"],
      [...this.#origins].map(([id, origin]) => {
        const current = statusIn(now, id);
        return [
          this.#key(id),
          origin,
          { text: statusIn(during, id), style: style(statusIn(during, id)) },
          { text: current, style: style(current) },
        ];
      }),
    );
  }

  async #checks(keys: { legacy: string; first: string; second: string }): Promise<void> {
    const { stack, out } = this;
    const final = await stack.keys();
    const statusOf = (id: string) => final.find((key) => key.accessKeyId === id)?.status ?? "deleted";
    const listed = this.#listedRepos();
    const held = new Set(listed.map((repo) => stack.secretValues(repo).accessKeyId));
    out.heading("Checks");
    const expected: [string, string, string][] = [
      [keys.legacy, "deleted", "the legacy key"],
      [keys.first, "Inactive", "the first rotation's key"],
      [keys.second, "Active", "the second rotation's key"],
    ];
    const wrong = expected.filter(([id, status]) => statusOf(id) !== status);
    const onOne = wrong.length === 0 && final.length === 2 && held.size === 1 && held.has(keys.second);
    out.check(
      onOne,
      `one active key, ${keys.second}, held by all ${listed.length} listed repositories; the legacy key is deleted, the first rotation's inactive`,
    );
    for (const [id, status, what] of wrong) {
      this.#problems.push(`${what} ${id} is ${statusOf(id)} in IAM, expected ${status}`);
    }
    if (held.size !== 1 || !held.has(keys.second)) {
      this.#problems.push(`the listed repositories hold ${[...held].join(", ")}, not only ${keys.second}`);
    }

    const leaks = await stack.secretLeaks([out.text]);
    out.check(
      leaks.length === 0,
      "no secret (access key secrets, GitHub token) in Lambda logs, runbook outputs or this output",
    );
    this.#problems.push(...leaks);
    out.check(
      stack.r1Failures.length === 0,
      `at each of ${this.#secretWrites()} secret writes, every listed repository held an active key`,
    );
    this.#problems.push(...stack.r1Failures);
    out.check(stack.maxKeysSeen <= 2, `never more than 2 access keys (most seen: ${stack.maxKeysSeen})`);
    if (stack.maxKeysSeen > 2) this.#problems.push(`the user had ${stack.maxKeysSeen} access keys at once`);
    out.check(
      stack.github.violations.length === 0,
      `all ${stack.github.requests.length} GitHub requests valid against GitHub's OpenAPI description`,
    );
    this.#problems.push(...stack.github.violations.map((violation) => `GitHub would refuse: ${violation}`));
  }

  #listedRepos(): string[] {
    return [...this.stack.repos, ADDED_REPO];
  }

  /** PUTs of Actions secrets so far, over every repository. */
  #secretWrites(): number {
    return this.#listedRepos().reduce((sum, repo) => sum + this.stack.secretPuts(repo), 0);
  }

  #key(id: string): CellInput {
    return { text: id, style: "key" };
  }
}

/** The lines of a Rotate summary before its per-repository list (which the demo shows as a table). */
function preamble(summary: string): string {
  const lines = summary.split("\n");
  const end = lines.findIndex((line) => line.startsWith("Repositories ("));
  return (end === -1 ? lines : lines.slice(0, end)).join("\n");
}

/** Each repository's last result over the run's Rotate invocations (a long rotation spans several). */
function rotateResults(run: RunbookRun): RepoResult[] {
  const byRepo = new Map<string, RepoResult>();
  for (const invocation of run.invocations) {
    if (invocation.functionError !== undefined) continue;
    const result = invocation.result as HandlerResult | null;
    if (result?.action !== "rotate") continue;
    for (const repo of parseRepoLogLines(invocation.logs)) byRepo.set(repo.repo, repo);
  }
  return [...byRepo.values()];
}

/** The last Rotate invocation's summary (its check step's output): the plan, or what it wrote where. */
function rotateSummary(run: RunbookRun): string {
  const checks = run.execution.steps.filter((step) => step.stepName === "CheckRotate");
  return String(checks.at(-1)?.outputs.Summary ?? "");
}

/** How a piece of text is emphasised on a colour terminal; plain text elsewhere. */
export type Style = "bold" | "dim" | "good" | "bad" | "key";

const ANSI: Readonly<Record<Style, readonly [string, string]>> = {
  bold: ["\u001b[1m", "\u001b[22m"],
  dim: ["\u001b[2m", "\u001b[22m"],
  good: ["\u001b[32m", "\u001b[39m"],
  bad: ["\u001b[31m", "\u001b[39m"],
  key: ["\u001b[36m", "\u001b[39m"],
};

/** One table cell: its text, and how to emphasise it. */
export interface Cell {
  readonly text: string;
  readonly style?: Style | undefined;
}

export type CellInput = string | Cell;

/**
 * Colour only for a person at a terminal: not when piped or captured, not with NO_COLOR
 * (https://no-color.org) or TERM=dumb.
 */
export function wantsColour(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb";
}

/**
 * The demo's terminal output: headings, indented text and aligned tables, in colour only on a terminal.
 * Every line printed is also kept, so the demo can check its own output for secrets before it ends.
 */
export class Output {
  readonly #write: (line: string) => void;
  readonly #colour: boolean;
  readonly #lines: string[] = [];

  constructor(write: (line: string) => void, colour: boolean) {
    this.#write = write;
    this.#colour = colour;
  }

  /** Everything printed so far, without colour codes. */
  get text(): string {
    return this.#lines.join("\n");
  }

  style(text: string, style: Style | undefined): string {
    if (!this.#colour || style === undefined || text === "") return text;
    const [open, close] = ANSI[style];
    return `${open}${text}${close}`;
  }

  /** A line, indented by `indent` spaces; `styled` is the same text with colour codes, when it differs. */
  line(text = "", indent = 0, styled?: string): void {
    const pad = " ".repeat(indent);
    this.#lines.push(`${pad}${text}`.trimEnd());
    this.#write(`${pad}${this.#colour && styled !== undefined ? styled : text}`.trimEnd());
  }

  /** A section heading with a blank line before it, and a right-hand note (status, duration). */
  heading(title: string, note?: { readonly text: string; readonly style?: Style }): void {
    this.line();
    const plain = note === undefined ? title : `${title}  ${note.text}`;
    const styled =
      note === undefined
        ? this.style(title, "bold")
        : `${this.style(title, "bold")}  ${this.style(note.text, note.style)}`;
    this.line(plain, 0, styled);
  }

  /** Several lines of text (e.g. a runbook summary), each indented. */
  block(text: string, indent = 2): void {
    for (const line of text.split("\n")) this.line(line, indent);
  }

  /** A check result: ✓ or ✗ and what was checked. */
  check(ok: boolean, text: string, indent = 2): void {
    const mark = ok ? "✓" : "✗";
    this.line(`${mark} ${text}`, indent, `${this.style(mark, ok ? "good" : "bad")} ${text}`);
  }

  /** Label and value pairs, labels aligned (no header). */
  fields(rows: readonly (readonly [string, string])[], indent = 2): void {
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, value] of rows) {
      this.line(
        `${label.padEnd(width)}  ${value}`,
        indent,
        `${this.style(label.padEnd(width), "dim")}  ${value}`,
      );
    }
  }

  /** An aligned table with upper-case headers; columns are padded by their plain text. */
  table(headers: readonly string[], rows: readonly (readonly CellInput[])[], indent = 2): void {
    const cells = rows.map((row) =>
      row.map((cell): Cell => (typeof cell === "string" ? { text: cell } : cell)),
    );
    const widths = headers.map((header, column) =>
      Math.max(header.length, ...cells.map((row) => row[column]?.text.length ?? 0)),
    );
    const render = (row: readonly Cell[]) => {
      const padded = row.map((cell, column) =>
        column === row.length - 1 ? cell.text : cell.text.padEnd(widths[column] ?? 0),
      );
      const styled = row.map((cell, column) => this.style(padded[column] ?? "", cell.style));
      this.line(padded.join("  "), indent, styled.join("  "));
    };
    const header = headers.map((text): Cell => ({ text: text.toUpperCase(), style: "dim" }));
    render(header);
    for (const row of cells) render(row);
  }
}
