/**
 * GitHub sends `GitHub-Authentication-Token-Expiration` with every API answer to a request made with a token that
 * expires (personal access tokens, fine-grained and classic, created with an expiration date), e.g.
 * `2026-06-03 19:52:44 UTC`; answers to a token without an expiration date have no such header.
 * https://github.blog/changelog/2021-07-26-expiration-options-for-personal-access-tokens/
 * GitHub has also been seen to send a numeric offset instead of `UTC` (`2025-09-05 17:55:53 +0500`); both are read.
 */
export const TOKEN_EXPIRATION_HEADER = "github-authentication-token-expiration";

const FORMAT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) (UTC|[+-]\d{2}:?\d{2})$/;

/** The instant a `GitHub-Authentication-Token-Expiration` value names, or undefined when absent or unreadable. */
export function parseTokenExpiration(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const match = FORMAT.exec(value.trim());
  if (match === null) return undefined;
  const [, date, time, zone = "UTC"] = match;
  const offset = zone === "UTC" ? "Z" : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const at = new Date(`${date}T${time}${offset}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
