import * as v from "valibot";
import { clipText } from "../domain/workflow.ts";
import type { ShadowCheckProgress, ShadowFinding } from "./shadowing.ts";

/**
 * A shadowing check spread over several invocations, as the rotation remembers it: the progress of
 * `checkShadowing` plus what the round is for. `rotate`: the check before a key is created (cleared when it is);
 * `retire <key ID>`: the re-check before that key is deactivated.
 */
export interface ShadowCheckRound extends ShadowCheckProgress {
  readonly purpose: string;
}

/** The round's findings kept in the progress object at most; a round with more refuses either way. */
export const MAX_STORED_FINDINGS = 500;

const IsoDate = v.pipe(v.string(), v.isoTimestamp());
/** The longest text a stored finding keeps (a job's label, a reason): `encodeShadowCheck` cuts longer ones. */
const MAX_TEXT = 1_000;
const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_TEXT));
/** An owner or a repository name. */
const Segment = v.pipe(v.string(), v.minLength(1), v.regex(/^[^/]+$/));

const StoredFinding = v.strictObject({
  repo: Text,
  environment: v.optional(Text),
  store: v.picklist(["actions", "dependabot", "codespaces"]),
  kind: v.picklist(["secret", "variable"]),
  name: Text,
  hides: Text,
  readers: v.variant("kind", [
    v.strictObject({
      kind: v.literal("jobs"),
      jobs: v.array(v.strictObject({ label: Text, certain: v.boolean(), reason: v.optional(Text) })),
      more: v.pipe(v.number(), v.integer(), v.minValue(0)),
    }),
    v.strictObject({ kind: v.literal("dependabot") }),
    v.strictObject({ kind: v.literal("codespaces") }),
  ]),
});

const Digest = v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/));

/**
 * The round in the progress object (field `shadowCheck`). The repositories checked are grouped by owner like the
 * holdings (`{"octo":["app","api"]}`), so 10,000 repositories with 20-character names take about 230 KB.
 * `partial` (optional: rounds stored before it existed read as before) is the one repository a call stopped in
 * the middle of, as EnvironmentCursor (src/lifecycle/shadowing.ts): `{"repo":"octo/big","environments":1200,
 * "digest":"…"}`, some 80 bytes whatever its number of environments.
 */
export const StoredShadowCheck = v.strictObject({
  purpose: Text,
  since: IsoDate,
  list: Digest,
  checked: v.record(Segment, v.array(Segment)),
  findings: v.pipe(v.array(StoredFinding), v.maxLength(MAX_STORED_FINDINGS)),
  partial: v.optional(
    v.strictObject({
      repo: v.pipe(v.string(), v.maxLength(MAX_TEXT), v.regex(/^[^/]+\/[^/]+$/)),
      environments: v.pipe(v.number(), v.integer(), v.minValue(0)),
      digest: Digest,
    }),
  ),
});

export type StoredShadowCheck = v.InferOutput<typeof StoredShadowCheck>;

/**
 * The stored form of a round (findings beyond MAX_STORED_FINDINGS are dropped; the next call finds them again). Every
 * text is cut to what `StoredShadowCheck` reads back: job labels and reasons come from workflow files anyone who
 * can push to a repository writes, and a progress object the next invocation cannot read would stop every rotation.
 */
export function encodeShadowCheck(round: ShadowCheckRound): StoredShadowCheck {
  const checked: Record<string, string[]> = {};
  for (const slug of round.checked) {
    const cut = slug.indexOf("/");
    const owner = slug.slice(0, cut);
    const names = checked[owner] ?? [];
    names.push(slug.slice(cut + 1));
    checked[owner] = names;
  }
  return {
    purpose: round.purpose,
    since: round.since,
    list: round.list,
    checked,
    ...(round.partial === undefined ? {} : { partial: { ...round.partial } }),
    findings: round.findings.slice(0, MAX_STORED_FINDINGS).map((finding) => ({
      ...finding,
      repo: storable(finding.repo),
      ...(finding.environment === undefined ? {} : { environment: storable(finding.environment) }),
      name: storable(finding.name),
      hides: storable(finding.hides),
      readers:
        finding.readers.kind === "jobs"
          ? {
              ...finding.readers,
              jobs: finding.readers.jobs.map((job) => ({
                ...job,
                label: storable(job.label),
                ...(job.reason === undefined ? {} : { reason: storable(job.reason) }),
              })),
            }
          : { ...finding.readers },
    })),
  };
}

/** A text as a stored finding keeps it: at most MAX_TEXT characters. */
function storable(text: string): string {
  return clipText(text, MAX_TEXT);
}

/** A round back from its stored form (already validated by `StoredShadowCheck`). */
export function decodeShadowCheck(stored: StoredShadowCheck): ShadowCheckRound {
  return {
    purpose: stored.purpose,
    since: stored.since,
    list: stored.list,
    checked: Object.entries(stored.checked).flatMap(([owner, names]) =>
      names.map((name) => `${owner}/${name}`),
    ),
    findings: stored.findings as ShadowFinding[],
    ...(stored.partial === undefined ? {} : { partial: stored.partial }),
  };
}
