/**
 * A whole aws-github-akm "stack" for one test, built locally: the resources the template would create (in the
 * shared moto server, under unique names), a GitHub emulator with the listed repositories, and the rendered
 * template's runbooks and Lambda code run by the runbook simulator on Node 24.
 *
 * It also watches what users must never see broken:
 * - R1: every reader of every listed target (repository, environment, organization; Actions, Dependabot,
 *   Codespaces; the key ID as a secret or a variable; the repositories a Topic / Property entry selects, resolved
 *   as the run resolves them: selected-repositories.ts) reads a key ID that is Active in IAM — checked at every
 *   secret or variable write (the emulator's write hook, while the function waits for GitHub's answer; only the
 *   readers that write can change) and after every run (every reader). See target-readers.ts.
 * - Secret hygiene: no secret access key IAM issued and not the GitHub token appears in any Lambda output,
 *   runbook output, failure message or error.
 *
 * The function runs in execution environments reused as Lambda reuses them (lambda-environments.ts): a stack's
 * invocations share warm environments, and `close()` ends them.
 */
import { randomBytes } from "node:crypto";
import { CreateAccessKeyCommand, IAMClient, ListAccessKeysCommand } from "@aws-sdk/client-iam";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterEach, expect } from "vitest";
import { S3ProgressStore } from "../../src/aws/progress-store.ts";
import { SecretsManagerKeyStore } from "../../src/aws/state-store.ts";
import { progressKey, SETTINGS_ENV } from "../../src/config/settings.ts";
import { repositoryTarget, type Target } from "../../src/domain/target.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import { type AlertTopic, createAlertTopic, type ReceivedAlert } from "./alert-topic.ts";
import {
  awsClientConfig,
  createConfigBucket,
  createIamUser,
  createStackSecrets,
  type IamUserFixture,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  putObjectText,
  type StaticCredentials,
  uniqueName,
} from "./aws-fixtures.ts";
import { automationExecutionEvent, matchesEventPattern, s3ObjectEvent } from "./eventbridge-pattern.ts";
import { FakeClock } from "./fake-clock.ts";
import {
  type AppPermissionSet,
  type EmulatorLimits,
  type GitHubDescription,
  type GitHubEmulator,
  type SecretScope,
  type SecretWrittenEvent,
  startGitHubEmulator,
  type TokenGrant,
} from "./github-emulator/index.ts";
import { scopeLabel } from "./github-emulator/scopes.ts";
import {
  type CfnTemplate,
  DEFAULT_LAMBDA_TIMEOUT_MS,
  extractTemplateLambda,
  invokeLambda,
  LambdaEnvironments,
  type LambdaInvocation,
  loadRenderedTemplate,
  type TemplateLambda,
  templateLambda,
} from "./lambda-runner.ts";
import {
  type AutomationExecution,
  IntrinsicResolver,
  runAutomation,
  type SleepRequest,
  type StackContext,
  type TemplateRunbook,
  templateRunbooks,
} from "./runbook-simulator.ts";
import { targetsWithSelected } from "./selected-repositories.ts";
import { type ListedTargets, listedTargets, type TargetRead, TargetReaders } from "./target-readers.ts";

/** The four runbooks, by the suffix of their document name (`GHS-AKM-<user>-<suffix>`). */
export type RunbookName = "Rotate" | "Get-RepoList" | "Add-RepoConfig" | "Delete-RepoConfig";

