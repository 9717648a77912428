import { redactSecrets } from "./domain/secret-value.ts";

/**
 * Every error a user can cause is an `AkmError`: it says what is wrong, where, and how to fix it.
 * `fault` separates the user's mistakes from transient outages and from bugs in this tool, so the
 * runbook summary and the CLI exit codes can tell them apart.
 */
export type Fault = "user" | "transient" | "tool";

export interface AkmErrorOptions {
  /** How to fix it, as an instruction ("Grant the token ..."). */
  readonly fix: string;
  readonly fault?: Fault;
  readonly cause?: unknown;
}

export class AkmError extends Error {
  readonly fault: Fault;
  readonly fix: string;

  constructor(message: string, options: AkmErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AkmError";
    this.fault = options.fault ?? "user";
    this.fix = options.fix;
  }

  /** One line for summaries: what, where, and the fix. */
  describe(): string {
    return `${this.message} Fix: ${this.fix}`;
  }
}

/** repos.json (or a runbook parameter) is missing, malformed or inconsistent. */
export class ConfigError extends AkmError {
  /** Where: `s3://bucket/key`, plus line/column or a JSON path when known. */
  readonly location: string;
  readonly problems: readonly string[];

  constructor(location: string, problems: readonly string[], fix: string, cause?: unknown) {
    const list = problems.length === 1 ? problems[0] : problems.map((p) => `\n  - ${p}`).join("");
    super(`Invalid repository list ${location}: ${list}`, { fix, fault: "user", cause });
    this.name = "ConfigError";
    this.location = location;
    this.problems = problems;
  }
}

/**
 * The Lambda's environment or an event does not match what the template wires in (a tool fault), or stack
 * parameters that passed the form contradict each other (`fault: "user"`).
 */
export class SettingsError extends AkmError {
  constructor(message: string, fix: string, fault: Fault = "tool") {
    super(message, { fix, fault });
    this.name = "SettingsError";
  }
}

/** GitHub refused or failed a request for one repository (or for the token itself). */
export class GitHubAccessError extends AkmError {
  readonly status: number | undefined;
  readonly repo: string | undefined;

  constructor(
    message: string,
    details: { status?: number; repo?: string; fix: string; fault?: "user" | "transient"; cause?: unknown },
  ) {
    super(message, { fix: details.fix, fault: details.fault ?? "user", cause: details.cause });
    this.name = "GitHubAccessError";
    this.status = details.status;
    this.repo = details.repo;
  }
}

/**
 * GitHub's primary rate limit for the token is used up: it answered 403 or 429 with `x-ratelimit-remaining: 0`,
 * and no request may be made before `resetAt` (its `x-ratelimit-reset`, UTC epoch seconds). Not a failure of
 * the repository it names: the rotation stops what it was doing, keeps what it did, and the runbook waits until
 * `resetAt` before it invokes the function again.
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
 */
export class GitHubRateLimitError extends GitHubAccessError {
  /** When GitHub resets the limit (its `x-ratelimit-reset`). */
  readonly resetAt: Date;

  constructor(
    message: string,
    details: { status?: number; repo?: string; fix: string; resetAt: Date; cause?: unknown },
  ) {
    super(message, { ...details, fault: "transient" });
    this.name = "GitHubRateLimitError";
    this.resetAt = details.resetAt;
  }
}

/**
 * The GitHub credential in the token secret is not one this tool can use: neither a personal token nor a GitHub
 * App credential, or one that contradicts the stack's pGitHubAppId. The message names the secret, never its value.
 */
export class GitHubCredentialError extends AkmError {
  constructor(message: string, fix: string, cause?: unknown) {
    super(message, { fix, fault: "user", cause });
    this.name = "GitHubCredentialError";
  }
}

/** The IAM user or its keys are not in a state this tool may change safely. */
export class IamStateError extends AkmError {
  constructor(message: string, fix: string, cause?: unknown) {
    super(message, { fix, fault: "user", cause });
    this.name = "IamStateError";
  }
}

/** The new key did not authenticate in time, or authenticated as someone else. */
export class VerificationError extends AkmError {
  constructor(message: string, fix: string, cause?: unknown) {
    super(message, { fix, fault: "transient", cause });
    this.name = "VerificationError";
  }
}

/**
 * STS refused a key (InvalidClientTokenId, SignatureDoesNotMatch). A key IAM just created is refused like this
 * for seconds while it propagates, so the lifecycle retries on this error with its injected clock; a key that
 * stays refused becomes the run's VerificationError.
 */
export class KeyNotAcceptedError extends VerificationError {
  readonly accessKeyId: string;
  /** The AWS error code STS answered with. */
  readonly code: string;

  constructor(accessKeyId: string, code: string, cause?: unknown) {
    super(
      `AWS STS did not accept access key ${accessKeyId} (${code}).`,
      "A new key can take up to a minute to work everywhere: re-run the runbook. If it keeps failing, check in the IAM console that the key exists and is Active.",
      cause,
    );
    this.name = "KeyNotAcceptedError";
    this.accessKeyId = accessKeyId;
    this.code = code;
  }
}

/** The rotation state (its secret or its progress object) cannot be read or written. */
export class StateStoreError extends AkmError {
  constructor(message: string, fix: string, cause?: unknown, fault: Fault = "tool") {
    super(message, { fix, fault, cause });
    this.name = "StateStoreError";
  }
}

/** Wraps anything that is not an AkmError once, at the boundary, without copying its message blindly. */
export function toAkmError(error: unknown, context: string): AkmError {
  if (error instanceof AkmError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  const detail = error instanceof Error ? `: ${redactSecrets(error.message)}` : "";
  return new AkmError(`${context} failed unexpectedly (${name}${detail}).`, {
    fix: "Re-run the runbook; if it fails again, open an issue with the execution ID and the Lambda log.",
    fault: "tool",
    cause: error,
  });
}

/**
 * A refusal that is also a security event: the key was about to go somewhere it must not (a repository of an owner
 * pAllowedGitHubOwners does not list, one GitHub says was renamed, transferred or re-created). Nothing is changed,
 * and besides the run's own answer the stack's alert topic is told (`alert`: one line for the e-mail's subject
 * context, never a secret), because a direct invocation has no runbook whose failure would alert anyone.
 */
export class KeyDestinationRefusedError extends AkmError {
  /** The repositories refused, `owner/name` as listed. */
  readonly repos: readonly string[];
  /** What happened, for the alert e-mail. */
  readonly alert: string;

  constructor(message: string, details: { repos: readonly string[]; alert: string; fix: string }) {
    super(message, { fix: details.fix, fault: "user" });
    this.name = "KeyDestinationRefusedError";
    this.repos = details.repos;
    this.alert = details.alert;
  }
}
