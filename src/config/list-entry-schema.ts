import * as v from "valibot";
import type { RepositorySelection } from "../domain/selection.ts";
import type { OrgVisibility, SecretNames, SecretStore, Target } from "../domain/target.ts";
import { OWNER_PATTERN, OWNER_RULE } from "./github-login.ts";
import {
  ENVIRONMENT_RULE,
  environmentNameProblem,
  PROPERTY_NAME_PATTERN,
  PROPERTY_NAME_RULE,
  PROPERTY_VALUE_PATTERN,
  PROPERTY_VALUE_RULE,
  TOPIC_PATTERN,
  TOPIC_RULE,
} from "./github-names.ts";
import { type ListEntry, MAX_REPOS } from "./list-entry.ts";
import { jsonTypeOf, nameHint, quote } from "./message-text.ts";
import { sameSecretName, secretNameProblem } from "./secret-name.ts";

/**
 * One entry of repos.json as valibot schemas: a variant per `Type` ("repository", the default; "environment";
 * "organization"), each a strict object with its own fields, and the rules between fields (a repository is named,
 * or selected by topic or by custom property; "selected" visibility lists its repositories; ...). The same schemas
 * check Add-RepoConfig's and Delete-RepoConfig's parameters, with messages that name the runbook parameters.
 * The format is README's "repos.json"; GitHub's rules for each name are in github-names.ts, github-login.ts and
 * secret-name.ts.
 */

// Repository names: 1–100 of A–Z a–z 0–9 . _ -, and not "." or "..".
export const NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;

export const NAME_RULE =
  'a GitHub repository name: 1–100 of letters, digits, ".", "_" or "-" (not "." or "..")';

/** Every field an entry may have, in the order a rendered entry writes them. */
export const ENTRY_FIELDS = [
  "Type",
  "Name",
  "Owner",
  "Environment",
  "Topic",
  "Property",
  "Value",
  "Secrets",
  "Visibility",
  "Repositories",
  "SecretNameKeyId",
  "SecretNameSecretKey",
  "KeyIdAs",
  "Unmanaged",
] as const;
export type EntryField = (typeof ENTRY_FIELDS)[number];

/** The fields each Type allows (Type itself included; leaving it out means "repository"). */
const FIELDS_OF: Readonly<Record<EntryType, readonly EntryField[]>> = {
  repository: [
    "Type",
    "Name",
    "Owner",
    "Topic",
    "Property",
    "Value",
    "Secrets",
    "SecretNameKeyId",
    "SecretNameSecretKey",
    "KeyIdAs",
    "Unmanaged",
  ],
  environment: [
    "Type",
    "Name",
    "Owner",
    "Environment",
    "Secrets",
    "SecretNameKeyId",
    "SecretNameSecretKey",
    "KeyIdAs",
    "Unmanaged",
  ],
  organization: [
    "Type",
    "Owner",
    "Secrets",
    "Visibility",
    "Repositories",
    "SecretNameKeyId",
    "SecretNameSecretKey",
    "KeyIdAs",
  ],
};

type EntryType = "repository" | "environment" | "organization";

/**
 * How messages name the fields: repos.json's own names (`LIST_WORDS`), or the runbook parameters that carry them
 * (GITHUBOWNER, TargetType, ...), so that a message always names what the user typed.
 */
export interface EntryWords {
  /** The name of each field, as the user wrote it. */
  readonly names: Readonly<Record<EntryField, string>>;
  /** "field" (repos.json) or "parameter" (a runbook). */
  readonly noun: string;
  /** Whether names are quoted in running text (`"Name"` in a JSON file, `GITHUBREPO` as a parameter). */
  readonly quoted: boolean;
}

export const LIST_WORDS: EntryWords = {
  names: Object.fromEntries(ENTRY_FIELDS.map((field) => [field, field])) as Record<EntryField, string>,
  noun: "field",
  quoted: true,
};

/** A field's name in running text: `"Visibility"` in repos.json, `Visibility` as a runbook parameter. */
function ref(words: EntryWords, field: EntryField): string {
  return words.quoted ? `"${words.names[field]}"` : words.names[field];
}

