import { constants } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Command } from "../lib/cli/command.ts";
import { CliError, UsageError } from "../lib/cli/errors.ts";
import { ExitCode, exitCodeHelp } from "../lib/cli/exit-code.ts";
import { startMoto } from "../local-stack/moto.ts";
import { createStack } from "../local-stack/stack-fixture.ts";
import { Output, wantsColour } from "./output.ts";
import {
  DemoFailure,
  ensurePythonTools,
  requireLambdaNode,
  requireRenderedTemplate,
} from "./prerequisites.ts";
import { ADDED_REPO, DEMO_REPOS, DEMO_USER, runScenario } from "./scenario.ts";
import { Teardown } from "./teardown.ts";

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
        const problems = await runScenario(stack, out, killLambda.signal);
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
