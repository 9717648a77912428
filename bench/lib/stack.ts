/**
 * One benchmark scenario's world: the resources the template would create (in the bench's moto server, under
 * unique names), an IAM user whose one key every place of the layout holds (by default every repository's own
 * secrets, as the original stack leaves them), and a GitHub emulator on the scenario's scaled clock with GitHub's
 * limits and latency.
 */
import { randomBytes } from "node:crypto";
import { CreateAccessKeyCommand, IAMClient } from "@aws-sdk/client-iam";
import { PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import {
  awsClientConfig,
  createConfigBucket,
  createIamUser,
  createStackSecrets,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  putObjectText,
  type StaticCredentials,
  uniqueName,
} from "../../scripts/local-stack/aws-fixtures.ts";
import {
  type GitHubEmulator,
  type OrgAccessSpec,
  type SecretScope,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";
import {
  type ExtractedLambda,
  extractTemplateLambda,
  loadRenderedTemplate,
  templateLambda,
} from "../../scripts/local-stack/lambda-runner.ts";
import {
  type AutomationDocument,
  IntrinsicResolver,
  type StackContext,
  templateRunbooks,
} from "../../scripts/local-stack/runbook-simulator.ts";
import { SETTINGS_ENV } from "../../src/config/settings.ts";
import type { ScaledClock } from "./clock.ts";
import { type LayoutKind, layoutListDocument, type SecretLayout, secretLayout } from "./secret-layout.ts";

/** GitHub's documented limits the emulator enforces (windows in emulated time: the emulator runs on the clock). */
export const EMULATED_LIMITS = {
  writesPerMinute: 80,
  maxConcurrent: 100,
  requestsPerHour: 5_000,
} as const;

export interface BenchStackOptions {
  readonly motoEndpoint: string;
  readonly repoCount: number;
  readonly clock: ScaledClock;
  /** Emulated latency of every GitHub request (ms of emulated time). */
  readonly latencyMs: number;
  /** Where the repositories read the key from (default `repository`: each its own secrets, a version 1 list). */
  readonly layout?: LayoutKind;
}

export interface BenchStack {
  readonly github: GitHubEmulator;
  readonly token: string;
  readonly userName: string;
  /** `owner/name` of every repository of the layout. */
  readonly repos: readonly string[];
  /** The places that hold the key, the jobs that read it, and the list that names the places. */
  readonly layout: SecretLayout;
  /** The key the user had before; every repository holds it at the start. */
  readonly existingKey: StaticCredentials;
  readonly keyIdSecretName: string;
  readonly secretKeySecretName: string;
  /** The function's environment as the template sets it, pointed at moto and the emulator. */
  readonly env: Readonly<Record<string, string>>;
  readonly lambda: ExtractedLambda;
  readonly functionLogicalId: string;
  readonly rotateRunbook: AutomationDocument;
  readonly stateSecretArn: string;
  /** Where repos.json lives; the rotation's progress object is beside it (`progressKey(configKey)`). */
  readonly bucket: string;
  readonly configKey: string;
  close(): Promise<void>;
}

const MACHINE_USER = "akm-bench-machine-user";

export async function createBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const { motoEndpoint: endpoint, clock } = options;
  const template = loadRenderedTemplate();
  const fn = templateLambda(template);
  const lambda = extractTemplateLambda(template);
  const suffix = randomBytes(3).toString("hex");
  const owner = `bench-${suffix}`;
  const layout = secretLayout(options.layout ?? "repository", options.repoCount, owner);
  const repos = layout.repos.map((name) => `${owner}/${name}`);
  const token = `emulated-token-${randomBytes(16).toString("hex")}`;

  const user = await createIamUser(endpoint);
  const iam = new IAMClient(awsClientConfig(endpoint));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
  iam.destroy();
  if (!AccessKey?.AccessKeyId || !AccessKey.SecretAccessKey) throw new Error("moto returned no access key");
  const existingKey = { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };

  const stackSecrets = await createStackSecrets(endpoint, {
    userName: user.userName,
    machineUser: MACHINE_USER,
    token,
    keyDescription: `bench ${user.userName}`,
  });
  const bucket = await createConfigBucket(endpoint, uniqueName("akm-bench"));
  const s3 = new S3Client(awsClientConfig(endpoint));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  s3.destroy();

  const github = await startGitHubEmulator({ now: () => clock.now(), limits: EMULATED_LIMITS });
  github.addToken(token, { login: MACHINE_USER, repos: "all", permission: "write" });
  if (options.latencyMs > 0) {
    // Every request takes the emulated round trip (in real milliseconds: shrunk by the time scale).
    github.addFault({ delayMs: options.latencyMs / clock.scale, times: Number.POSITIVE_INFINITY });
  }

  const context: StackContext = {
    parameters: Object.fromEntries(
      Object.entries({
        pIamUserName: user.userName,
        pIamUserArn: user.userArn,
        pRepoConfigBucketName: bucket,
        pGitHubToken: token,
        pGitHubMachineUserName: MACHINE_USER,
        pAllowedGitHubOwners: owner,
        pSnsEmailAddress: "alerts@example.com",
        pGitHubApiUrl: github.url,
        // Retire right after the rotation: the grace period is a deliberate wait, not work.
        pGraceMinutes: "0",
      }).filter(([name]) => name in (template.Parameters ?? {})),
    ),
    stackName: `akm-bench-${user.userName}`,
    region: MOTO_REGION,
    accountId: MOTO_ACCOUNT_ID,
    resources: {
      rGitHubTokenSecret: { ref: stackSecrets.tokenSecretArn, arn: stackSecrets.tokenSecretArn },
      rRotationStateSecret: { ref: stackSecrets.stateSecretArn, arn: stackSecrets.stateSecretArn },
      rRepoConfigBucket: { ref: bucket, arn: `arn:aws:s3:::${bucket}` },
      rKmsKey: { ref: stackSecrets.kmsKeyId, arn: stackSecrets.kmsKeyArn },
      // The bench sends no alert (no refused repository, no expiring token): an ARN of the right form is enough.
      rSnsTopic: {
        ref: `arn:aws:sns:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:akm-bench-alerts`,
        arn: `arn:aws:sns:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:akm-bench-alerts`,
      },
    },
  };
  const resolver = new IntrinsicResolver(template, context);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) env[name] = String(resolver.resolve(value));
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: endpoint,
  });
  const keyIdSecretName = env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID";
  const secretKeySecretName = env[SETTINGS_ENV.secretNameSecretKey] ?? "AWS_SECRET_ACCESS_KEY";
  const configKey = env[SETTINGS_ENV.configKey] ?? "repos.json";

  // An organization owns the repositories when the layout has an organization secret; a user otherwise (as before).
  if (layout.places.some((place) => place.kind === "organization")) github.addOrg(owner);
  for (const name of layout.repos) github.addRepo(owner, name);
  const hold = (scope: SecretScope, access?: OrgAccessSpec) => {
    github.setSecretAt(scope, keyIdSecretName, existingKey.accessKeyId, access);
    github.setSecretAt(scope, secretKeySecretName, existingKey.secretAccessKey, access);
  };
  for (const place of layout.places) {
    if (place.kind === "repository") {
      hold({ kind: "repository", owner, repo: place.repo, store: "actions" });
    } else if (place.kind === "environment") {
      github.addEnvironment(owner, place.repo, place.environment);
      hold({ kind: "environment", owner, repo: place.repo, environment: place.environment });
    } else {
      hold(
        { kind: "organization", org: owner, store: "actions" },
        { visibility: "selected", repositories: place.selected },
      );
    }
  }
  await putObjectText(
    endpoint,
    bucket,
    configKey,
    `${JSON.stringify(layoutListDocument(layout), null, 2)}\n`,
  );

  const rotate = templateRunbooks(template, context).find(
    (r) => r.name === `GHS-AKM-${user.userName}-Rotate`,
  );
  if (!rotate) throw new Error("the template has no Rotate runbook");

  return {
    github,
    token,
    userName: user.userName,
    repos,
    layout,
    existingKey,
    keyIdSecretName,
    secretKeySecretName,
    env,
    lambda,
    functionLogicalId: fn.logicalId,
    rotateRunbook: rotate.document,
    stateSecretArn: stackSecrets.stateSecretArn,
    bucket,
    configKey,
    close: () => github.close(),
  };
}
