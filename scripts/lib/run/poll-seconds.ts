import { UsageError } from "../cli/errors.ts";

export const DEFAULT_POLL_SECONDS = 5;
/** Polling faster risks throttling (GetAutomationExecution shares the account's SSM API rate). */
const MIN_POLL_SECONDS = 1;
const MAX_POLL_SECONDS = 300;

/** Parses --poll-seconds: a whole number of seconds from 1 to 300. */
export function parsePollSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_POLL_SECONDS;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < MIN_POLL_SECONDS || seconds > MAX_POLL_SECONDS) {
    throw new UsageError(
      `--poll-seconds '${text}' must be a whole number of seconds from ${MIN_POLL_SECONDS} to ${MAX_POLL_SECONDS}.`,
    );
  }
  return seconds;
}