export interface StackOptions {
  /** The IAM user's name (default: a unique one, as test files share one moto server). */
  readonly userName?: string;
  /** Repositories listed in repos.json, as `owner/name`; default: two generated ones. */
  readonly repos?: readonly string[];
  /** repos.json text instead of one rendered from `repos`; `null`: no object at all. */
  readonly reposJson?: string | null;
  /** Repositories that exist on the emulated GitHub (default: `repos`). */
  readonly githubRepos?: readonly string[];
  /**
   * Which GitHub the emulator is (default `api.github.com`): `ghec` for GHE.com, or a GitHub Enterprise Server
   * release such as `ghes-3.17`, which serves under `/api/v3` (see GitHubEmulatorOptions.description).
   */
  readonly githubDescription?: GitHubDescription;
  /**
   * The pGitHubApiUrl stack parameter (default: the emulator's URL), e.g. a host name that a test proxy leads to
   * the emulator (test/support/named-host.ts).
   */
  readonly githubApiUrl?: string;
  /** The pAllowedGitHubOwners stack parameter (default: every owner of `repos` and `githubRepos`). */
  readonly allowedOwners?: readonly string[];
  /**
   * Authenticate as a GitHub App instead of a machine user's token: the emulator gets an App (slug
   * `akm-app-<suffix>`) installed on every owner of `githubRepos`; the token secret holds its private key,
   * pGitHubAppId its ID and pGitHubMachineUserName its slug. `permissions`: what the App (and its installations)
   * were granted (default: what Actions secrets of repositories need); `notInstalledOn`: owners left without it.
   */
  readonly githubApp?: {
    readonly permissions?: AppPermissionSet;
    readonly notInstalledOn?: readonly string[];
  };
  /** Repositories the token may reach (default: `githubRepos`). */
  readonly tokenRepos?: "all" | readonly string[];
  /** `read` cannot write secrets (GitHub answers 403). Default `write`. */
  readonly tokenPermission?: "write" | "read";
  /** The token's type, scopes and its user's role (default: a fine-grained token of an admin). */
  readonly tokenGrant?: Pick<TokenGrant, "kind" | "scopes" | "role">;
  /**
   * GitHub's limits the emulator enforces, e.g. `{ requestsPerHour: 10 }` for the primary rate limit (none by
   * default). Their windows run on the stack's fake clock, so an aws:sleep that advances it lets them reset.
   */
  readonly githubLimits?: EmulatorLimits;
  /** Repositories (of `githubRepos`) that are archived: GitHub refuses writes to them. */
  readonly archivedRepos?: readonly string[];
  /** Active access keys the user has before the stack manages it (created oldest first). */
  readonly existingKeys?: number;
  /** The pGraceMinutes stack parameter (default: the template's). */
  readonly graceMinutes?: number;
  /**
   * Writes the first existing key (ID and secret) to every listed repository first, as the tool this one
   * replaces would have left them: R1 then also guards the adopted key.
   */
  readonly seedReposWithExistingKey?: boolean;
  /**
   * The function's timeout instead of the template's `Timeout` (its time budget; the function keeps 60 s of
   * it in reserve), e.g. to see a function time out. Not to make a rotation span several invocations: real
   * seconds race the machine's speed; move the fake clock past the deadline instead (test/support/step-time.ts).
   */
  readonly lambdaTimeoutSeconds?: number;
  /**
   * Variables set over the function's derived environment, e.g. `AWS_ENDPOINT_URL` and `AKM_GITHUB_API_URL`
   * pointing at a fault-injecting proxy in front of moto and the emulator (test/support/aws-proxy.ts).
   */
  readonly lambdaEnv?: Readonly<Record<string, string>>;
  /**
   * The secret access keys IAM has issued for the user so far, for the leak scan and `issuedSecretOf`. Default:
   * read from moto's state dump, which gets slower with everything moto ever held. A proxy that saw every
   * CreateAccessKey answer (test/reliability/faults-matrix.ts) knows them without it.
   */
  readonly issuedAccessKeys?: () => readonly StaticCredentials[];
}

export interface RunOptions {
  /** Called at each aws:sleep, before time passes: the state between Rotate and Retire can be examined. */
  readonly onSleep?: (request: SleepRequest) => void | Promise<void>;
  /**
   * What an aws:sleep does. "advance-clock" (default): the stack's fake clock moves on by the requested
   * time, as if the runbook had waited. "skip": time does not move, as if the step had been skipped.
   */
  readonly sleep?: "advance-clock" | "skip";
  /**
   * Aborting it kills the Lambda process that is running at that moment (SIGKILL, as a crashed sandbox),
   * e.g. from `onSecretWritten` to stop a rotation at an exact point. The execution itself is not cancelled.
   */
  readonly killLambda?: AbortSignal;
  /**
   * Called before each Lambda invocation of the execution, after the previous step ended: e.g. to start another
   * execution while this one is between two steps (`index` counts the execution's invocations from 0;
   * `previous` is the invocation before, if any).
   */
  readonly beforeInvoke?: (call: {
    readonly stepName: string;
    readonly index: number;
    readonly previous: StepInvocation | undefined;
  }) => void | Promise<void>;
  /** Whether an invoke step fails on FunctionError, which AWS does not document (SimulatorHooks.functionError). */
  readonly functionError?: "fail-step" | "continue";
  /** Every aws:loop stops after this many iterations instead of its MaxIterations (SimulatorHooks). */
  readonly loopMaxIterations?: number;
}

/** One Lambda invocation of a runbook execution, with the step that made it. */
export type StepInvocation = LambdaInvocation & { readonly stepName: string };

/** One runbook execution and everything the function printed during it. */
export interface RunbookRun {
  readonly execution: AutomationExecution;
  /** Each Lambda invocation of the run, in order, with its step (Rotate: Start, then Rotate, ...). */
  readonly invocations: readonly StepInvocation[];
  /** What the Lambda returned last (its `Payload`), for convenient asserts. */
  readonly lastResult: HandlerResult | undefined;
}

export interface KeyState {
  readonly accessKeyId: string;
  readonly status: string;
  readonly createDate: Date;
}

export interface RepoSecrets {
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
}

