/**
 * Lambda entry point: thin wiring from the runbook's event to the lifecycle functions.
 * Clients are created once per cold start; the GitHub client once per run (the token may change).
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import * as v from "valibot";
import { S3ConfigStore } from "./aws/config-store.ts";
import { AwsIamKeys } from "./aws/iam-keys.ts";
import { StsIdentityProbe } from "./aws/identity-probe.ts";
import { S3ProgressStore } from "./aws/progress-store.ts";
import { S3RunLock } from "./aws/s3-run-lock.ts";
import { SecretsManagerKeyStore } from "./aws/state-store.ts";
import { SecretsManagerTokenSource } from "./aws/token-source.ts";
import { type AnswerOutcome, type CfnRequestShape, isCustomResourceRequest } from "./cfn/custom-resource.ts";
import { answerRunbookDefaultVersions, runbookDefaultVersionsDeps } from "./cfn/runbook-default-versions.ts";
import { loadSettings, lockKey, progressKey, type Settings } from "./config/settings.ts";
import { redactSecrets } from "./domain/secret-value.ts";
import { AkmError, toAkmError } from "./errors.ts";
import { createGitHubClient, GITHUB_CLIENT_DEFAULTS } from "./github/client.ts";
import { GitHubSecretsTarget } from "./github/secrets-target.ts";
import { trustCaBundleFrom } from "./github/trusted-ca.ts";
import { WritePacer } from "./github/write-pacer.ts";
import { ACTIONS, HandlerEvent, type HandlerResult } from "./handler-contract.ts";
import { OutcomeRecorder, type RunOutcome } from "./lifecycle/outcome.ts";
import { retire } from "./lifecycle/retire.ts";
import { rotate } from "./lifecycle/rotate.ts";
import type { RotationDeps } from "./lifecycle/rotation-context.ts";
import { rotationResult } from "./lifecycle/rotation-result.ts";
import { SplitStateStore } from "./lifecycle/split-state-store.ts";
import { systemClock } from "./ports.ts";
import { renderAnswer, repoLogLines } from "./render-answer.ts";
import { addRepo, deleteRepo, listRepos } from "./repos/manage-repos.ts";

/** The part of the Lambda context we use. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/** Time kept back from the step's budget to save progress and answer before the Lambda times out. */
const STEP_MARGIN_MS = 60_000;
const USER_AGENT = "aws-github-akm";

interface Wiring {
  readonly settings: Settings;
  readonly iam: IAMClient;
  readonly s3: S3Client;
  readonly secrets: SecretsManagerClient;
}

let wiring: Wiring | undefined;

function wire(): Wiring {
  wiring ??= {
    settings: loadSettings(process.env),
    iam: new IAMClient({}),
    s3: new S3Client({}),
    secrets: new SecretsManagerClient({}),
  };
  return wiring;
}

function log(line: string): void {
  console.log(redactSecrets(line));
}

/**
 * The Lambda handler: validates the runbook's event, runs the action, and renders its outcome as the answer
 * the runbook reads (src/handler-contract.ts), once. Never throws for a run that failed: the answer says so
 * (`next: "failed"`) and the runbook ends the execution Failed with its summary.
 * CloudFormation invokes it too, for the custom resource that keeps the runbooks' default versions current
 * (templates/40-runbooks.yaml rRunbookDefaultVersions); src/cfn/ answers that request at its ResponseURL.
 */
export async function handler(event: CfnRequestShape, context: LambdaContext): Promise<AnswerOutcome>;
export async function handler(event: unknown, context: LambdaContext): Promise<HandlerResult>;
export async function handler(
  event: unknown,
  context: LambdaContext,
): Promise<HandlerResult | AnswerOutcome> {
  if (isCustomResourceRequest(event)) {
    return answerRunbookDefaultVersions(event, context, runbookDefaultVersionsDeps(log));
  }
  const outcome = await run(event, context);
  for (const line of repoLogLines(outcome)) log(line);
  return renderAnswer(outcome, systemClock.now());
}