/** A schema for a name-like string: `label must be RULE` with a hint about an invisible or look-alike character. */
function textSchema(label: string, pattern: RegExp, rule: string, source?: string) {
  return v.pipe(
    v.string((issue) => `${label} must be a string, not ${jsonTypeOf(issue.input)}`),
    v.regex(pattern, (issue) => `${label} must be ${rule}${nameHint(issue.input, source)}`),
  );
}

/** A GitHub name field; `label` is how messages call it (`Owner` in repos.json, `GITHUBOWNER` in a runbook). */
export function githubNameSchema(label: string, pattern: RegExp, rule: string) {
  return textSchema(label, pattern, rule);
}

function secretNameSchema(label: string) {
  return v.pipe(
    v.string((issue) => `${label} must be a string, not ${jsonTypeOf(issue.input)}`),
    v.check(
      (name) => secretNameProblem(name) === undefined,
      (issue) =>
        `${label} ${quote(String(issue.input))} ${secretNameProblem(String(issue.input))}: GitHub secret and variable names are letters, digits and "_", not starting with a digit or GITHUB_`,
    ),
  );
}

function environmentSchema(label: string) {
  return v.pipe(
    v.string((issue) => `${label} must be a string, not ${jsonTypeOf(issue.input)}`),
    v.check(
      (name) => environmentNameProblem(name) === undefined,
      (issue) =>
        `${label} ${quote(String(issue.input))} ${environmentNameProblem(String(issue.input))}; it must be ${ENVIRONMENT_RULE}`,
    ),
  );
}

function choice<const T extends readonly string[]>(label: string, options: T, why = "") {
  const listed = options.map((o) => `"${o}"`);
  const text = `${listed.slice(0, -1).join(", ")}${listed.length > 1 ? " or " : ""}${listed.at(-1)}`;
  return v.picklist(options, (issue) => `${label} must be ${text}${why}, not ${jsonTypeOf(issue.input)}`);
}

const STORES = ["actions", "dependabot", "codespaces"] as const;

/**
 * The message for a field a Type does not have: where it belongs instead, or which fields this Type has.
 * (valibot's own text would be "Expected never".)
 */
function unknownField(words: EntryWords, type: EntryType) {
  return (issue: v.BaseIssue<unknown>): string => {
    if (!(issue.kind === "schema" && issue.expected === "never")) return issue.message;
    const key = String(issue.input);
    const field = ENTRY_FIELDS.find((f) => words.names[f] === key);
    const owners = (Object.keys(FIELDS_OF) as EntryType[]).filter(
      (t) => field !== undefined && FIELDS_OF[t].includes(field),
    );
    const kind = `${words.names.Type} "${type}"`;
    if (field !== undefined && owners.length > 0) {
      return `${ref(words, field)} does not apply to ${kind} entries; it belongs to ${owners.map((t) => `${words.names.Type} "${t}"`).join(" and ")}`;
    }
    const allowed = FIELDS_OF[type].map((f) => ref(words, f)).join(", ");
    return `unknown ${words.noun} ${quote(key)}; the ${words.noun}s of ${kind} entries are ${allowed}`;
  };
}

/** A path item for an issue about `key` of the entry `input`. */
function at(input: Record<string, unknown>, key: string): v.IssuePathItem {
  return { type: "object", origin: "value", input, key, value: input[key] } as v.IssuePathItem;
}

type AddIssue = (info: { message: string; path: [v.IssuePathItem] }) => void;

/** The rules between fields every Type shares: the two names go together and differ; KeyIdAs "variable" is Actions'. */
function commonRules(
  words: EntryWords,
  entry: Record<string, unknown>,
  store: unknown,
  addIssue: AddIssue,
): void {
  const keyId = entry[words.names.SecretNameKeyId];
  const secretKey = entry[words.names.SecretNameSecretKey];
  if ((keyId === undefined) !== (secretKey === undefined)) {
    const given = keyId === undefined ? "SecretNameSecretKey" : "SecretNameKeyId";
    addIssue({
      message: `${ref(words, "SecretNameKeyId")} and ${ref(words, "SecretNameSecretKey")} go together: give both names, or neither for the stack's names (pGitHubSecretNameAwsKeyId, pGitHubSecretNameAwsKey)`,
      path: [at(entry, words.names[given])],
    });
  } else if (typeof keyId === "string" && typeof secretKey === "string" && sameSecretName(keyId, secretKey)) {
    addIssue({
      message: `${ref(words, "SecretNameKeyId")} and ${ref(words, "SecretNameSecretKey")} name the same secret (${quote(keyId)}, ${quote(secretKey)}): GitHub compares secret names case-insensitively; give two different names`,
      path: [at(entry, words.names.SecretNameSecretKey)],
    });
  }
  if (entry[words.names.KeyIdAs] === "variable" && store !== undefined && store !== "actions") {
    addIssue({
      message: `${words.names.KeyIdAs} "variable" needs ${words.names.Secrets} "actions": ${store === "dependabot" ? "Dependabot" : "Codespaces"} has no configuration variables`,
      path: [at(entry, words.names.KeyIdAs)],
    });
  }
}