export interface Stack {
  readonly endpoint: string;
  readonly github: GitHubEmulator;
  readonly user: IamUserFixture;
  readonly repos: readonly string[];
  readonly bucket: string;
  readonly configKey: string;
  readonly tokenSecretArn: string;
  readonly stateSecretArn: string;
  /** The stack's KMS key, which encrypts the secrets and the progress object. */
  readonly kmsKeyArn: string;
  /** The progress object's key in `bucket` (beside repos.json). */
  readonly progressKey: string;
  /** The rotation state as the function would load it (the secret and the progress object); undefined if none. */
  rotationState(): Promise<RotationState | undefined>;
  /** The function's environment, derived from the template's `Environment.Variables`. */
  readonly env: Readonly<Record<string, string>>;
  readonly lambda: TemplateLambda;
  /** The function's execution environments (warm between invocations; ended by `close()`). */
  readonly lambdaEnvironments: LambdaEnvironments;
  /** The process ID of every execution environment that served an invocation so far. */
  readonly lambdaPids: ReadonlySet<number>;
  /** Keys the user had before the stack (their secrets are test data the function never saw). */
  readonly existingKeys: readonly StaticCredentials[];
  /** Every stdout/stderr text of every Lambda invocation so far. */
  readonly everyStdoutStderr: readonly string[];
  /** Every aws:sleep the runbooks asked for (the simulator does not wait). */
  readonly sleeps: readonly SleepRequest[];
  /**
   * R1 breaches: at a secret or variable write (from the emulator's hook: the readers that write can change) or
   * after a run (every reader). R1: every reader of every listed target — a repository's or environment's jobs,
   * each repository that sees an organization target, each repository a Topic / Property entry selects — reads a
   * key ID (secret, or variable with `KeyIdAs`) that is Active in IAM. Readers of a place the list marks Unmanaged
   * are not covered.
   */
  readonly r1Failures: readonly string[];
  /** Every notification the stack's SNS alert topic received so far. */
  readonly alerts: readonly ReceivedAlert[];
  readonly alertTopicArn: string;
  /** The most access keys the user had at any secret write or after any run. */
  readonly maxKeysSeen: number;
  /** A runbook of the template, as deployed for this stack (document `GHS-AKM-<user>-<name>`). */
  runbookDocument(name: RunbookName): TemplateRunbook;
  runRunbook(
    name: RunbookName,
    parameters?: Readonly<Record<string, unknown>>,
    options?: RunOptions,
  ): Promise<RunbookRun>;
  /**
   * What the stack's schedule does: starts the runbook its rule rEventsRuleRotate targets with the parameters of
   * the target's Input (the template's, as EventBridge passes them:
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-cwe-target.html).
   */
  startBySchedule(options?: RunOptions): Promise<RunbookRun>;
  /**
   * Whether the stack's alert rule rEventsRuleAlert (its EventPattern in the template) matches the status-change
   * event Systems Manager sends when `execution` of runbook `name` ends, i.e. whether it e-mails an alert.
   */
  alertRuleMatches(name: RunbookName, execution: AutomationExecution): boolean;
  /** Invokes the stack's function directly with `event` (as `aws lambda invoke` or EventBridge would). */
  invokeFunction(event: unknown): Promise<LambdaInvocation>;
  /**
   * What S3 and EventBridge do after the list's latest change: S3's documented event for it (Object Created, or
   * Object Deleted for a delete marker), matched against the template's rule rEventsRuleListChanged and, when it
   * matches, passed to the function as the rule's target does. Undefined when the rule does not match.
   */
  deliverListChange(): Promise<LambdaInvocation | undefined>;
  /** The user's keys as IAM lists them, oldest first. */
  keys(): Promise<KeyState[]>;
  /**
   * R1 now, over every reader of every listed target (as after each run; see `r1Failures`; selections resolved
   * anew first); the problems are returned, not added to `r1Failures`. `when` starts each message.
   */
  checkR1(when?: string): Promise<string[]>;
  /** What every reader of every listed target would read now (key ID, secret key and where from). */
  targetReads(): TargetRead[];
  /**
   * The targets R1 covers: the list's, and the repositories its selections found when last resolved (at the
   * start of the latest run, or by `resolveSelections` / `checkR1`).
   */
  targets(): readonly Target[];
  /**
   * Resolves the list's Topic / Property selections on the emulated GitHub now, as a run starting now would
   * (selected-repositories.ts); every run does it at its start. Call it after arranging topics or properties
   * to have `targetReads` cover what they select before a run.
   */
  resolveSelections(): Promise<void>;
  /** An extra write hook, run after the R1 check of each secret write (undefined removes it). */
  onSecretWritten(hook: ((event: SecretWrittenEvent) => void | Promise<void>) | undefined): void;
  /**
   * Moves the stack's fake clock forward: the GitHub emulator, the runbook simulator and the Lambda invocations
   * see real time plus every advance so far (IAM's CreateDate in moto stays on real time). No test waits for real
   * time. A function running at that moment (the emulator's write hook runs while it waits for GitHub's answer)
   * follows: the promise resolves once it reads the new time. Between runs it resolves at once.
   */
  advanceClock(ms: number): Promise<void>;
  readonly clockOffsetMs: number;
  /** The GitHub token the stack's secret holds (test data): with `githubApp`, the App's private key. */
  githubToken(): Promise<string>;
  /** The two secrets of a repository, decrypted by the emulator. */
  secretValues(repo: string): RepoSecrets;
  /** PUTs to a repository's Actions secrets so far (the emulator's access log). */
  secretPuts(repo: string): number;
  /** repos.json as stored in S3 (undefined when absent). */
  readConfig(): Promise<{ readonly body: string; readonly etag: string } | undefined>;
  writeConfig(text: string): Promise<void>;
  deleteConfig(): Promise<void>;
  /** The secret access key IAM holds for a key ID (moto's internal data): to prove a repo's pair matches. */
  issuedSecretOf(accessKeyId: string): Promise<string | undefined>;
  /** Where any known secret value appears in anything captured so far; empty when hygiene held. */
  secretLeaks(extraTexts?: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

const MACHINE_USER = "akm-machine-user";

/** A GitHub App's default permissions: what writing repositories' Actions secrets needs (src/github/app-permissions.ts). */
const APP_PERMISSIONS: AppPermissionSet = {
  metadata: "read",
  secrets: "write",
  actions: "read",
  environments: "read",
  contents: "read",
};

/** Builds a stack with fresh, uniquely named resources in moto and a GitHub emulator of its own. */
export async function createStack(endpoint: string, options: StackOptions = {}): Promise<Stack> {
  const template = loadRenderedTemplate();
  const fn = templateLambda(template);
  const lambda = extractTemplateLambda(template);

  const suffix = randomBytes(3).toString("hex");
  const repos = options.repos ?? [`org-${suffix}/app-one`, `org-${suffix}/app-two`];
  const githubRepos = options.githubRepos ?? repos;
  // Generated test data, deliberately not shaped like a GitHub token (no ghp_ / github_pat_ prefix).
  const token = `emulated-token-${randomBytes(16).toString("hex")}`;

  // A GitHub App's key pair is made with the emulator below; its slug names the token secret as the machine user does.
  const appSlug = options.githubApp === undefined ? undefined : `akm-app-${suffix}`;
  const machineUser = appSlug ?? MACHINE_USER;

  const user = await createIamUser(endpoint, options.userName);
  const existingKeys: StaticCredentials[] = [];
  const iam = new IAMClient(awsClientConfig(endpoint));
  for (let i = 0; i < (options.existingKeys ?? 0); i++) {
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
    if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey)
      throw new Error("stack-fixture: moto returned no key");
    existingKeys.push({ accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey });
  }

  // The stack's fake clock: the function, the simulator and GitHub see real time shifted by it (see advanceClock).
  const clock = new FakeClock();
  // The function's execution environments: this stack's only (no other stack's invocation reuses one), closed by
  // `close()`.
  const environments = new LambdaEnvironments();
  const github = await startGitHubEmulator({
    now: () => clock.now(),
    ...(options.githubDescription === undefined ? {} : { description: options.githubDescription }),
    ...(options.githubLimits ? { limits: options.githubLimits } : {}),
  });
  const app =
    appSlug === undefined
      ? undefined
      : github.apps.addApp({ slug: appSlug, permissions: options.githubApp?.permissions ?? APP_PERMISSIONS });
  const credential = app?.privateKeyPem ?? token;
  const stackSecrets = await createStackSecrets(endpoint, {
    userName: user.userName,
    machineUser,
    token: credential,
    keyDescription: `aws-github-akm ${user.userName}`,
  });
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));

  const bucket = await createConfigBucket(endpoint, uniqueName("akm-config"));
  // Named as CloudFormation names the template's topic: stack name, logical ID, a random suffix.
  const alertTopic: AlertTopic = await createAlertTopic(
    endpoint,
    `akm-${user.userName}-rSnsTopic-${randomBytes(6).toString("hex").toUpperCase()}`,
  );
  const s3 = new S3Client(awsClientConfig(endpoint));
  // As the template's bucket: versioned, so every edit of the list stays recoverable.
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );

  try {
    for (const full of githubRepos) {
      const [owner = "", name = ""] = full.split("/");
      github.addRepo(owner, name);
    }
    if (app !== undefined) {
      const skipped = new Set(options.githubApp?.notInstalledOn ?? []);
      for (const owner of new Set(githubRepos.map((full) => full.split("/")[0] ?? ""))) {
        if (!skipped.has(owner)) github.apps.install(app.id, owner);
      }
    }
    github.addToken(token, {
      login: MACHINE_USER,
      repos: options.tokenRepos ?? githubRepos,
      permission: options.tokenPermission ?? "write",
      ...options.tokenGrant,
    });
    for (const full of options.archivedRepos ?? []) {
      const [owner = "", name = ""] = full.split("/");
      github.archiveRepo(owner, name);
    }

    const parameters: Record<string, string> = {
      pIamUserName: user.userName,
      pIamUserArn: user.userArn,
      pRepoConfigBucketName: bucket,
      pGitHubToken: credential,
      pGitHubMachineUserName: machineUser,
      ...(app === undefined ? {} : { pGitHubAppId: String(app.id) }),
      pAllowedGitHubOwners: (
        options.allowedOwners ?? [
          ...new Set([...repos, ...githubRepos].map((full) => full.split("/")[0] ?? "")),
        ]
      ).join(","),
      pSnsEmailAddress: "alerts@example.com",
      // The emulator speaks http on loopback; a real stack's parameter only accepts https.
      pGitHubApiUrl: options.githubApiUrl ?? github.url,
      ...(options.graceMinutes === undefined ? {} : { pGraceMinutes: String(options.graceMinutes) }),
    };
    const context: StackContext = {
      parameters: Object.fromEntries(
        Object.entries(parameters).filter(([name]) => name in (template.Parameters ?? {})),
      ),
      stackName: `akm-${user.userName}`,
      region: MOTO_REGION,
      accountId: MOTO_ACCOUNT_ID,
      resources: {
        rGitHubTokenSecret: { ref: stackSecrets.tokenSecretArn, arn: stackSecrets.tokenSecretArn },
        rRotationStateSecret: { ref: stackSecrets.stateSecretArn, arn: stackSecrets.stateSecretArn },
        rRepoConfigBucket: { ref: bucket, arn: `arn:aws:s3:::${bucket}` },
        rKmsKey: { ref: stackSecrets.kmsKeyId, arn: stackSecrets.kmsKeyArn },
        rSnsTopic: { ref: alertTopic.topicArn, arn: alertTopic.topicArn },
      },
    };
    const env = { ...lambdaEnvironment(template, fn, context, endpoint), ...options.lambdaEnv };
    const configKey = env[SETTINGS_ENV.configKey] ?? "repos.json";
    const keyIdSecretName = env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID";
    const secretKeySecretName = env[SETTINGS_ENV.secretNameSecretKey] ?? "AWS_SECRET_ACCESS_KEY";

    if (options.seedReposWithExistingKey === true) {
      const [key] = existingKeys;
      if (!key) throw new Error("stack-fixture: seedReposWithExistingKey needs existingKeys >= 1");
      for (const full of repos) {
        const [owner = "", name = ""] = full.split("/");
        github.setSecret(owner, name, keyIdSecretName, key.accessKeyId);
        github.setSecret(owner, name, secretKeySecretName, key.secretAccessKey);
      }
    }

    if (options.reposJson !== null) {
      const text = options.reposJson ?? renderRepos(repos);
      await putObjectText(endpoint, bucket, configKey, text);
    }

    const runbooks = new Map<string, TemplateRunbook>(
      templateRunbooks(template, context).map((r) => [r.name, r]),
    );
    // The stack as EventBridge rules see it: a document's Ref is its name (as deployed), which the schedule's target
    // and the alert rule's pattern name.
    const ruleContext: StackContext = {
      ...context,
      resources: {
        ...context.resources,
        ...Object.fromEntries([...runbooks.values()].map((r) => [r.logicalId, { ref: r.name }])),
      },
    };
    const everyStdoutStderr: string[] = [];
    const capturedTexts: string[] = [];
    const knownSecrets = new Map<string, string>(); // value -> label (never the value)
    const remember = (value: string | undefined, label: string) => {
      if (value !== undefined && value.length >= 8 && !knownSecrets.has(value))
        knownSecrets.set(value, label);
    };
    remember(token, "the GitHub token");
    remember(app?.privateKeyPem, "the GitHub App's private key");
    // Any line of the key is a leak too (its base64 body, not the BEGIN/END lines).
    for (const line of app?.privateKeyPem.split("\n") ?? []) {
      if (!line.startsWith("-----")) remember(line, "a line of the GitHub App's private key");
    }
    for (const key of existingKeys)
      remember(key.secretAccessKey, `the secret of pre-existing key ${key.accessKeyId}`);
    const sleeps: SleepRequest[] = [];
    const r1Failures: string[] = [];

    const listKeys = async (): Promise<KeyState[]> => {
      const { AccessKeyMetadata = [] } = await iam.send(
        new ListAccessKeysCommand({ UserName: user.userName }),
      );
      return AccessKeyMetadata.map((key) => ({
        accessKeyId: key.AccessKeyId ?? "",
        status: key.Status ?? "",
        createDate: key.CreateDate ?? new Date(0),
      })).sort(
        (a, b) =>
          a.createDate.getTime() - b.createDate.getTime() || a.accessKeyId.localeCompare(b.accessKeyId),
      );
    };

    const secretValues = (full: string): RepoSecrets => {
      const [owner = "", name = ""] = full.split("/");
      return {
        accessKeyId: github.secretValue(owner, name, keyIdSecretName),
        secretAccessKey: github.secretValue(owner, name, secretKeySecretName),
      };
    };

    // The listed targets R1 covers: the list's (refreshed whenever the fixture or a runbook may have changed it),
    // or, while there is no list the function can read, the `repos` option's repositories; with the repositories
    // its selections find, resolved as a run resolves them: anew at the start of each run (a run keeps the set it
    // began with), and at `resolveSelections` / `checkR1`.
    const defaultTargets: ListedTargets = {
      targets: repos.map((full) => {
        const [owner = "", name = ""] = full.split("/");
        return repositoryTarget({ owner, name });
      }),
      unmanaged: [],
      selections: [],
    };
    const names = { keyId: keyIdSecretName, secretKey: secretKeySecretName };
    const allowedOwners = parameters.pAllowedGitHubOwners ?? "";
    let listed = defaultTargets;
    let readTargets: readonly Target[] = listed.targets;
    let readers = new TargetReaders(github, listed, names);
    const resolveSelected = async (): Promise<void> => {
      readTargets = await targetsWithSelected(github, listed, allowedOwners);
      readers = new TargetReaders(github, { targets: readTargets, unmanaged: listed.unmanaged }, names);
    };
    const useList = async (text: string | undefined): Promise<void> => {
      listed = (text === undefined ? undefined : listedTargets(text)) ?? defaultTargets;
      await resolveSelected();
    };
    await useList(options.reposJson === null ? undefined : (options.reposJson ?? renderRepos(repos)));
    const refreshList = async (): Promise<void> => {
      try {
        const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: configKey }));
        await useList(await response.Body?.transformToString("utf-8"));
      } catch (error) {
        if (error instanceof Error && error.name === "NoSuchKey") await useList(undefined);
        else throw error;
      }
    };

    // Every key ID IAM listed for the user at some check: a key ID never seen is not this user's key (e.g. test
    // data kept on purpose in an Unmanaged copy), which R1 does not cover; a seen one that is gone was deleted.
    const seenKeys = new Set(existingKeys.map((key) => key.accessKeyId));

    /**
     * R1 over the readers of every listed target (or, given a written scope, of the targets that write can
     * change): the key ID each reads names a key that is Active in IAM.
     */
    let maxKeysSeen = 0;
    const checkR1 = async (when: string, written?: SecretScope): Promise<string[]> => {
      const keys = await listKeys();
      maxKeysSeen = Math.max(maxKeysSeen, keys.length);
      for (const key of keys) seenKeys.add(key.accessKeyId);
      const problems: string[] = [];
      for (const read of written === undefined ? readers.all() : readers.affectedBy(written)) {
        if (read.keyId === undefined) continue;
        const key = keys.find((k) => k.accessKeyId === read.keyId);
        if (key?.status === "Active" || (key === undefined && !seenKeys.has(read.keyId))) continue;
        const from = read.keyIdScope === undefined ? "" : ` (from ${scopeLabel(read.keyIdScope)})`;
        problems.push(
          `${when}: ${read.reader} reads key ${read.keyId}${from}, which is ${key ? key.status : "deleted"} in IAM`,
        );
      }
      return problems;
    };

    let extraHook: ((event: SecretWrittenEvent) => void | Promise<void>) | undefined;
    github.setSecretWrittenHook(async (event: SecretWrittenEvent) => {
      const where = event.repo === undefined ? `organization ${event.owner}` : `${event.owner}/${event.repo}`;
      if (event.what === "secret" && event.name === secretKeySecretName.toUpperCase()) {
        remember(github.secretValueAt(event.scope, event.name), `a secret written to ${where}`);
      }
      const problems = await checkR1(`at the write of ${event.name} to ${where}`, event.scope);
      if (problems.length > 0) {
        r1Failures.push(...problems);
        throw new Error(problems.join("; "));
      }
      await extraHook?.(event);
    });

    /** Every secret access key moto holds for this user right now, and the secrets in the state secret. */
    const harvestSecrets = async (): Promise<void> => {
      for (const minted of github.apps.mintedTokenValues())
        remember(minted, "a GitHub App installation token");
      const issued = options.issuedAccessKeys?.() ?? (await motoAccessKeys(endpoint, user.userName));
      for (const key of issued) {
        remember(key.secretAccessKey, `the secret of key ${key.accessKeyId}`);
      }
      const { SecretString } = await secrets.send(
        new GetSecretValueCommand({ SecretId: stackSecrets.stateSecretArn }),
      );
      for (const match of (SecretString ?? "").matchAll(/"secretAccessKey"\s*:\s*"([^"]+)"/g)) {
        remember(match[1], "a secret kept in the rotation state");
      }
    };

    const timeoutSeconds = options.lambdaTimeoutSeconds ?? fn.timeoutSeconds;
    const lambdaTimeoutMs = timeoutSeconds === undefined ? DEFAULT_LAMBDA_TIMEOUT_MS : timeoutSeconds * 1000;
    const lambdaPids = new Set<number>();
    const invoke = async (
      payload: unknown,
      timeoutMs: number | undefined,
      signal: AbortSignal | undefined,
    ) => {
      const invocation = await invokeLambda(payload, {
        env,
        lambda,
        environments,
        timeoutMs: lambdaTimeoutMs,
        ...(timeoutMs === undefined ? {} : { killAfterMs: timeoutMs }),
        clock,
        ...(signal === undefined ? {} : { signal }),
      });
      if (invocation.environment?.pid !== undefined) lambdaPids.add(invocation.environment.pid);
      return invocation;
    };

    const runbookDocument = (name: RunbookName): TemplateRunbook => {
      const documentName = `GHS-AKM-${user.userName}-${name}`;
      const runbook = runbooks.get(documentName);
      if (!runbook) {
        throw new Error(
          `stack-fixture: the template has no runbook named ${documentName} (it has ${[...runbooks.keys()].join(", ")}).`,
        );
      }
      return runbook;
    };

    const stack: Stack = {
      endpoint,
      github,
      user,
      repos,
      bucket,
      configKey,
      tokenSecretArn: stackSecrets.tokenSecretArn,
      stateSecretArn: stackSecrets.stateSecretArn,
      kmsKeyArn: stackSecrets.kmsKeyArn,
      progressKey: progressKey(configKey),
      rotationState: () =>
        new SplitStateStore(
          new SecretsManagerKeyStore(secrets, stackSecrets.stateSecretArn),
          new S3ProgressStore(s3, { bucket, key: progressKey(configKey), kmsKeyArn: stackSecrets.kmsKeyArn }),
        ).load(),
      env,
      lambda: fn,
      lambdaEnvironments: environments,
      lambdaPids,
      existingKeys,
      everyStdoutStderr,
      sleeps,
      r1Failures,
      alerts: alertTopic.received,
      alertTopicArn: alertTopic.topicArn,
      get maxKeysSeen() {
        return maxKeysSeen;
      },
      runbookDocument,

      async runRunbook(name, runParameters = {}, runOptions = {}) {
        const runbook = runbookDocument(name);
        await resolveSelected();
        const invocations: StepInvocation[] = [];
        let execution: AutomationExecution;
        try {
          execution = await runAutomation(runbook.document, runParameters, {
            region: MOTO_REGION,
            accountId: MOTO_ACCOUNT_ID,
            ...(runOptions.functionError === undefined ? {} : { functionError: runOptions.functionError }),
            ...(runOptions.loopMaxIterations === undefined
              ? {}
              : { loopMaxIterations: runOptions.loopMaxIterations }),
            now: () => new Date(clock.now()),
            onSleep: async (request) => {
              sleeps.push(request);
              await runOptions.onSleep?.(request);
              if ((runOptions.sleep ?? "advance-clock") === "advance-clock") await clock.advance(request.ms);
            },
            invokeLambda: async (call) => {
              if (
                call.functionName !== fn.logicalId &&
                !call.functionName.endsWith(`:function:${fn.logicalId}`)
              ) {
                throw new Error(
                  `stack-fixture: step ${call.stepName} invokes ${call.functionName}, not the template's function ${fn.logicalId}.`,
                );
              }
              await runOptions.beforeInvoke?.({
                stepName: call.stepName,
                index: invocations.length,
                previous: invocations.at(-1),
              });
              const invocation = await invoke(call.payload, call.timeoutMs, runOptions.killLambda);
              invocations.push({ ...invocation, stepName: call.stepName });
              everyStdoutStderr.push(invocation.logs);
              return invocation;
            },
          });
        } catch (error) {
          capturedTexts.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
          throw error;
        } finally {
          await harvestSecrets();
        }
        capturedTexts.push(JSON.stringify(execution));
        await refreshList();
        r1Failures.push(...(await checkR1(`after ${name}`)));
        const last = invocations.at(-1);
        const lastResult =
          last && last.functionError === undefined ? (last.result as HandlerResult | undefined) : undefined;
        return { execution, invocations, lastResult };
      },

      async startBySchedule(runOptions = {}) {
        const resolver = new IntrinsicResolver(template, ruleContext);
        const rule = resolver.resolve(template.Resources.rEventsRuleRotate?.Properties ?? {}) as {
          Targets?: { Arn?: string; Input?: string }[];
        };
        const [target, ...others] = rule.Targets ?? [];
        const rotate = runbookDocument("Rotate");
        if (others.length > 0 || !target?.Arn?.endsWith(`:automation-definition/${rotate.name}:$DEFAULT`)) {
          throw new Error(
            `stack-fixture: the schedule rule does not target the Rotate runbook ${rotate.name} alone (${JSON.stringify(rule.Targets)}).`,
          );
        }
        const input = JSON.parse(target.Input ?? "{}") as Record<string, unknown>;
        return stack.runRunbook("Rotate", input, runOptions);
      },

      alertRuleMatches(name, execution) {
        const rule = template.Resources.rEventsRuleAlert;
        if (rule === undefined) throw new Error("stack-fixture: the template has no rule rEventsRuleAlert");
        const pattern = new IntrinsicResolver(template, ruleContext).resolve(rule.Properties?.EventPattern);
        const event = automationExecutionEvent({
          executionId: execution.executionId,
          definition: runbookDocument(name).name,
          status: execution.status,
          region: MOTO_REGION,
          accountId: MOTO_ACCOUNT_ID,
          time: new Date(clock.now()),
        });
        return matchesEventPattern(pattern, event);
      },

      async invokeFunction(event) {
        await resolveSelected();
        const invocation = await invoke(event, undefined, undefined);
        everyStdoutStderr.push(invocation.logs);
        capturedTexts.push(JSON.stringify(invocation.result ?? null));
        return invocation;
      },

      async deliverListChange() {
        const { Versions = [], DeleteMarkers = [] } = await s3.send(
          new ListObjectVersionsCommand({ Bucket: bucket, Prefix: configKey }),
        );
        const latest = [...Versions, ...DeleteMarkers].find(
          (entry) => entry.Key === configKey && entry.IsLatest,
        );
        if (latest?.VersionId === undefined)
          throw new Error("stack-fixture: the list has no version to announce");
        const event = s3ObjectEvent({
          bucket,
          key: configKey,
          versionId: latest.VersionId,
          deleted: DeleteMarkers.includes(latest),
          region: MOTO_REGION,
          accountId: MOTO_ACCOUNT_ID,
          time: new Date(clock.now()),
        });
        const rule = template.Resources.rEventsRuleListChanged;
        if (rule === undefined)
          throw new Error("stack-fixture: the template has no rule rEventsRuleListChanged");
        const resolver = new IntrinsicResolver(template, context);
        const pattern = resolver.resolve(rule.Properties?.EventPattern);
        if (!matchesEventPattern(pattern, event)) return undefined;
        return stack.invokeFunction(event);
      },

      keys: listKeys,
      async checkR1(when = "now") {
        await resolveSelected();
        return checkR1(when);
      },
      targetReads: () => readers.all(),
      targets: () => readTargets,
      resolveSelections: resolveSelected,
      secretValues,
      githubToken: async () => credential,
      onSecretWritten(hook) {
        extraHook = hook;
      },
      advanceClock(ms) {
        return clock.advance(ms);
      },
      get clockOffsetMs() {
        return clock.offsetMs;
      },

      secretPuts(full) {
        const [owner = "", name = ""] = full.split("/");
        const prefix = `/repos/${owner}/${name}/actions/secrets/`.toLowerCase();
        return github.requests.filter(
          (entry) =>
            entry.method === "PUT" &&
            entry.path.toLowerCase().startsWith(prefix) &&
            !entry.path.endsWith("/public-key"),
        ).length;
      },

      async readConfig() {
        try {
          const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: configKey }));
          return { body: (await response.Body?.transformToString("utf-8")) ?? "", etag: response.ETag ?? "" };
        } catch (error) {
          if (error instanceof Error && error.name === "NoSuchKey") return undefined;
          throw error;
        }
      },

      async writeConfig(text) {
        await putObjectText(endpoint, bucket, configKey, text);
        await useList(text);
      },

      async deleteConfig() {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: configKey }));
        await useList(undefined);
      },

      async issuedSecretOf(accessKeyId) {
        const keys = options.issuedAccessKeys?.() ?? (await motoAccessKeys(endpoint, user.userName));
        return keys.find((key) => key.accessKeyId === accessKeyId)?.secretAccessKey;
      },

      async secretLeaks(extraTexts = []) {
        await harvestSecrets();
        const sources: [string, string][] = [
          ...everyStdoutStderr.map((text, i): [string, string] => [
            `Lambda logs of invocation ${i + 1}`,
            text,
          ]),
          ...capturedTexts.map((text, i): [string, string] => [`runbook execution or error ${i + 1}`, text]),
          ...alertTopic.received.map((alert, i): [string, string] => [
            `alert ${i + 1}`,
            `${alert.subject ?? ""}\n${alert.message}`,
          ]),
          ...extraTexts.map((text, i): [string, string] => [`extra text ${i + 1}`, text]),
        ];
        const leaks: string[] = [];
        for (const [value, label] of knownSecrets) {
          for (const [where, text] of sources) {
            if (text.includes(value)) leaks.push(`${label} appears in ${where}`);
          }
        }
        return leaks;
      },

      async close() {
        await environments.close();
        github.setSecretWrittenHook(undefined);
        await github.close();
        await alertTopic.close();
        for (const client of [iam, secrets, s3]) client.destroy();
      },
    };
    return stack;
  } catch (error) {
    await environments.close();
    await github.close();
    await alertTopic.close();
    throw error;
  }
}

