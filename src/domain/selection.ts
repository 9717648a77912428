import type { SecretNames, SecretStore } from "./target.ts";

/**
 * A list entry that names repositories by what they are rather than by name: every repository of an
 * organization with a topic, or with a custom property value. Resolved at each run (still bound by the owner
 * allow list) into one `RepositoryTarget` per repository found, with this entry's store and names.
 * Topics: https://docs.github.com/en/rest/repos/repos#list-organization-repositories (each repository's `topics`)
 * Custom properties: https://docs.github.com/en/rest/orgs/custom-properties#list-custom-property-values-for-organization-repositories
 */
export interface RepositorySelection {
  /** The organization whose repositories are selected. */
  readonly owner: string;
  /** Exactly one of `topic` and `property`. */
  readonly by: { readonly topic: string } | { readonly property: string; readonly value: string };
  readonly store: SecretStore;
  readonly secretNames?: SecretNames;
  readonly keyIdAs?: "secret" | "variable";
}

/** How messages name a selection: `repositories of org with topic deploys-to-aws`. */
export function selectionLabel(selection: RepositorySelection): string {
  return "topic" in selection.by
    ? `repositories of ${selection.owner} with topic ${selection.by.topic}`
    : `repositories of ${selection.owner} whose property ${selection.by.property} is ${selection.by.value}`;
}
