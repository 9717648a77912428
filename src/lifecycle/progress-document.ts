import * as v from "valibot";
import { StateStoreError } from "../errors.ts";
import { decodeShadowCheck, encodeShadowCheck, StoredShadowCheck } from "./shadow-check-document.ts";
import type { Holding, RepoSeen, SelectedSet } from "./state.ts";
import type { ProgressPart } from "./state-parts.ts";

/**
 * The progress object's content: `ProgressPart` as compact JSON, bound to the secret that holds its keys.
 * Holdings are grouped by key ID and owner, each repository mapped to the epoch second it was verified
 * (`{"AKIA…":{"octo":{"app":1767225600}}}`): a repository costs its name and about 15 bytes, so 10,000
 * repositories with 20-character names make some 350 KB.
 * The write log is its first time followed by the gaps between writes. Repository IDs are grouped by owner too,
 * each repository mapped to its ID and the epoch second it was first seen (`{"octo":{"app":[123456,1767225600]}}`).
 *
 * Holdings and IDs are kept by targetKey (src/domain/target.ts). A repository's Actions secrets keep v1's
 * `owner/name`, so every progress object written before other targets existed reads the same; the other kinds
 * nest the same way at their first `/` (`{"octo":{"app@environment:prod":…}}`), and an organization's key, which
 * has no `/`, at its `@` (`org:octo@actions` → `{"org:octo":{"@actions":…}}`; no repository name starts with `@`);
 * the ID pinned to an organization secret's selected repository (`org:octo@actions#web`, repo-identity.ts) likewise
 * (`{"org:octo":{"@actions#web":[123456,1767225600]}}`: some 35 bytes and the name, kept while it is selected).
 * A shadowing check spread over invocations keeps its round in `shadowCheck` (src/lifecycle/shadow-check-document.ts).
 * `selected` keeps what the list's selections found when the rotation began: per selection its organization,
 * topic or property and value, store, and the names found (`StoredSelectedSet`). `selectedIds` keeps, per
 * organization target with visibility `selected` (by targetKey), the repository IDs the rotation resolved, by the
 * name in lower case, and the listing's next page while it is unfinished (`{"org:octo@actions":{"at":…,
 * "found":{"api":123},"nextPage":4}}`; some 20 bytes a repository). A document without it (written before) loads.
 */
const IsoDate = v.pipe(v.string(), v.isoTimestamp());
const KeyId = v.pipe(v.string(), v.regex(/^[A-Z0-9]{16,128}$/));
const Seconds = v.pipe(v.number(), v.integer(), v.minValue(0));
/** The part of a targetKey before its first `/` (an owner), or an organization key's part before its `@`. */
const Segment = v.pipe(v.string(), v.minLength(1), v.regex(/^[^/]+$/));
/** The rest of a targetKey: a repository's name, possibly with its store or environment (which may hold `/`). */
const Rest = v.pipe(v.string(), v.minLength(1));

/**
 * One selection's repositories (RotationState.selected): its organization, its topic or its property and value, its
 * store, and the names it found (`{"owner":"octo","topic":"aws","store":"actions","repos":["api","web"]}`).
 */
const SelectedCommon = {
  owner: v.pipe(v.string(), v.minLength(1)),
  store: v.picklist(["actions", "dependabot", "codespaces"]),
  repos: v.array(v.pipe(v.string(), v.minLength(1))),
};
const StoredSelectedSet = v.union([
  v.strictObject({ ...SelectedCommon, topic: v.pipe(v.string(), v.minLength(1)) }),
  v.strictObject({
    ...SelectedCommon,
    property: v.pipe(v.string(), v.minLength(1)),
    value: v.pipe(v.string(), v.minLength(1)),
  }),
]);

