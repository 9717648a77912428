import * as v from "valibot";
import { IamStateError, SettingsError } from "../errors.ts";
import { OwnerAllowList } from "./owner-allow-list.ts";
import { SECRET_NAME_PATTERN, sameSecretName, secretNameProblem } from "./secret-name.ts";

/**
 * The Lambda's configuration, wired in by the CloudFormation template as environment variables.
 * Names are the contract between `templates/` and this code; `test/template` checks both sides agree.
 */
export const SETTINGS_ENV = {
  iamUserName: "AKM_IAM_USER_NAME",
  iamUserArn: "AKM_IAM_USER_ARN",
  tokenSecretId: "AKM_GITHUB_TOKEN_SECRET_ID",
  stateSecretId: "AKM_STATE_SECRET_ID",
  kmsKeyArn: "AKM_KMS_KEY_ARN",
  configBucket: "AKM_CONFIG_BUCKET",
  configKey: "AKM_CONFIG_KEY",
  secretNameKeyId: "AKM_SECRET_NAME_KEY_ID",
  secretNameSecretKey: "AKM_SECRET_NAME_SECRET_KEY",
  githubApiUrl: "AKM_GITHUB_API_URL",
  graceMinutes: "AKM_GRACE_MINUTES",
  githubCaBundleKey: "AKM_GITHUB_CA_BUNDLE_KEY",
  allowedOwners: "AKM_ALLOWED_GITHUB_OWNERS",
  machineUserName: "AKM_GITHUB_MACHINE_USER_NAME",
  alertTopicArn: "AKM_ALERT_TOPIC_ARN",
  githubAppId: "AKM_GITHUB_APP_ID",
} as const;

export interface Settings {
  readonly iamUserName: string;
  readonly iamUserArn: string;
  readonly tokenSecretId: string;
  readonly stateSecretId: string;
  /** The stack's KMS key, which encrypts the progress object (SSE-KMS takes the key's ARN). */
  readonly kmsKeyArn: string;
  readonly configBucket: string;
  readonly configKey: string;
  readonly secretNameKeyId: string;
  readonly secretNameSecretKey: string;
  readonly githubApiUrl: string;
  readonly graceMinutes: number;
  /**
   * S3 key, in `configBucket`, of a PEM file with CA certificates GitHub requests also trust (a GitHub Enterprise
   * Server with a private CA); undefined when the stack parameter pGitHubCaBundleKey is empty.
   */
  readonly githubCaBundleKey: string | undefined;
  /** pAllowedGitHubOwners: the only owners whose repositories may receive the key. */
  readonly allowedOwners: OwnerAllowList;
  /** pGitHubMachineUserName: the login the token should belong to (a different owner is warned about). */
  readonly machineUserName: string;
  /** The stack's SNS topic: list changes and refused destinations are announced there. */
  readonly alertTopicArn: string;
  /**
   * pGitHubAppId: the GitHub App the function authenticates as, its private key in the token secret (README,
   * section "GitHub App instead of a machine user"); undefined when the parameter is empty (a personal token, or an
   * App credential whose JSON names its own appId).
   */
  readonly githubAppId: string | undefined;
}

/** The stack parameters behind the settings a user chooses, for messages. */
const PARAMETER_OF = {
  secretNameKeyId: "pGitHubSecretNameAwsKeyId",
  secretNameSecretKey: "pGitHubSecretNameAwsKey",
} as const;

const NonEmpty = v.pipe(v.string(), v.minLength(1));
const SecretName = v.pipe(v.string(), v.regex(new RegExp(SECRET_NAME_PATTERN)));

const SettingsSchema = v.object({
  iamUserName: NonEmpty,
  iamUserArn: v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:iam::\d{12}:user\/.+$/)),
  tokenSecretId: NonEmpty,
  stateSecretId: NonEmpty,
  kmsKeyArn: v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/)),
  configBucket: NonEmpty,
  configKey: NonEmpty,
  secretNameKeyId: SecretName,
  secretNameSecretKey: SecretName,
  githubApiUrl: v.pipe(v.string(), v.url()),
  allowedOwners: v.pipe(
    v.string(),
    v.transform((value) => OwnerAllowList.parse(value)),
    v.check((parsed) => parsed instanceof OwnerAllowList),
    v.transform((parsed) => parsed as OwnerAllowList),
  ),
  machineUserName: NonEmpty,
  alertTopicArn: v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/)),
  graceMinutes: v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.maxValue(10080)),
  githubCaBundleKey: v.pipe(
    v.string(),
    v.transform((key) => (key === "" ? undefined : key)),
  ),
  githubAppId: v.pipe(
    v.string(),
    v.regex(/^(?:|[1-9][0-9]{0,19})$/),
    v.transform((id) => (id === "" ? undefined : id)),
  ),
});

