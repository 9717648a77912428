import * as v from "valibot";
import { ConfigError } from "../errors.ts";
import { OWNER_PATTERN, OWNER_RULE } from "./github-login.ts";
import { type DuplicateJsonKey, jsonDuplicateKeys, jsonErrorOffset } from "./json-error-offset.ts";
import {
  entriesOf,
  entryKey,
  entryLabel,
  entryOwner,
  groupEntries,
  isPlainEntry,
  type ListEntry,
  MAX_REPOS,
  type ReposConfig,
} from "./list-entry.ts";
import {
  ENTRY_FIELDS,
  type EntryField,
  entryIssueMessage,
  githubNameSchema,
  LIST_WORDS,
  listEntrySchema,
  NAME_PATTERN,
  NAME_RULE,
  rawEntryLabel,
} from "./list-entry-schema.ts";
import { jsonTypeOf, nameHint, quote } from "./message-text.ts";
import { foreignOwnersError, type OwnerAllowList } from "./owner-allow-list.ts";

/**
 * repos.json, the list of places the key is written to: README's "repos.json" is its manual.
 *
 * The original stack's format keeps working: `{"Repos":[{"Name":"app","Owner":"org"}]}` (version 1). Version 2
 * adds, per entry, `"Type"` ("repository", the default; "environment"; "organization"), the store (`"Secrets"`:
 * Actions, Dependabot or Codespaces), per-entry secret names, the key ID as an Actions variable, selections by topic
 * or custom property, and `"Unmanaged"` places (list-entry-schema.ts). `"Version"` (1 or 2) is optional.
 */
export type { ListEntry, ReposConfig };
export {
  githubNameSchema,
  jsonTypeOf,
  MAX_REPOS,
  NAME_PATTERN,
  NAME_RULE,
  nameHint,
  OWNER_PATTERN,
  OWNER_RULE,
  quote,
};

/**
 * Largest accepted document: 10,000 entries with the longest names GitHub allows, as Add-RepoConfig writes them
 * (indented), take about 2.1 MB; small enough to parse inside one Lambda step.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Entries one list may hold: the places written (MAX_REPOS) plus as many Unmanaged places. */
export const MAX_ENTRIES = 2 * MAX_REPOS;
/** Problems listed in one error; a file with thousands of bad entries gets the first ones and a count. */
export const MAX_LISTED_PROBLEMS = 20;

export const OwnerSchema = githubNameSchema("Owner", OWNER_PATTERN, OWNER_RULE);
export const NameSchema = githubNameSchema("Name", NAME_PATTERN, NAME_RULE);

/** A JSON object (JSON.parse gives arrays `typeof "object"` too, and valibot would read one as an object). */
const JsonObject = (message: string) =>
  v.custom<Record<string, unknown>>(isRecord, (issue) => `${message}, not ${jsonTypeOf(issue.input)}`);

const Document = v.pipe(
  JsonObject('the file must hold one object like {"Repos": [...]}'),
  v.strictObject(
    {
      Version: v.optional(
        v.picklist([1, 2], (issue) => `Version must be 1 or 2 or left out, not ${jsonTypeOf(issue.input)}`),
      ),
      Repos: v.pipe(
        v.array(
          listEntrySchema({ words: LIST_WORDS, mode: "entry" }),
          'Repos must be a list of {"Owner": ..., "Name": ...} objects',
        ),
        v.minLength(1, "Repos is empty: list at least one repository"),
        v.maxLength(MAX_ENTRIES, `Repos lists more than ${MAX_ENTRIES} entries`),
      ),
    },
    (issue) =>
      issue.kind === "schema" && issue.expected === "never"
        ? `unknown field ${quote(String(issue.input))}; allowed fields are "Repos" and "Version"`
        : issue.message,
  ),
);

const FORMAT_FIX =
  'Edit repos.json so it reads like {"Repos":[{"Owner":"my-org","Name":"my-repo"}]} (README, "repos.json", shows every kind of entry), or use the Add-RepoConfig runbook.';

/**
 * Parses and validates repos.json text; every problem is reported at once, each with its JSON path and the entry it
 * is about (ConfigError). Entries that name the same place (or the same selection) are refused, compared ignoring
 * letter case as GitHub does. With `allowedOwners` (pAllowedGitHubOwners), a well-formed list with an entry of
 * another owner — a repository, an environment, an organization or a selection — is refused too
 * (KeyDestinationRefusedError, naming each entry): wherever the key could be written from the list. Without it the
 * list is only read (Delete-RepoConfig must be able to remove such an entry).
 */
export function parseReposConfig(
  text: string,
  location: string,
  allowedOwners?: OwnerAllowList,
): ReposConfig {
  return groupEntries(parseReposEntries(text, location, allowedOwners));
}

