import * as v from "valibot";
import type { RepoRef } from "../domain/repo.ts";
import { repoLabel, repoSlug } from "../domain/repo.ts";
import { ConfigError } from "../errors.ts";
import { jsonErrorOffset } from "./json-error-offset.ts";

/**
 * repos.json, the list of repositories whose Actions secrets receive the key.
 *
 * The original stack's format keeps working: `{"Repos":[{"Name":"app","Owner":"org"}]}`.
 * Room to grow without breaking it: each entry may carry `"Type"` (only `"repository"`, the default,
 * exists today; `"environment"`, `"organization"` and `"dependabot"` targets can be added as new
 * variants with their own fields), and the document may carry `"Version": 1`.
 */
export interface ReposConfig {
  readonly repos: readonly RepoRef[];
}

/** Largest accepted document; far above any real list, small enough to parse inside one Lambda step. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_REPOS = 5000;

// https://docs.github.com/en/get-started/using-git/dealing-with-special-characters-in-branch-and-tag-names
// GitHub logins: 1–39 alphanumerics or single hyphens, not at either end.
const OWNER_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
// Repository names: 1–100 of A–Z a–z 0–9 . _ -, and not "." or "..".
const NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

export const OwnerSchema = v.pipe(
  v.string("Owner must be a string"),
  v.regex(
    OWNER_PATTERN,
    "Owner must be a GitHub user or organization name: 1–39 letters, digits or single hyphens, not starting or ending with a hyphen",
  ),
);

export const NameSchema = v.pipe(
  v.string("Name must be a string"),
  v.regex(
    NAME_PATTERN,
    'Name must be a GitHub repository name: 1–100 of letters, digits, ".", "_" or "-" (not "." or "..")',
  ),
);

const RepoEntry = v.strictObject(
  {
    Owner: OwnerSchema,
    Name: NameSchema,
    Type: v.optional(
      v.literal(
        "repository",
        'Type must be "repository" (the only target type this version supports) or left out',
      ),
    ),
  },
  (issue) =>
    issue.kind === "schema" && issue.expected === "never"
      ? `unknown field ${JSON.stringify(issue.input === undefined ? "" : String(v.getDotPath(issue)?.split(".").pop()))}; allowed fields are "Owner", "Name" and "Type"`
      : issue.message,
);

const Document = v.strictObject({
  Version: v.optional(v.literal(1, "Version must be 1 or left out")),
  Repos: v.pipe(
    v.array(RepoEntry, 'Repos must be a list of {"Owner": ..., "Name": ...} objects'),
    v.minLength(1, "Repos is empty: list at least one repository"),
    v.maxLength(MAX_REPOS, `Repos lists more than ${MAX_REPOS} repositories`),
  ),
});

const FORMAT_FIX =
  'Edit repos.json so it reads like {"Repos":[{"Owner":"my-org","Name":"my-repo"}]}, or use the Add-RepoConfig runbook.';

/** Parses and validates repos.json text; every problem is reported at once, each with its JSON path. */
export function parseReposConfig(text: string, location: string): ReposConfig {
  if (Buffer.byteLength(text, "utf8") > MAX_CONFIG_BYTES) {
    throw new ConfigError(location, [`the file is larger than ${MAX_CONFIG_BYTES} bytes`], FORMAT_FIX);
  }
  // Editors on Windows often save a byte-order mark; it is not part of the JSON.
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (body.trim() === "") throw new ConfigError(location, ["the file is empty"], FORMAT_FIX);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ConfigError(location, [`not valid JSON ${jsonErrorPosition(body)}`], FORMAT_FIX, error);
  }
  const result = v.safeParse(Document, json, { abortEarly: false });
  if (!result.success) {
    const problems = result.issues.map((issue) => `${describePath(json, issue)}: ${issueMessage(issue)}`);
    throw new ConfigError(location, problems, FORMAT_FIX);
  }
  const repos = result.output.Repos.map((entry) => ({ owner: entry.Owner, name: entry.Name }));
  const duplicates = findDuplicates(repos);
  if (duplicates.length > 0) {
    throw new ConfigError(
      location,
      duplicates.map((d) => `${d.label} is listed more than once (entries ${d.indexes.join(", ")})`),
      "Remove the repeated entries (owner and name are compared case-insensitively, as GitHub does).",
    );
  }
  return { repos };
}

/** Renders a config document in the original format, so the original tool could still read it. */
export function renderReposConfig(config: ReposConfig): string {
  const document = { Repos: config.repos.map((repo) => ({ Name: repo.name, Owner: repo.owner })) };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function describePath(json: unknown, issue: v.BaseIssue<unknown>): string {
  const path = issue.path ?? [];
  const parts: string[] = [];
  for (const item of path) {
    const key = item.key as string | number;
    parts.push(typeof key === "number" ? `[${key}]` : parts.length === 0 ? String(key) : `.${String(key)}`);
  }
  let where = parts.join("") || "(top level)";
  // Name the repository an entry is about, when the entry has readable Owner/Name fields.
  const first = path[0];
  const second = path[1];
  if (first?.key === "Repos" && second && typeof second.key === "number" && isRecord(json)) {
    const entry = (json.Repos as unknown[] | undefined)?.[second.key];
    if (isRecord(entry) && typeof entry.Owner === "string" && typeof entry.Name === "string") {
      where += ` (${JSON.stringify(`${entry.Owner}/${entry.Name}`)})`;
    }
  }
  return where;
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.kind === "schema" && issue.received === "undefined" && issue.expected?.startsWith('"')) {
    return `missing required field ${issue.expected}`;
  }
  return issue.message;
}

function findDuplicates(repos: readonly RepoRef[]): { label: string; indexes: number[] }[] {
  const seen = new Map<string, number[]>();
  repos.forEach((repo, index) => {
    const slug = repoSlug(repo);
    seen.set(slug, [...(seen.get(slug) ?? []), index]);
  });
  const out: { label: string; indexes: number[] }[] = [];
  for (const indexes of seen.values()) {
    const firstIndex = indexes[0];
    if (indexes.length > 1 && firstIndex !== undefined) {
      const repo = repos[firstIndex];
      if (repo) out.push({ label: repoLabel(repo), indexes });
    }
  }
  return out;
}

function jsonErrorPosition(text: string): string {
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return "(the parser rejected it without a position)";
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  const found = offset >= text.length ? "end of file" : JSON.stringify(text[offset]);
  return `at line ${line}, column ${column} (unexpected ${found})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