const StoredProgress = v.strictObject({
  schemaVersion: v.literal(2),
  /** The secret holding the keys this progress belongs to (its ARN). */
  secret: v.pipe(v.string(), v.minLength(1)),
  updatedAt: IsoDate,
  creating: v.optional(v.strictObject({ startedAt: IsoDate })),
  verified: v.optional(v.strictObject({ accessKeyId: KeyId, at: IsoDate })),
  holdings: v.record(KeyId, v.record(Segment, v.record(Rest, Seconds))),
  githubWrites: v.optional(v.array(Seconds)),
  writing: v.optional(
    v.strictObject({
      accessKeyId: KeyId,
      since: IsoDate,
      repos: v.array(v.pipe(v.string(), v.minLength(1))),
    }),
  ),
  repoIds: v.optional(
    v.record(Segment, v.record(Rest, v.tuple([v.pipe(v.number(), v.integer(), v.minValue(1)), Seconds]))),
  ),
  promotedAt: v.optional(IsoDate),
  tokenExpiryAlertedAt: v.optional(IsoDate),
  checked: v.optional(v.strictObject({ since: IsoDate, repos: v.array(v.pipe(v.string(), v.minLength(1))) })),
  shadowCheck: v.optional(StoredShadowCheck),
  selected: v.optional(v.strictObject({ at: IsoDate, sets: v.array(StoredSelectedSet) })),
  selectedIds: v.optional(
    v.record(
      v.pipe(v.string(), v.minLength(1)),
      v.strictObject({
        at: IsoDate,
        found: v.record(v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.integer(), v.minValue(1))),
        nextPage: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      }),
    ),
  ),
});

export interface ProgressDocument {
  /** The secret the progress was written with. */
  readonly secret: string;
  readonly progress: ProgressPart;
}

/** Reads the progress object's text (`location` names it in messages); throws StateStoreError if it is not one. */
export function parseProgressDocument(text: string, location: string): ProgressDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateStoreError(
      `The rotation progress in ${location} is not valid JSON.`,
      restoreProgress(location),
    );
  }
  const result = v.safeParse(StoredProgress, json);
  if (!result.success) {
    const where = result.issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
    throw new StateStoreError(
      `The rotation progress in ${location} does not match the expected format (${where.slice(0, 5).join("; ")}${where.length > 5 ? `; and ${where.length - 5} more` : ""}).`,
      restoreProgress(location),
    );
  }
  const stored = result.output;
  const holdings: Record<string, Holding> = {};
  for (const [accessKeyId, owners] of Object.entries(stored.holdings)) {
    for (const [owner, repos] of Object.entries(owners)) {
      for (const [name, seconds] of Object.entries(repos)) {
        holdings[joinKey(owner, name)] = { accessKeyId, writtenAt: new Date(seconds * 1000).toISOString() };
      }
    }
  }
  let repoIds: Record<string, RepoSeen> | undefined;
  if (stored.repoIds !== undefined) {
    repoIds = {};
    for (const [owner, repos] of Object.entries(stored.repoIds)) {
      for (const [name, [id, seconds]] of Object.entries(repos)) {
        repoIds[joinKey(owner, name)] = { id, seenAt: new Date(seconds * 1000).toISOString() };
      }
    }
  }
  return {
    secret: stored.secret,
    progress: {
      creating: stored.creating,
      verified: stored.verified,
      holdings,
      githubWrites: decodeWriteTimes(stored.githubWrites ?? []),
      writing: stored.writing,
      repoIds,
      promotedAt: stored.promotedAt,
      tokenExpiryAlertedAt: stored.tokenExpiryAlertedAt,
      ...(stored.checked ? { checked: stored.checked } : {}),
      ...(stored.shadowCheck ? { shadowCheck: decodeShadowCheck(stored.shadowCheck) } : {}),
      ...(stored.selected
        ? { selected: { at: stored.selected.at, sets: stored.selected.sets.map(selectedSet) } }
        : {}),
      ...(stored.selectedIds ? { selectedIds: stored.selectedIds } : {}),
      updatedAt: stored.updatedAt,
    },
  };
}

/** What a user can do about a progress object that cannot be read; the tool itself never deletes it. */
export function restoreProgress(location: string): string {
  return `Nothing was changed. Restore the object's previous version (S3 console → ${location} → Versions: download the last good version and upload it again), or delete the object to start over: the keys are kept in the state secret, and the next rotation writes the key to every listed repository again.`;
}