/**
 * Registers an afterEach that checks, for every stack the test created, what must hold in every scenario —
 * secret hygiene (no known secret in any captured output), R1 at every write and after every run, and a
 * GitHub client that stays within GitHub's documented API — then closes them. Returns the stack factory.
 */
export function useStacks(endpoint: string): (options?: StackOptions) => Promise<Stack> {
  const created: Stack[] = [];
  afterEach(async () => {
    const stacks = created.splice(0);
    const leaks: string[] = [];
    try {
      for (const stack of stacks) leaks.push(...(await stack.secretLeaks()));
    } finally {
      await Promise.all(stacks.map((stack) => stack.close()));
    }
    expect(leaks, "secret values in Lambda logs, runbook outputs or errors").toEqual([]);
    expect(
      stacks.flatMap((stack) => stack.r1Failures),
      "R1: a reader of a listed target on a key that is not Active",
    ).toEqual([]);
    expect(
      stacks.flatMap((stack) => stack.github.violations),
      "requests GitHub would refuse",
    ).toEqual([]);
    expect(
      stacks.flatMap((stack) => [...stack.lambdaPids].filter(processIsRunning)),
      "Lambda execution environments still running after the stack was closed",
    ).toEqual([]);
  });
  return async (options) => {
    const stack = await createStack(endpoint, options);
    created.push(stack);
    return stack;
  };
}