/** Reads and validates the Lambda environment once, at cold start. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, string | undefined> = {};
  for (const [field, name] of Object.entries(SETTINGS_ENV)) raw[field] = env[name];
  raw.githubApiUrl ??= "https://api.github.com";
  raw.graceMinutes ??= "60";
  raw.githubCaBundleKey ??= "";
  // Stacks created before App support have no such variable: a personal token.
  raw.githubAppId ??= "";
  checkSecretNames(raw);
  checkApiUrl(raw.githubApiUrl);
  const result = v.safeParse(SettingsSchema, raw);
  if (!result.success) {
    const names = result.issues.map((issue) => {
      const field = v.getDotPath(issue) as keyof typeof SETTINGS_ENV | null;
      return field ? SETTINGS_ENV[field] : "(unknown)";
    });
    throw new SettingsError(
      `The Lambda environment variables ${[...new Set(names)].join(", ")} are missing or invalid.`,
      "Update the stack from the published template instead of editing the function by hand.",
    );
  }
  const { iamUserArn, iamUserName } = result.output;
  const arnName = iamUserArn.slice(iamUserArn.lastIndexOf("/") + 1);
  // Checked before any AWS call: the role may manage the keys of pIamUserArn, the function lists pIamUserName.
  if (arnName !== iamUserName) {
    throw new IamStateError(
      `The stack parameters name two different IAM users: pIamUserArn ${iamUserArn} is user ${arnName}, pIamUserName is ${iamUserName}.`,
      "Update the stack so pIamUserName is exactly the last part of pIamUserArn (same spelling and case).",
    );
  }
  return { ...result.output, githubApiUrl: result.output.githubApiUrl.replace(/\/+$/, "") };
}

/**
 * The two Actions secret names must each follow GitHub's rule and name two different secrets. GitHub compares
 * names case-insensitively, so `AWS_KEY` and `aws_key` are one secret: each write would overwrite the other and
 * CI would hold a key ID paired with itself. CloudFormation's form cannot compare two parameters ignoring case
 * (the template's Rules catch identical text only), so this check runs before any change, at cold start.
 */
function checkSecretNames(raw: Record<string, string | undefined>): void {
  for (const field of ["secretNameKeyId", "secretNameSecretKey"] as const) {
    const name = raw[field];
    if (name === undefined) continue; // a variable the template did not wire: the schema reports it
    const problem = secretNameProblem(name);
    if (problem !== undefined) {
      throw new SettingsError(
        `The GitHub secret name ${PARAMETER_OF[field]} (${SETTINGS_ENV[field]} = ${JSON.stringify(name)}) ${problem}.`,
        `Update the stack with a valid name for ${PARAMETER_OF[field]}: letters, digits and underscores, not starting with a digit or GITHUB_.`,
        "user",
      );
    }
  }
  const keyId = raw.secretNameKeyId;
  const secretKey = raw.secretNameSecretKey;
  if (keyId !== undefined && secretKey !== undefined && sameSecretName(keyId, secretKey)) {
    throw new SettingsError(
      `The stack parameters ${PARAMETER_OF.secretNameKeyId} (${JSON.stringify(keyId)}) and ${PARAMETER_OF.secretNameSecretKey} (${JSON.stringify(secretKey)}) name the same GitHub Actions secret: GitHub compares secret names case-insensitively, so the secret access key would overwrite the key ID. Nothing was changed.`,
      `Update the stack so the two parameters name different secrets, e.g. the defaults AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
      "user",
    );
  }
}

/**
 * The token travels with every GitHub request, so the API URL must be `https://` — the form's pattern says so, and
 * this checks it again at run time, where a hand-edited environment could have changed it. The one exception is a
 * loopback address (127.0.0.0/8, ::1, localhost): such a request never leaves the machine it runs on (the tests'
 * local GitHub emulator speaks plain HTTP).
 */
function checkApiUrl(value: string | undefined): void {
  if (value === undefined || !URL.canParse(value)) return; // missing or malformed: the schema reports it
  const url = new URL(value);
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname))) return;
  throw new SettingsError(
    `The GitHub API URL (${SETTINGS_ENV.githubApiUrl} = ${JSON.stringify(value)}) is not an https:// URL, so the GitHub token would travel unencrypted. Nothing was changed.`,
    "Update the stack with an https:// URL in pGitHubApiUrl: https://api.github.com, https://HOST/api/v3 for GitHub Enterprise Server, or https://api.SUBDOMAIN.ghe.com for GHE.com.",
    "user",
  );
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** The rotation lock lives beside repos.json, so the function needs no extra bucket or table. */
export function lockKey(configKey: string): string {
  return `${configKey}.lock`;
}

/** The rotation's progress (src/aws/progress-store.ts) lives beside repos.json too. */
export function progressKey(configKey: string): string {
  return `${configKey}.progress.json`;
}