/** Options of `listEntrySchema`. */
export interface EntrySchemaOptions {
  readonly words: EntryWords;
  /**
   * "entry": a complete entry (repos.json, Add-RepoConfig). "reference": only what names an entry (Delete-RepoConfig):
   * an organization needs no Visibility there.
   */
  readonly mode: "entry" | "reference";
}

/**
 * The schema of one entry, whose output is the `ListEntry` it describes. Every problem of the entry is reported at
 * once (run it with `abortEarly: false`), each at the field's path, with a message naming the field as `words` does.
 */
export function listEntrySchema({ words, mode }: EntrySchemaOptions) {
  const n = words.names;
  const Owner = textSchema(n.Owner, OWNER_PATTERN, OWNER_RULE);
  const Name = textSchema(n.Name, NAME_PATTERN, NAME_RULE);
  const names = {
    [n.SecretNameKeyId]: v.optional(secretNameSchema(n.SecretNameKeyId)),
    [n.SecretNameSecretKey]: v.optional(secretNameSchema(n.SecretNameSecretKey)),
    [n.KeyIdAs]: v.optional(
      choice(n.KeyIdAs, ["secret", "variable"], " (the key ID as an Actions secret, or as a variable)"),
    ),
  };
  const Unmanaged = v.optional(
    v.boolean((issue) => `${n.Unmanaged} must be true or false, not ${jsonTypeOf(issue.input)}`),
  );

  const repository = v.pipe(
    v.strictObject(
      {
        [n.Type]: v.optional(v.literal("repository")),
        [n.Owner]: Owner,
        [n.Name]: v.optional(Name),
        [n.Topic]: v.optional(
          textSchema(
            n.Topic,
            TOPIC_PATTERN,
            TOPIC_RULE,
            "the repository's page (GitHub shows topics in lowercase)",
          ),
        ),
        [n.Property]: v.optional(textSchema(n.Property, PROPERTY_NAME_PATTERN, PROPERTY_NAME_RULE)),
        [n.Value]: v.optional(textSchema(n.Value, PROPERTY_VALUE_PATTERN, PROPERTY_VALUE_RULE)),
        [n.Secrets]: v.optional(choice(n.Secrets, STORES)),
        ...names,
        [n.Unmanaged]: Unmanaged,
      },
      unknownField(words, "repository"),
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      const entry = dataset.value as Record<string, unknown>;
      const ways = (["Name", "Topic", "Property"] as const).filter((f) => entry[n[f]] !== undefined);
      if (ways.length === 0) {
        addIssue({
          message: `missing required ${words.noun} ${ref(words, "Name")} (the repository's name; or ${ref(words, "Topic")}, or ${ref(words, "Property")} with ${ref(words, "Value")}, to select an organization's repositories)`,
          path: [at(entry, n.Name)],
        });
      } else if (ways.length > 1) {
        addIssue({
          message: `give one of ${ways.map((f) => ref(words, f)).join(" and ")}: ${ref(words, "Name")} names one repository, ${ref(words, "Topic")} or ${ref(words, "Property")} select repositories`,
          path: [at(entry, n[ways[1] ?? "Name"])],
        });
      }
      if ((entry[n.Property] === undefined) !== (entry[n.Value] === undefined)) {
        addIssue({
          message: `${ref(words, "Property")} and ${ref(words, "Value")} go together: the repositories whose custom property has that value`,
          path: [at(entry, entry[n.Property] === undefined ? n.Value : n.Property)],
        });
      }
      if (entry[n.Unmanaged] === true && entry[n.Name] === undefined) {
        addIssue({
          message: `${ref(words, "Unmanaged")} marks one repository (or environment) whose copy of the names holds another key on purpose; a selection cannot be Unmanaged`,
          path: [at(entry, n.Unmanaged)],
        });
      }
      commonRules(words, entry, entry[n.Secrets] ?? "actions", addIssue);
    }),
  );

  const environment = v.pipe(
    v.strictObject(
      {
        [n.Type]: v.literal("environment"),
        [n.Owner]: Owner,
        [n.Name]: Name,
        [n.Environment]: environmentSchema(n.Environment),
        [n.Secrets]: v.optional(
          v.literal(
            "actions",
            (issue) =>
              `${n.Secrets} must be "actions" or left out, not ${jsonTypeOf(issue.input)}: environments hold Actions secrets only (a repository's Dependabot or Codespaces secrets are an entry of ${n.Type} "repository" with that ${n.Secrets})`,
          ),
        ),
        ...names,
        [n.Unmanaged]: Unmanaged,
      },
      unknownField(words, "environment"),
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      commonRules(words, dataset.value as Record<string, unknown>, "actions", addIssue);
    }),
  );

  const Visibility = choice(
    n.Visibility,
    ["all", "private", "selected"],
    " (which of the organization's repositories see the secret)",
  );
  const organization = v.pipe(
    v.strictObject(
      {
        [n.Type]: v.literal("organization"),
        [n.Owner]: Owner,
        [n.Secrets]: v.optional(choice(n.Secrets, STORES)),
        [n.Visibility]: mode === "reference" ? v.optional(Visibility) : Visibility,
        [n.Repositories]: v.optional(
          v.pipe(
            v.array(
              textSchema(`each of ${n.Repositories}`, NAME_PATTERN, NAME_RULE),
              (issue) =>
                `${n.Repositories} must be a list of repository names like ["app-one", "app-two"], not ${jsonTypeOf(issue.input)}`,
            ),
            v.minLength(1, `${n.Repositories} is empty: list the repositories that see the secret`),
            v.maxLength(
              MAX_REPOS,
              `${n.Repositories} lists more than ${MAX_REPOS.toLocaleString("en-US")} repositories`,
            ),
          ),
        ),
        ...names,
      },
      unknownField(words, "organization"),
    ),
    v.rawCheck(({ dataset, addIssue }) => {
      const entry = dataset.value as Record<string, unknown>;
      const visibility = entry[n.Visibility];
      const repositories = entry[n.Repositories];
      if (visibility === "selected" && repositories === undefined && mode === "entry") {
        addIssue({
          message: `missing required ${words.noun} ${ref(words, "Repositories")}: ${n.Visibility} "selected" shares the secret with the repositories it lists`,
          path: [at(entry, n.Repositories)],
        });
      } else if (visibility !== "selected" && repositories !== undefined && mode === "entry") {
        addIssue({
          message: `${ref(words, "Repositories")} goes only with ${n.Visibility} "selected" (the secret is visible to ${visibility === "all" ? "every repository" : visibility === "private" ? "every private and internal repository" : "the repositories the visibility says"})`,
          path: [at(entry, n.Repositories)],
        });
      }
      if (Array.isArray(repositories)) {
        const seen = new Set<string>();
        for (const name of repositories) {
          if (typeof name !== "string") continue;
          if (seen.has(name.toLowerCase())) {
            addIssue({
              message: `${ref(words, "Repositories")} lists ${quote(name)} more than once (names compare case-insensitively, as on GitHub)`,
              path: [at(entry, n.Repositories)],
            });
            break;
          }
          seen.add(name.toLowerCase());
        }
      }
      commonRules(words, entry, entry[n.Secrets] ?? "actions", addIssue);
    }),
  );

  return v.pipe(
    // valibot's variant would read a list as an object.
    v.custom<Record<string, unknown>>(
      (input) => typeof input === "object" && input !== null && !Array.isArray(input),
      (issue) =>
        `each entry of Repos must be an object like {"Owner": "my-org", "Name": "my-repo"}, not ${jsonTypeOf(issue.input)}`,
    ),
    v.variant(
      n.Type,
      [repository, environment, organization],
      (issue) =>
        `${n.Type} must be "repository" (the default), "environment" or "organization", not ${jsonTypeOf(issue.input)}`,
    ),
    v.transform((entry) => toListEntry(entry as Record<string, unknown>, words)),
  );
}