/** Whether a process with this ID exists (signal 0 checks without sending anything). */
function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Renders repos.json in the original stack's format. */
export function renderRepos(repos: readonly string[]): string {
  const entries = repos.map((full) => {
    const [owner = "", name = ""] = full.split("/");
    return { Name: name, Owner: owner };
  });
  return `${JSON.stringify({ Repos: entries }, null, 2)}\n`;
}

/**
 * The function's environment as a deployed stack would set it: the template's `Environment.Variables`
 * resolved against this stack, plus what pointing the SDK and GitHub client at the local servers needs.
 * Every variable the function reads (SETTINGS_ENV) must come from the template, or the template is wrong.
 */
function lambdaEnvironment(
  template: CfnTemplate,
  fn: TemplateLambda,
  context: StackContext,
  endpoint: string,
): Record<string, string> {
  const resolver = new IntrinsicResolver(template, context);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) env[name] = String(resolver.resolve(value));
  const missing = Object.values(SETTINGS_ENV).filter(
    (name) => !(name in env) && name !== SETTINGS_ENV.githubApiUrl,
  );
  if (missing.length > 0) {
    throw new Error(`stack-fixture: the template's function does not set ${missing.join(", ")}.`);
  }
  return {
    ...env,
    // moto's dummy credentials; the SDK v3 sends every service's requests to AWS_ENDPOINT_URL.
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: endpoint,
  };
}

interface MotoAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const DATA_DUMP_ATTEMPTS = 20;

/** Secret access keys moto issued to a user, from its internal state dump (only for hygiene checks). */
async function motoAccessKeys(endpoint: string, userName: string): Promise<MotoAccessKey[]> {
  // moto's state dump now and then answers 500 while other suites change moto's state: retry, a little later
  // each time. (It also gets slower with every object moto ever tracked, deleted ones included.)
  let response = await fetch(`${endpoint}/moto-api/data.json`);
  for (let attempt = 1; !response.ok && attempt < DATA_DUMP_ATTEMPTS; attempt++) {
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    response = await fetch(`${endpoint}/moto-api/data.json`);
  }
  const data = (await response.json()) as {
    iam?: { AccessKey?: { access_key_id: string; secret_access_key: string; user_name: string }[] };
  };
  return (data.iam?.AccessKey ?? [])
    .filter((key) => key.user_name === userName)
    .map((key) => ({ accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key }));
}
