/**
 * Lambda entry point: thin wiring from the runbook's event to the lifecycle functions.
 * Clients are created once per cold start; the GitHub client once per run (the token may change).
 */
import { IAMClient } from "@aws-sdk/client-iam";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import * as v from "valibot";
import { S3ConfigHistory } from "./aws/config-history.ts";
import { S3ConfigStore } from "./aws/config-store.ts";
import { AwsIamKeys } from "./aws/iam-keys.ts";
import { StsIdentityProbe } from "./aws/identity-probe.ts";
import { S3ProgressStore } from "./aws/progress-store.ts";
import { S3RunLock } from "./aws/s3-run-lock.ts";
import { SnsAlertSink } from "./aws/sns-alerts.ts";
import { SecretsManagerKeyStore } from "./aws/state-store.ts";
import { SecretsManagerTokenSource } from "./aws/token-source.ts";
import { type AnswerOutcome, type CfnRequestShape, isCustomResourceRequest } from "./cfn/custom-resource.ts";
import { runbookDefaultVersionsDeps } from "./cfn/runbook-default-versions.ts";
import { answerStackResource } from "./cfn/stack-resources.ts";
import { MAX_REPOS } from "./config/list-entry.ts";
import { loadSettings, lockKey, progressKey, type Settings } from "./config/settings.ts";
import { redactSecrets } from "./domain/secret-value.ts";
import { AkmError, toAkmError } from "./errors.ts";
import { GITHUB_CLIENT_DEFAULTS } from "./github/client.ts";
import { createGitHubConnection } from "./github/github-connection.ts";
import { GitHubRepositoryFinder } from "./github/repository-finder.ts";
import { GitHubSecretInventory } from "./github/secret-inventory.ts";
import { GitHubSecretsTarget } from "./github/secrets-target.ts";
import { trustCaBundleFrom } from "./github/trusted-ca.ts";
import { WritePacer } from "./github/write-pacer.ts";
import {
  ACTIONS,
  type Action,
  HandlerEvent,
  type HandlerResult,
  isS3Event,
  ListChangedEvent,
} from "./handler-contract.ts";
import { ParsedTargetList } from "./lifecycle/listed-targets.ts";
import { OutcomeRecorder, type RunOutcome } from "./lifecycle/outcome.ts";
import { retire } from "./lifecycle/retire.ts";
import { rotate } from "./lifecycle/rotate.ts";
import type { RotationDeps } from "./lifecycle/rotation-context.ts";
import { rotationResult } from "./lifecycle/rotation-result.ts";
import { SplitStateStore } from "./lifecycle/split-state-store.ts";
import { startRotation } from "./lifecycle/start-rotation.ts";
import { systemClock } from "./ports.ts";
import { renderAnswer, repoLogLines, shadowLogLines } from "./render-answer.ts";
import { announceListChange } from "./repos/list-changed.ts";
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
  readonly sns: SNSClient;
}

let wiring: Wiring | undefined;

