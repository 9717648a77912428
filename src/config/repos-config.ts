import * as v from "valibot";
import type { RepoRef } from "../domain/repo.ts";
import { repoLabel, repoSlug } from "../domain/repo.ts";
import { ConfigError } from "../errors.ts";
import { type DuplicateJsonKey, jsonDuplicateKeys, jsonErrorOffset } from "./json-error-offset.ts";

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

/**
 * Largest accepted document: 10,000 entries with the longest names GitHub allows, as Add-RepoConfig writes them
 * (indented), take about 2.1 MB; small enough to parse inside one Lambda step.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Repositories one stack rotates (its progress object records each; see src/lifecycle/progress-document.ts). */
export const MAX_REPOS = 10_000;
/** Problems listed in one error; a file with thousands of bad entries gets the first ones and a count. */
export const MAX_LISTED_PROBLEMS = 20;
/** Longest excerpt of the user's text quoted in a message. */
const MAX_QUOTED_CHARS = 60;

/**
 * GitHub logins: 1–39 alphanumerics or single hyphens, not at either end. Enterprise Managed Users add an underscore
 * and their enterprise's short code (3–8 alphanumerics) to the normalized identity-provider name, e.g.
 * `mona-cat_octo`, and the setup user is `SHORTCODE_admin`; the whole login stays within 39 characters.
 * https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication
 * Organizations have no underscore; a managed user may own repositories, so an owner may have one.
 */
export const OWNER_PATTERN =
  /^(?=[A-Za-z0-9_-]{1,39}$)[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*(?:_[A-Za-z0-9]{3,8})?$/;
// Repository names: 1–100 of A–Z a–z 0–9 . _ -, and not "." or "..".
export const NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

/** What a valid owner is, for messages: "Owner must be " + OWNER_RULE. */
export const OWNER_RULE =
  "a GitHub user or organization name: 1–39 letters, digits or single hyphens, not starting or ending with a hyphen (an Enterprise Managed User's login ends with _ and the enterprise's short code, e.g. alice_acme)";
export const NAME_RULE =
  'a GitHub repository name: 1–100 of letters, digits, ".", "_" or "-" (not "." or "..")';

/** A GitHub name field; `label` is how messages call it (`Owner` in repos.json, `GITHUBOWNER` in a runbook). */
export function githubNameSchema(label: string, pattern: RegExp, rule: string) {
  return v.pipe(
    v.string((issue) => `${label} must be a string, not ${jsonTypeOf(issue.input)}`),
    v.regex(pattern, (issue) => `${label} must be ${rule}${nameHint(issue.input)}`),
  );
}

export const OwnerSchema = githubNameSchema("Owner", OWNER_PATTERN, OWNER_RULE);
export const NameSchema = githubNameSchema("Name", NAME_PATTERN, NAME_RULE);

/** Names the first field an object may not have (valibot's own text would be "Expected never"). */
const unknownField =
  (allowed: string) =>
  (issue: v.BaseIssue<unknown>): string =>
    issue.kind === "schema" && issue.expected === "never"
      ? `unknown field ${quote(String(issue.input))}; allowed fields are ${allowed}`
      : issue.message;

/** A JSON object (JSON.parse gives arrays `typeof "object"` too, and valibot would read one as an object). */
const JsonObject = (message: string) =>
  v.custom<Record<string, unknown>>(isRecord, (issue) => `${message}, not ${jsonTypeOf(issue.input)}`);

const RepoEntry = v.pipe(
  JsonObject('each entry of Repos must be an object like {"Owner": "my-org", "Name": "my-repo"}'),
  v.strictObject(
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
    unknownField('"Owner", "Name" and "Type"'),
  ),
);

const Document = v.pipe(
  JsonObject('the file must hold one object like {"Repos": [...]}'),
  v.strictObject(
    {
      Version: v.optional(v.literal(1, "Version must be 1 or left out")),
      Repos: v.pipe(
        v.array(RepoEntry, 'Repos must be a list of {"Owner": ..., "Name": ...} objects'),
        v.minLength(1, "Repos is empty: list at least one repository"),
        v.maxLength(MAX_REPOS, `Repos lists more than ${MAX_REPOS} repositories`),
      ),
    },
    unknownField('"Repos" and "Version"'),
  ),
);

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
  // JSON.parse keeps only the last of repeated fields: {"Repos":[a],"Repos":[b]} would silently lose [a].
  const repeated = jsonDuplicateKeys(body);
  if (repeated.length > 0) {
    throw new ConfigError(
      location,
      capped(repeated.map((duplicate) => describeDuplicate(body, duplicate))),
      "Keep each field once per object: merge the repeated lists or values into one (JSON readers silently keep only the last one).",
    );
  }
  const result = v.safeParse(Document, json, { abortEarly: false });
  if (!result.success) {
    const problems = result.issues.map((issue) => `${describePath(json, issue)}: ${issueMessage(issue)}`);
    throw new ConfigError(location, capped(problems), FORMAT_FIX);
  }
  const repos = result.output.Repos.map((entry) => ({ owner: entry.Owner, name: entry.Name }));
  const duplicates = findDuplicates(repos);
  if (duplicates.length > 0) {
    throw new ConfigError(
      location,
      capped(duplicates.map((d) => `${d.label} is listed more than once (entries ${d.indexes.join(", ")})`)),
      "Remove the repeated entries (owner and name are compared case-insensitively, as GitHub does).",
    );
  }
  return { repos };
}