/** The progress object's text; `secret` binds it to the secret holding the keys. */
export function serializeProgressDocument(progress: ProgressPart, secret: string): string {
  const holdings: Record<string, Record<string, Record<string, number>>> = {};
  for (const key of Object.keys(progress.holdings).sort()) {
    const holding = progress.holdings[key] as Holding;
    const [owner, name] = splitKey(key);
    const byKey = holdings[holding.accessKeyId] ?? {};
    const byOwner = byKey[owner] ?? {};
    byOwner[name] = Math.floor(Date.parse(holding.writtenAt) / 1000);
    byKey[owner] = byOwner;
    holdings[holding.accessKeyId] = byKey;
  }
  const stored: v.InferInput<typeof StoredProgress> = {
    schemaVersion: 2,
    secret,
    updatedAt: progress.updatedAt,
    holdings,
  };
  if (progress.creating) stored.creating = progress.creating;
  if (progress.verified) stored.verified = progress.verified;
  if (progress.githubWrites.length > 0) stored.githubWrites = encodeWriteTimes(progress.githubWrites);
  if (progress.writing) stored.writing = { ...progress.writing, repos: [...progress.writing.repos] };
  if (progress.repoIds) {
    const repoIds: Record<string, Record<string, [number, number]>> = {};
    for (const key of Object.keys(progress.repoIds).sort()) {
      const seen = progress.repoIds[key] as RepoSeen;
      const [owner, name] = splitKey(key);
      const byOwner = repoIds[owner] ?? {};
      byOwner[name] = [seen.id, Math.floor(Date.parse(seen.seenAt) / 1000)];
      repoIds[owner] = byOwner;
    }
    stored.repoIds = repoIds;
  }
  if (progress.promotedAt) stored.promotedAt = progress.promotedAt;
  if (progress.tokenExpiryAlertedAt) stored.tokenExpiryAlertedAt = progress.tokenExpiryAlertedAt;
  if (progress.checked) stored.checked = { ...progress.checked, repos: [...progress.checked.repos] };
  if (progress.shadowCheck) stored.shadowCheck = encodeShadowCheck(progress.shadowCheck);
  if (progress.selected) {
    stored.selected = {
      at: progress.selected.at,
      sets: progress.selected.sets.map(({ owner, by, store, repos }) => ({
        owner,
        ...by,
        store,
        repos: [...repos],
      })),
    };
  }
  if (progress.selectedIds && Object.keys(progress.selectedIds).length > 0) {
    stored.selectedIds = Object.fromEntries(
      Object.entries(progress.selectedIds).map(([key, ids]) => [key, { ...ids, found: { ...ids.found } }]),
    );
  }
  return JSON.stringify(stored);
}

/**
 * A targetKey as the document nests it: at its first `/` (`octo/app@dependabot` → `octo`, `app@dependabot`), or,
 * for an organization's key, which has none, at its first `@` (`org:octo@actions` → `org:octo`, `@actions`).
 */
function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  const cut = slash === -1 ? key.indexOf("@") : slash;
  return slash === -1 ? [key.slice(0, cut), key.slice(cut)] : [key.slice(0, cut), key.slice(cut + 1)];
}

/** The targetKey `splitKey` nested as `owner` and `rest`. */
function joinKey(owner: string, rest: string): string {
  return rest.startsWith("@") ? `${owner}${rest}` : `${owner}/${rest}`;
}

/** A stored selection's set as RotationState keeps it. */
function selectedSet(stored: v.InferOutput<typeof StoredSelectedSet>): SelectedSet {
  const { owner, store, repos } = stored;
  return {
    owner,
    by: "topic" in stored ? { topic: stored.topic } : { property: stored.property, value: stored.value },
    store,
    repos,
  };
}

/** Ascending epoch seconds → [first, gap, gap, ...]. */
export function encodeWriteTimes(times: readonly number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.map((at, i) => (i === 0 ? at : at - (sorted[i - 1] as number)));
}

/** [first, gap, gap, ...] → ascending epoch seconds. */
export function decodeWriteTimes(stored: readonly number[]): number[] {
  const times: number[] = [];
  for (const value of stored) times.push(times.length === 0 ? value : (times.at(-1) as number) + value);
  return times;
}