/** Like `parseReposConfig`, but the entries one by one in the file's order (what the list runbooks edit). */
export function parseReposEntries(
  text: string,
  location: string,
  allowedOwners?: OwnerAllowList,
): ListEntry[] {
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
    const problems = result.issues.map(
      (issue) => `${describePath(json, issue)}: ${entryIssueMessage(issue, LIST_WORDS)}`,
    );
    throw new ConfigError(location, capped(problems), FORMAT_FIX);
  }
  const entries = result.output.Repos;
  const duplicates = findDuplicates(entries);
  if (duplicates.length > 0) {
    // Positions as every other message of the list gives them (Repos[2]), counted from 0 as JSON paths are.
    const organizationHint = duplicates.some((d) => d.organization)
      ? ' An organization has one secret of these names per product (Actions, Dependabot, Codespaces): keep one organization entry per "Secrets", with the Visibility that reaches every repository that needs it ("selected" with all of them in Repositories).'
      : "";
    throw new ConfigError(
      location,
      capped(
        duplicates.map(
          (d) =>
            `${/^[A-Za-z0-9_-]+\/[A-Za-z0-9._-]+$/.test(d.label) ? d.label : quote(d.label)} is listed more than once (Repos[${d.indexes.join("], Repos[")}])`,
        ),
      ),
      `Remove the repeated entries: each place (and each selection) is listed once, managed or Unmanaged; owner, repository and environment names are compared case-insensitively, as GitHub does.${organizationHint}`,
    );
  }
  const written = entries.filter((entry) => entry.kind === "selection" || !entry.unmanaged).length;
  if (written === 0) {
    throw new ConfigError(
      location,
      ["Repos: every entry is Unmanaged, so the list names no place to write the key to"],
      'List at least one repository, environment, organization or selection without "Unmanaged": true.',
    );
  }
  if (written > MAX_REPOS) {
    throw new ConfigError(
      location,
      [
        entries.every(isPlainEntry)
          ? `Repos: Repos lists ${written} repositories, more than the ${MAX_REPOS} one stack rotates`
          : `Repos: Repos names ${written} places and selections to write the key to, more than the ${MAX_REPOS} one stack rotates`,
      ],
      "Split the list over several stacks, each with its own IAM user.",
    );
  }
  if (allowedOwners !== undefined) {
    const foreign = entries.flatMap((entry, index) =>
      allowedOwners.allows(entryOwner(entry))
        ? []
        : [
            {
              label: entryLabel(entry),
              owner: entryOwner(entry),
              where: `Repos[${index}]`,
              repository: isRepositoryLike(entry),
            },
          ],
    );
    if (foreign.length > 0) {
      throw foreignOwnersError(`The repository list ${location}`, foreign, allowedOwners);
    }
  }
  return entries;
}

/** Whether an entry is one repository's (its secrets or an environment's): messages call those repositories. */
export function isRepositoryLike(entry: ListEntry): boolean {
  return entry.kind === "target" && entry.target.kind !== "organization";
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
 * Renders a list: in the original (v1) format `{"Repos":[{"Name","Owner"}]}` when every entry is a repository's
 * Actions secrets under the stack's names, so the original tool could still read it; otherwise as version 2,
 * `{"Version": 2, "Repos": [...]}`, each entry's fields in one order (ENTRY_FIELDS) and defaults left out.
 */
export function renderReposList(entries: readonly ListEntry[]): string {
  const document = entries.every(isPlainEntry)
    ? { Repos: entries.map(renderEntry) }
    : { Version: 2, Repos: entries.map(renderEntry) };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Renders a config (targets, Unmanaged places, then selections) as `renderReposList` does. */
export function renderReposConfig(config: ReposConfig): string {
  return renderReposList(entriesOf(config));
}

/** One entry as repos.json writes it; parsing it gives the same entry back. */
function renderEntry(entry: ListEntry): Record<string, unknown> {
  const fields: Partial<Record<EntryField, unknown>> = {};
  const common = entry.kind === "target" ? entry.target : entry.selection;
  fields.Owner = common.owner;
  if (entry.kind === "selection") {
    const { by, store } = entry.selection;
    if ("topic" in by) fields.Topic = by.topic;
    else {
      fields.Property = by.property;
      fields.Value = by.value;
    }
    if (store !== "actions") fields.Secrets = store;
  } else {
    const target = entry.target;
    switch (target.kind) {
      case "repository":
        fields.Name = target.name;
        if (target.store !== "actions") fields.Secrets = target.store;
        break;
      case "environment":
        fields.Type = "environment";
        fields.Name = target.name;
        fields.Environment = target.environment;
        break;
      case "organization":
        fields.Type = "organization";
        if (target.store !== "actions") fields.Secrets = target.store;
        fields.Visibility = target.visibility;
        if (target.visibility === "selected") fields.Repositories = [...target.selectedRepositories];
        break;
    }
    if (entry.unmanaged) fields.Unmanaged = true;
  }
  if (common.secretNames !== undefined) {
    fields.SecretNameKeyId = common.secretNames.keyId;
    fields.SecretNameSecretKey = common.secretNames.secretKey;
  }
  if (common.keyIdAs === "variable") fields.KeyIdAs = "variable";
  return Object.fromEntries(ENTRY_FIELDS.filter((f) => f in fields).map((f) => [f, fields[f]]));
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
  // Name what an entry is about, when its fields say it ("octo-org/app", "organization octo-org", ...).
  const first = path[0];
  const second = path[1];
  if (first?.key === "Repos" && second && typeof second.key === "number" && isRecord(json)) {
    const label = rawEntryLabel((json.Repos as unknown[] | undefined)?.[second.key]);
    if (label !== undefined) where += ` (${quote(label)})`;
  }
  return where;
}

/** Entries that name the same place or selection: the first one's label, every index, and whether it is an organization. */
function findDuplicates(
  entries: readonly ListEntry[],
): { label: string; indexes: number[]; organization: boolean }[] {
  const seen = new Map<string, number[]>();
  entries.forEach((entry, index) => {
    const key = entryKey(entry);
    seen.set(key, [...(seen.get(key) ?? []), index]);
  });
  const out: { label: string; indexes: number[]; organization: boolean }[] = [];
  for (const indexes of seen.values()) {
    const first = entries[indexes[0] ?? -1];
    if (indexes.length > 1 && first !== undefined) {
      const organization = first.kind === "target" && first.target.kind === "organization";
      out.push({ label: entryLabel(first), indexes, organization });
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