/** The first problems and how many more there are, so one error stays readable in a runbook output. */
function capped(problems: readonly string[]): string[] {
  if (problems.length <= MAX_LISTED_PROBLEMS) return [...problems];
  const more = problems.length - MAX_LISTED_PROBLEMS;
  return [...problems.slice(0, MAX_LISTED_PROBLEMS), `... and ${more} more problem${more === 1 ? "" : "s"}`];
}

function describeDuplicate(text: string, duplicate: DuplicateJsonKey): string {
  const parts: string[] = [];
  for (const key of duplicate.path) {
    parts.push(
      typeof key === "number" ? `[${key}]` : parts.length === 0 ? quoteKey(key) : `.${quoteKey(key)}`,
    );
  }
  const where = parts.join("") || "(top level)";
  return `${where}: the field ${quote(duplicate.key)} appears more than once (again at ${lineColumn(text, duplicate.offset)})`;
}

/** A field name as written in a path: plain when it is a simple name, quoted otherwise. */
function quoteKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,59}$/.test(key) ? key : quote(key);
}

/**
 * Quotes text from the file for a message: every character outside printable ASCII is escaped (\u0430),
 * so a look-alike letter, an invisible or a right-to-left control character is visible in the message
 * instead of disguising it, and long values are cut short.
 */
export function quote(text: string): string {
  const short = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Says which character of a rejected name is not visible ASCII (a Cyrillic "а" looks exactly like "a"),
 * as " (character 1 is ...)", or "" when every character is plain ASCII.
 */
export function nameHint(value: unknown): string {
  if (typeof value !== "string") return "";
  const odd = /[^\x21-\x7e]/.exec(value);
  if (odd === null) return "";
  const code = odd[0].charCodeAt(0);
  const what =
    code === 0x20
      ? "a space"
      : code > 0x7e
        ? `the non-ASCII character ${quote(odd[0])} (U+${code.toString(16).toUpperCase().padStart(4, "0")}; a look-alike or invisible character?)`
        : `the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return ` (character ${odd.index + 1} is ${what}; copy the name from the repository's URL)`;
}

/** How messages name a JSON value of the wrong type: `a list`, `null`, `a number (5)`, `the text "x"`. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the text ${quote(value)}`;
  if (typeof value === "number") return `a number (${String(value)})`;
  if (typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : typeof value;
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
    parts.push(
      typeof key === "number"
        ? `[${key}]`
        : parts.length === 0
          ? quoteKey(String(key))
          : `.${quoteKey(String(key))}`,
    );
  }
  let where = parts.join("") || "(top level)";
  // Name the repository an entry is about, when the entry has readable Owner/Name fields.
  const first = path[0];
  const second = path[1];
  if (first?.key === "Repos" && second && typeof second.key === "number" && isRecord(json)) {
    const entry = (json.Repos as unknown[] | undefined)?.[second.key];
    if (isRecord(entry) && typeof entry.Owner === "string" && typeof entry.Name === "string") {
      where += ` (${quote(`${entry.Owner}/${entry.Name}`)})`;
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
  const found =
    offset >= text.length ? "end of file" : quote(String.fromCodePoint(text.codePointAt(offset) ?? 0));
  const encoding = text.includes("\uFFFD") || text.includes("\u0000") ? "; save the file as UTF-8" : "";
  return `at ${lineColumn(text, offset)} (unexpected ${found}${encoding})`;
}

function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf("\n"); at !== -1 && at < offset; at = text.indexOf("\n", at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
