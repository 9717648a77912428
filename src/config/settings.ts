import * as v from "valibot";
import { SettingsError } from "../errors.ts";

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
}

const NonEmpty = v.pipe(v.string(), v.minLength(1));
// GitHub secret names: letters, digits, underscores; not starting with a digit or GITHUB_.
const SecretName = v.pipe(v.string(), v.regex(/^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$/i));

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
  graceMinutes: v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.maxValue(10080)),
});

/** Reads and validates the Lambda environment once, at cold start. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, string | undefined> = {};
  for (const [field, name] of Object.entries(SETTINGS_ENV)) raw[field] = env[name];
  raw.githubApiUrl ??= "https://api.github.com";
  raw.graceMinutes ??= "60";
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
  return { ...result.output, githubApiUrl: result.output.githubApiUrl.replace(/\/+$/, "") };
}

/** The rotation lock lives beside repos.json, so the function needs no extra bucket or table. */
export function lockKey(configKey: string): string {
  return `${configKey}.lock`;
}

/** The rotation's progress (src/aws/progress-store.ts) lives beside repos.json too. */
export function progressKey(configKey: string): string {
  return `${configKey}.progress.json`;
}