async function run(event: unknown, context: LambdaContext): Promise<RunOutcome> {
  const parsed = v.safeParse(HandlerEvent, event);
  if (!parsed.success) return invalidEvent(event, parsed.issues);
  const input = parsed.output;
  let w: Wiring;
  try {
    w = wire();
  } catch (error) {
    return new OutcomeRecorder(input.action, false).finish(
      "Failed",
      "Configuration error.",
      toAkmError(error, "Startup"),
    );
  }
  const config = new S3ConfigStore(w.s3, w.settings.configBucket, w.settings.configKey);
  switch (input.action) {
    case "list-repos":
      return listRepos(config);
    case "add-repo":
      return addRepo(config, { owner: input.owner, name: input.name });
    case "delete-repo":
      return deleteRepo(config, { owner: input.owner, name: input.name });
    case "rotate":
    case "rotate-result":
    case "retire": {
      const deps = await rotationDeps(w, config);
      if (deps instanceof AkmError) {
        return new OutcomeRecorder(input.action, input.dryRun).finish(
          "Failed",
          `${input.action} Failed.`,
          deps,
        );
      }
      log(`${input.action} started (execution ${input.executionId})`);
      const outcome = await dispatchRotation(deps, input, context);
      log(`${input.action} finished: ${outcome.status} (next: ${outcome.next})`);
      return outcome;
    }
  }
}

function dispatchRotation(
  deps: RotationDeps,
  input: Extract<HandlerEvent, { action: "rotate" | "rotate-result" | "retire" }>,
  context: LambdaContext,
): Promise<RunOutcome> {
  const options = { owner: input.executionId, dryRun: input.dryRun };
  switch (input.action) {
    case "rotate":
      return rotate(deps, {
        ...options,
        replaceOlderKey: input.replaceOlderKey,
        deadline: new Date(Date.now() + Math.max(0, context.getRemainingTimeInMillis() - STEP_MARGIN_MS)),
      });
    case "rotate-result":
      return rotationResult(deps, options);
    case "retire":
      return retire(deps, options);
  }
}

async function rotationDeps(w: Wiring, config: S3ConfigStore): Promise<RotationDeps | AkmError> {
  const { settings } = w;
  try {
    if (settings.githubCaBundleKey !== undefined) {
      await trustCaBundleFrom(new S3ConfigStore(w.s3, settings.configBucket, settings.githubCaBundleKey));
    }
    const token = await new SecretsManagerTokenSource(w.secrets, settings.tokenSecretId).token();
    // One write budget per run, shared by the client (which waits for it) and the rotation (which plans
    // around it and keeps its hourly count in the state).
    const writeBudget = new WritePacer({
      clock: systemClock,
      maxWaitMs: GITHUB_CLIENT_DEFAULTS.rateLimitWaitBudgetSeconds * 1000,
    });
    const client = createGitHubClient({
      token,
      baseUrl: settings.githubApiUrl,
      userAgent: USER_AGENT,
      log: (entry) => log(`github ${entry.level}: ${entry.message}`),
      writePacer: writeBudget,
    });
    return {
      iam: new AwsIamKeys(w.iam, { userName: settings.iamUserName, userArn: settings.iamUserArn }),
      probe: new StsIdentityProbe(),
      state: new SplitStateStore(
        new SecretsManagerKeyStore(w.secrets, settings.stateSecretId),
        new S3ProgressStore(w.s3, {
          bucket: settings.configBucket,
          key: progressKey(settings.configKey),
          kmsKeyArn: settings.kmsKeyArn,
        }),
      ),
      config,
      github: new GitHubSecretsTarget({ client, tokenSecretName: settings.tokenSecretId }),
      lock: new S3RunLock(w.s3, settings.configBucket, lockKey(settings.configKey)),
      writeBudget,
      clock: systemClock,
      settings,
      log,
    };
  } catch (error) {
    return toAkmError(error, "Reading the GitHub token");
  }
}

function invalidEvent(event: unknown, issues: readonly v.BaseIssue<unknown>[]): RunOutcome {
  const action =
    typeof event === "object" && event !== null && "action" in event && typeof event.action === "string"
      ? event.action
      : "";
  const reportAction = ACTIONS.find((a) => a === action) ?? "rotate";
  const problems = issues.map((issue) => `${v.getDotPath(issue) ?? "(event)"}: ${issue.message}`);
  return new OutcomeRecorder(reportAction, false).finish(
    "Failed",
    "Invalid input: nothing was read or changed.",
    new AkmError(`The runbook sent parameters this function does not accept (${problems.join("; ")}).`, {
      fix: "Check the runbook parameters (e.g. GITHUBOWNER and GITHUBREPO must be valid GitHub names) and run it again.",
      fault: "user",
    }),
  );
}