function wire(): Wiring {
  wiring ??= {
    settings: loadSettings(process.env),
    iam: new IAMClient({}),
    s3: new S3Client({}),
    secrets: new SecretsManagerClient({}),
    sns: new SNSClient({}),
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
 * CloudFormation invokes it too, for the stack's custom resources: the names of resources that carry the IAM user
 * name (templates/35-resource-names.yaml rResourceNames) and the runbooks' default versions
 * (templates/40-runbooks.yaml rRunbookDefaultVersions); src/cfn/ answers each request at its ResponseURL.
 */
export async function handler(event: CfnRequestShape, context: LambdaContext): Promise<AnswerOutcome>;
export async function handler(event: unknown, context: LambdaContext): Promise<HandlerResult>;
export async function handler(
  event: unknown,
  context: LambdaContext,
): Promise<HandlerResult | AnswerOutcome> {
  if (isCustomResourceRequest(event)) {
    return answerStackResource(event, context, runbookDefaultVersionsDeps(log));
  }
  const { outcome, undelivered } = await deliverAlerts(await run(event, context));
  for (const line of repoLogLines(outcome)) log(line);
  for (const line of shadowLogLines(outcome)) log(line);
  if (outcome.action === "list-changed" && undelivered.length > 0) {
    // EventBridge invokes asynchronously: failing the invocation makes Lambda retry it, so the change is still
    // announced once SNS answers. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    throw new Error(`The change of the repository list could not be announced: ${undelivered.join(" ")}`);
  }
  return renderAnswer(outcome, systemClock.now());
}

/**
 * Sends the alerts the run asked for to the stack's topic, once the run is over. A failed send does not hide the
 * run's own result: the summary says the alert could not be sent (and the log has why).
 */
async function deliverAlerts(
  outcome: RunOutcome,
): Promise<{ outcome: RunOutcome; undelivered: readonly string[] }> {
  if (outcome.alerts.length === 0 || wiring === undefined) return { outcome, undelivered: [] };
  const sink = new SnsAlertSink(wiring.sns, wiring.settings.alertTopicArn);
  const subject = `aws-github-akm alert for IAM user ${wiring.settings.iamUserName}`;
  const failures: string[] = [];
  for (const alert of outcome.alerts) {
    try {
      await sink.send(subject, alert);
      log(`alert sent: ${alert}`);
    } catch (error) {
      const akm = toAkmError(error, "Sending an alert");
      log(`alert not sent: ${akm.message}`);
      failures.push(`The alert to the stack's SNS topic could not be sent (${akm.message}). Fix: ${akm.fix}`);
    }
  }
  return {
    outcome: failures.length === 0 ? outcome : { ...outcome, notes: [...outcome.notes, ...failures] },
    undelivered: failures,
  };
}

async function run(event: unknown, context: LambdaContext): Promise<RunOutcome> {
  if (isS3Event(event)) return listChanged(event);
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
      return listRepos(config, w.settings.allowedOwners);
    case "add-repo":
      return addRepo(config, input.entry, w.settings.allowedOwners);
    case "delete-repo":
      return deleteRepo(config, input.entry);
    case "rotate-start": {
      log(`rotate-start started (execution ${input.executionId}, started by ${input.startedBy})`);
      // Only the lease: a scheduled start beside a rotation reads no token and no list.
      const lock = new S3RunLock(w.s3, w.settings.configBucket, lockKey(w.settings.configKey));
      const outcome = await startRotation(
        { lock, clock: systemClock, log },
        { owner: input.executionId, dryRun: input.dryRun, startedBy: input.startedBy },
      );
      log(`rotate-start finished: ${outcome.status} (next: ${outcome.next})`);
      return outcome;
    }
    case "rotate":
    case "rotate-result":
    case "retire": {
      const deps = await rotationDeps(w, config, input.dryRun);
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

/**
 * A change of repos.json, from S3 by way of the stack's EventBridge rule: announced on the alert topic. An event
 * about another object (a rule edited by hand) is refused rather than read.
 */
async function listChanged(event: unknown): Promise<RunOutcome> {
  const report = new OutcomeRecorder("list-changed", false);
  const parsed = v.safeParse(ListChangedEvent, event);
  if (!parsed.success) {
    const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "(event)"}: ${issue.message}`);
    return report.finish(
      "Failed",
      "Invalid input: nothing was read or changed.",
      new AkmError(`The S3 event is not a change of an object (${problems.join("; ")}).`, {
        fix: "Check the stack's EventBridge rule for the repository list: it forwards S3's Object Created and Object Deleted events unchanged.",
        fault: "user",
      }),
    );
  }
  let w: Wiring;
  try {
    w = wire();
  } catch (error) {
    return report.finish("Failed", "Configuration error.", toAkmError(error, "Startup"));
  }
  const { detail } = parsed.output;
  const { configBucket, configKey } = w.settings;
  if (detail.bucket.name !== configBucket || detail.object.key !== configKey) {
    return report.finish(
      "Failed",
      "Ignored an S3 event about another object: nothing was read or changed.",
      new AkmError(
        `The S3 event names s3://${detail.bucket.name}/${detail.object.key}, not the repository list s3://${configBucket}/${configKey}.`,
        {
          fix: "Update the stack from the published template: its EventBridge rule forwards only the list's events.",
          fault: "user",
        },
      ),
    );
  }
  return announceListChange(new S3ConfigHistory(w.s3, configBucket, configKey), w.settings.allowedOwners, {
    versionId: detail.object["version-id"],
    deleted: parsed.output["detail-type"] === "Object Deleted",
    time: parsed.output.time,
    requester: detail.requester,
    sourceIp: detail["source-ip-address"],
    reason: detail.reason,
  });
}

function dispatchRotation(
  deps: RotationDeps,
  input: Extract<HandlerEvent, { action: "rotate" | "rotate-result" | "retire" }>,
  context: LambdaContext,
): Promise<RunOutcome> {
  const options = { owner: input.executionId, dryRun: input.dryRun };
  const deadline = new Date(Date.now() + Math.max(0, context.getRemainingTimeInMillis() - STEP_MARGIN_MS));
  switch (input.action) {
    case "rotate":
      return rotate(deps, { ...options, replaceOlderKey: input.replaceOlderKey, deadline });
    case "rotate-result":
      return rotationResult(deps, options);
    case "retire":
      return retire(deps, { ...options, deadline, startedBy: input.startedBy });
  }
}

async function rotationDeps(
  w: Wiring,
  config: S3ConfigStore,
  dryRun: boolean,
): Promise<RotationDeps | AkmError> {
  const { settings } = w;
  try {
    if (settings.githubCaBundleKey !== undefined) {
      await trustCaBundleFrom(new S3ConfigStore(w.s3, settings.configBucket, settings.githubCaBundleKey));
    }
    const credential = await new SecretsManagerTokenSource(
      w.secrets,
      settings.tokenSecretId,
      settings.githubAppId,
    ).credential();
    // One write budget per run, shared by the clients (which wait for it) and the rotation (which plans
    // around it and keeps its hourly count in the state).
    const writeBudget = new WritePacer({
      clock: systemClock,
      maxWaitMs: GITHUB_CLIENT_DEFAULTS.rateLimitWaitBudgetSeconds * 1000,
    });
    const list = new ParsedTargetList(config, settings.allowedOwners);
    const connection = createGitHubConnection({
      credential,
      client: {
        baseUrl: settings.githubApiUrl,
        userAgent: USER_AGENT,
        log: (entry) => log(`github ${entry.level}: ${entry.message}`),
        writePacer: writeBudget,
      },
      tokenSecretName: settings.tokenSecretId,
      // A GitHub App's installation tokens get only what the list's targets need (read again here: the rotation
      // reads it in its own steps, and an App token must never be minted broader than the list in S3 says); a
      // DryRun's are read-only.
      scope: async () => {
        const { targets, selections = [], unmanaged = [] } = await list.load({ ownersChecked: true });
        return { targets, selections, unmanaged, readOnly: dryRun };
      },
      clock: systemClock,
      note: log,
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
      list,
      selection: {
        finder: new GitHubRepositoryFinder({
          clientFor: (owner) => connection.clientFor(owner),
          tokenSecretName: settings.tokenSecretId,
        }),
        allowedOwners: settings.allowedOwners,
        location: config.location,
        max: MAX_REPOS,
      },
      github: new GitHubSecretsTarget({ connection, tokenSecretName: settings.tokenSecretId }),
      inventory: new GitHubSecretInventory({
        clientFor: (owner) => connection.clientFor(owner),
        tokenSecretName: settings.tokenSecretId,
        repositorySelection: async (owner) => connection.repositorySelection?.(owner),
      }),
      lock: new S3RunLock(w.s3, settings.configBucket, lockKey(settings.configKey)),
      writeBudget,
      clock: systemClock,
      settings,
      log,
    };
  } catch (error) {
    return toAkmError(error, "Reading the GitHub credential");
  }
}

function invalidEvent(event: unknown, issues: readonly v.BaseIssue<unknown>[]): RunOutcome {
  const action =
    typeof event === "object" && event !== null && "action" in event && typeof event.action === "string"
      ? event.action
      : "";
  const reportAction = ACTIONS.find((a) => a === action) ?? "rotate";
  const problems = issues.map((issue) => `${v.getDotPath(issue) ?? "(event)"}: ${issue.message}`);
  const listRunbook = LIST_RUNBOOKS[reportAction];
  return new OutcomeRecorder(reportAction, false).finish(
    "Failed",
    "Invalid input: nothing was read or changed.",
    listRunbook === undefined
      ? new AkmError(`The runbook sent parameters this function does not accept (${problems.join("; ")}).`, {
          fix: "Check the runbook parameters (e.g. GITHUBOWNER and GITHUBREPO must be valid GitHub names) and run it again.",
          fault: "user",
        })
      : // The person who filled the form made the mistake, and each problem names the parameter to change.
        new AkmError(
          `${listRunbook}'s parameters do not describe an entry of the list (${problems.join("; ")}).`,
          {
            fix: `Change the parameters named and run ${listRunbook} again. README, section "Adding and removing each kind", lists the parameters each kind of entry takes.`,
            fault: "user",
          },
        ),
  );
}

/** The runbooks that edit the list, by the action they send: their parameter mistakes are the user's form. */
const LIST_RUNBOOKS: Partial<Record<Action, string>> = {
  "add-repo": "Add-RepoConfig",
  "delete-repo": "Delete-RepoConfig",
};
