import type { TokenOwner } from "../ports.ts";

/** Days before the token's expiry from which every rotation warns (and the stack's topic is alerted). */
export const TOKEN_EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

/** The stack's topic hears about an expiring token at most this often (the summary warns at every rotation). */
export const TOKEN_ALERT_INTERVAL_MS = DAY_MS;

/**
 * What a rotation should warn about the GitHub token, as summary lines: a token of another user than the machine
 * user the stack names (pGitHubMachineUserName; logins compared ignoring case, as GitHub does), and a token that
 * expires within TOKEN_EXPIRY_WARNING_DAYS (GitHub's `GitHub-Authentication-Token-Expiration`) or has expired.
 * For a GitHub App: an App other than the one pGitHubMachineUserName names (by slug); nothing expires (each run
 * mints its own installation tokens, and GitHub gives App private keys no expiry date).
 * `tokenSecret` names where a new token goes.
 */
export function tokenWarnings(
  owner: TokenOwner,
  machineUserName: string,
  tokenSecret: string,
  now: Date,
): string[] {
  const warnings: string[] = [];
  if (owner.app !== undefined) {
    // App mode: pGitHubMachineUserName names the App by its slug (README, "GitHub App instead of a machine user").
    if (owner.app.slug.toLowerCase() !== machineUserName.toLowerCase()) {
      warnings.push(
        `Warning: the GitHub App credential in ${tokenSecret} is App ${owner.app.slug} (ID ${owner.app.id}), not ${machineUserName} the stack names (pGitHubMachineUserName, the App's slug). Store the private key of App ${machineUserName} in ${tokenSecret}, or update the stack's pGitHubMachineUserName to ${owner.app.slug} if that is the App now.`,
      );
    }
    return warnings;
  }
  if (owner.login.toLowerCase() !== machineUserName.toLowerCase()) {
    warnings.push(
      `Warning: the GitHub token belongs to ${owner.login}, not to the machine user ${machineUserName} the stack names (pGitHubMachineUserName). Store the machine user's token in ${tokenSecret}, or update the stack's pGitHubMachineUserName if ${owner.login} is the machine user now.`,
    );
  }
  const expiry = tokenExpiryWarning(owner, tokenSecret, now);
  if (expiry !== undefined) warnings.push(expiry);
  return warnings;
}

/** The warning for a token that expires within TOKEN_EXPIRY_WARNING_DAYS, or undefined. */
export function tokenExpiryWarning(owner: TokenOwner, tokenSecret: string, now: Date): string | undefined {
  const expiresAt = owner.expiresAt;
  if (expiresAt === undefined) return undefined;
  const left = expiresAt.getTime() - now.getTime();
  if (left > TOKEN_EXPIRY_WARNING_DAYS * DAY_MS) return undefined;
  const when = `${expiresAt.toISOString().slice(0, 19)}Z`;
  const days = Math.floor(left / DAY_MS);
  const remaining = days >= 1 ? `in ${days} day${days === 1 ? "" : "s"}` : "in less than a day";
  return `Warning: the GitHub token of ${owner.login} expires at ${when} (${remaining}). Store a new token in ${tokenSecret} before then: once it has expired, every rotation fails and the key stays as it is.`;
}
