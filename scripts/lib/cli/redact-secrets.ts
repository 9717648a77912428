const REDACTED = "[redacted]";

// Shapes of credentials that must never be printed, even if a runbook output or an AWS message echoes
// one: GitHub tokens (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/)
// and values labelled as an AWS secret access key.
const PATTERNS: readonly RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{20,255}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,255}\b/g,
  /(secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
];

/** Replaces anything shaped like a GitHub token or an AWS secret access key with `[redacted]`. */
export function redactSecrets(text: string): string {
  return PATTERNS.reduce(
    (result, pattern) =>
      result.replace(pattern, (match, label?: unknown) =>
        typeof label === "string" && match.startsWith(label) ? `${label}${REDACTED}` : REDACTED,
      ),
    text,
  );
}
