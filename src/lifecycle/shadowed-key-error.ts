import { AkmError } from "../errors.ts";
import { describeFinding, type ShadowFinding } from "./shadowing.ts";

/** Places named in full in the message; the rest are counted (every finding is in the outcome's notes). */
const MAX_PLACES = 10;

/**
 * The rotation will not go on while a copy of the key's names that it does not manage hides what it writes
 * (src/lifecycle/shadowing.ts): before a key is created (`stage: "rotate"`: nothing was changed), or before the
 * old key is deactivated (`stage: "retire"`: the jobs reading the copy still use the old key). Names every
 * repository and environment, and the three ways out.
 */
export class ShadowedKeyError extends AkmError {
  readonly findings: readonly ShadowFinding[];

  constructor(
    findings: readonly ShadowFinding[],
    stage: { readonly stage: "rotate" } | { readonly stage: "retire"; readonly oldAccessKeyId: string },
  ) {
    const places = placesOf(findings);
    const named = places.slice(0, MAX_PLACES).map((place) => `${place.where} (${place.names.join(", ")})`);
    const more = places.length - named.length;
    const list = `${named.join("; ")}${more > 0 ? `; and ${more.toLocaleString("en-US")} more` : ""}`;
    const copies = `${findings.length === 1 ? "a copy" : "copies"} of the key's secrets that this stack does not manage`;
    const message =
      stage.stage === "rotate"
        ? `Rotation refused: ${copies} would hide the new key from the jobs that read ${findings.length === 1 ? "it" : "them"}, which would keep using the old key and break when it is retired: ${list}. Nothing was changed.`
        : `Retire refused: the old key ${stage.oldAccessKeyId} stays active, because ${copies} hide the new key from the jobs that read ${findings.length === 1 ? "it" : "them"}: ${list}.`;
    super(message, {
      fix: `For each place: add it to the list so the rotation writes the new key there too (Add-RepoConfig, or in repos.json an entry such as ${exampleEntry(places[0])}); or, if the copy holds another key on purpose, add that entry with "Unmanaged": true; or delete the copy (repository Settings → Secrets and variables, or → Environments). Then run ${stage.stage === "rotate" ? "Rotate" : "Rotate (it retires the old key once no copy is left)"} again.`,
      fault: "user",
    });
    this.name = "ShadowedKeyError";
    this.findings = findings;
  }

  /** One line per finding (what hides what, from which jobs), for the outcome's notes. */
  details(): string[] {
    return this.findings.map(describeFinding);
  }
}

interface Place {
  readonly where: string;
  readonly repo: string;
  readonly environment: string | undefined;
  readonly store: ShadowFinding["store"];
  readonly names: string[];
}

/** Findings grouped by where the copy is: `org/app environment production`, `org/app (Dependabot)`. */
function placesOf(findings: readonly ShadowFinding[]): Place[] {
  const places = new Map<string, Place>();
  for (const finding of findings) {
    const store = { actions: "", dependabot: " (Dependabot)", codespaces: " (Codespaces)" }[finding.store];
    const where =
      finding.environment === undefined
        ? `${finding.repo}${store}`
        : `${finding.repo} environment ${finding.environment}`;
    const place = places.get(where) ?? {
      where,
      repo: finding.repo,
      environment: finding.environment,
      store: finding.store,
      names: [],
    };
    if (!place.names.includes(finding.name)) place.names.push(finding.name);
    places.set(where, place);
  }
  return [...places.values()];
}

/** The repos.json entry that lists the first place (README "The repository list"). */
function exampleEntry(place: Place | undefined): string {
  if (place === undefined) return "";
  const [owner, name] = place.repo.split("/") as [string, string];
  const entry: Record<string, string> = { Owner: owner, Name: name };
  if (place.environment !== undefined) {
    entry.Type = "environment";
    entry.Environment = place.environment;
  } else if (place.store !== "actions") {
    entry.Secrets = place.store;
  }
  return JSON.stringify(entry);
}
