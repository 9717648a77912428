import { redactSecrets } from "../domain/secret-value.ts";

export type GitHubLogLevel = "debug" | "info" | "warn" | "error";

/** One line about the GitHub client's work: plain text, never headers, tokens or secret values. */
export interface GitHubLogEntry {
  readonly level: GitHubLogLevel;
  readonly message: string;
}

/** Where the GitHub client reports retries and waits. Omit it to stay silent. */
export type GitHubLog = (entry: GitHubLogEntry) => void;

type OctokitLogMethod = (message: string, ...extra: unknown[]) => void;
export type OctokitLog = Record<GitHubLogLevel, OctokitLogMethod>;

/**
 * Adapts a `GitHubLog` to the `{ debug, info, warn, error }` shape Octokit and its plugins call.
 * Octokit's default logger prints to the console and plugins may pass extra arguments (errors that
 * carry request options and headers), so only the first argument, if it is text, gets through.
 */
export function octokitLog(log: GitHubLog | undefined): OctokitLog {
  const at =
    (level: GitHubLogLevel): OctokitLogMethod =>
    (message) => {
      if (log && typeof message === "string") log({ level, message: redactSecrets(message) });
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
