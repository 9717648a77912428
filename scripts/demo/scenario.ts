/**
 * The demo's story, told through the runbooks exactly as the template deploys them (the runbook simulator
 * runs them; their Lambda steps run the template's inline code on Node 24): list the repositories, plan a
 * rotation, rotate, add a repository, rotate again. Only access key IDs are ever printed; the GitHub emulator
 * decrypts what the function wrote, so each repository's pair is checked against IAM without showing it.
 */
import { performance } from "node:perf_hooks";
import { SETTINGS_ENV } from "../../src/config/settings.ts";
import type { HandlerResult, RepoResult } from "../../src/handler-contract.ts";
import { parseRepoLogLines } from "../../src/render-answer.ts";
import type { KeyState, RunbookName, RunbookRun, Stack } from "../local-stack/stack-fixture.ts";
import type { CellInput, Output } from "./output.ts";
import { DemoFailure } from "./prerequisites.ts";

/** The IAM user whose key rotates (the README's example name). */
export const DEMO_USER = "ci-deployer";
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

const STEPS = 5;
/** The Rotate runbook's aws:sleep before Retire (runbook/rotate.yaml). */
const GRACE_STEP = "WaitForGracePeriod";

/** Runs the story; returns the problems found by the demo's own checks (empty: all held). */
export async function runScenario(stack: Stack, out: Output, killLambda: AbortSignal): Promise<string[]> {
  return new Scenario(stack, out, killLambda).run();
}

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