/** What a required field holds, said when it is missing. */
const REQUIRED_HINTS: Partial<Record<EntryField, string>> = {
  Owner: "the user or organization that owns the repository, or the organization itself",
  Name: "the repository's name",
  Environment: "the environment's name, as the workflow's `environment:` names it",
  Visibility: 'which of the organization\'s repositories see the secret: "all", "private" or "selected"',
};

/** The message of an issue of `listEntrySchema`, with a missing field named as `words` names it. */
export function entryIssueMessage(issue: v.BaseIssue<unknown>, words: EntryWords): string {
  if (issue.kind === "schema" && issue.received === "undefined" && issue.expected?.startsWith('"')) {
    const key = issue.expected.slice(1, -1);
    const field = ENTRY_FIELDS.find((f) => words.names[f] === key);
    if (field === undefined) return `missing required ${words.noun} ${issue.expected}`;
    const hint = REQUIRED_HINTS[field];
    return `missing required ${words.noun} ${ref(words, field)}${hint ? ` (${hint})` : ""}`;
  }
  return issue.message;
}

/** The entry a valid raw entry describes. */
function toListEntry(raw: Record<string, unknown>, words: EntryWords): ListEntry {
  const n = words.names;
  const text = (field: EntryField) => raw[n[field]] as string | undefined;
  const owner = text("Owner") as string;
  const store = (text("Secrets") ?? "actions") as SecretStore;
  const keyId = text("SecretNameKeyId");
  const secretKey = text("SecretNameSecretKey");
  const extra: { secretNames?: SecretNames; keyIdAs?: "variable" } = {};
  if (keyId !== undefined && secretKey !== undefined) extra.secretNames = { keyId, secretKey };
  if (text("KeyIdAs") === "variable") extra.keyIdAs = "variable";
  const unmanaged = raw[n.Unmanaged] === true;
  const type = text("Type") ?? "repository";
  if (type === "organization") {
    const target: Target = {
      kind: "organization",
      owner,
      store,
      // Delete-RepoConfig names an organization target without its visibility: the key does not include it.
      visibility: (text("Visibility") ?? "all") as OrgVisibility,
      selectedRepositories: (raw[n.Repositories] as string[] | undefined) ?? [],
      ...extra,
    };
    return { kind: "target", target, unmanaged: false };
  }
  if (type === "environment") {
    const target: Target = {
      kind: "environment",
      owner,
      name: text("Name") as string,
      environment: text("Environment") as string,
      ...extra,
    };
    return { kind: "target", target, unmanaged };
  }
  const name = text("Name");
  if (name !== undefined) {
    return { kind: "target", target: { kind: "repository", owner, name, store, ...extra }, unmanaged };
  }
  const topic = text("Topic");
  const selection: RepositorySelection = {
    owner,
    by:
      topic !== undefined
        ? { topic }
        : { property: text("Property") as string, value: text("Value") as string },
    store,
    ...extra,
  };
  return { kind: "selection", selection };
}

/**
 * How a message names an entry it cannot read fully, from whatever fields are readable: `"octo-org/app"`,
 * `"octo-org/app (environment prod)"`, `"organization octo-org"`, `"octo-org topic deploys-to-aws"`; or undefined.
 */
export function rawEntryLabel(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const entry = raw as Record<string, unknown>;
  const owner = typeof entry.Owner === "string" ? entry.Owner : undefined;
  if (owner === undefined) return undefined;
  const text = (key: string) => (typeof entry[key] === "string" ? (entry[key] as string) : undefined);
  if (entry.Type === "organization") return `organization ${owner}`;
  const name = text("Name");
  if (entry.Type === "environment" && name !== undefined) {
    const environment = text("Environment");
    return environment === undefined ? `${owner}/${name}` : `${owner}/${name} (environment ${environment})`;
  }
  if (name !== undefined) return `${owner}/${name}`;
  const topic = text("Topic");
  if (topic !== undefined) return `${owner} topic ${topic}`;
  const property = text("Property");
  if (property !== undefined) return `${owner} property ${property}`;
  return undefined;
}
