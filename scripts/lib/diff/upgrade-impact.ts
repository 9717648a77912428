import {
  deepEqual,
  type ResourceDifference,
  ResourceImpact,
  type TemplateDiff,
} from "@aws-cdk/cloudformation-diff";

/** One resource an in-place upgrade touches. */
export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  /** Properties whose change requires (or may require) a replacement; empty otherwise. */
  readonly causes: readonly string[];
  /** Why this change needs attention beyond its category, e.g. a fixed name that blocks replacement. */
  readonly notes: readonly string[];
}

/** A parameter the new template declares and the old one did not. */
export interface AddedParameter {
  readonly name: string;
  /** No Default: the update cannot proceed until a value is given. */
  readonly needsValue: boolean;
}

/** A parameter declared in both templates whose type, default or constraints differ. */
export interface ChangedParameter {
  readonly name: string;
  /** The fields that differ, e.g. ["AllowedPattern", "Default"]. */
  readonly fields: readonly string[];
}

/** What updating a stack from the old template to the new one would do, grouped by what users must watch. */
export interface UpgradeImpact {
  /** A new physical resource replaces the old one, which is deleted (data and ARNs change). */
  readonly replaced: readonly ResourceChange[];
  /** Replacement depends on values or settings the diff cannot evaluate. */
  readonly mayBeReplaced: readonly ResourceChange[];
  /** Deleted by the update. */
  readonly removed: readonly ResourceChange[];
  /** Leaves the stack but stays in the account (DeletionPolicy Retain). */
  readonly orphaned: readonly ResourceChange[];
  readonly added: readonly ResourceChange[];
  /** Updated in place. */
  readonly updated: readonly ResourceChange[];
  readonly parametersAdded: readonly AddedParameter[];
  readonly parametersRemoved: readonly string[];
  /** Declared in both, with a different type, default or constraint (descriptions are ignored). */
  readonly parametersChanged: readonly ChangedParameter[];
}

// Properties that give a resource a fixed physical name. CloudFormation cannot replace such a resource
// while the name stays the same, nor create one while another resource of the stack holds the name.
const NAME_PROPERTIES = [
  "Name",
  "BucketName",
  "RoleName",
  "TopicName",
  "FunctionName",
  "LogGroupName",
  "AliasName",
  "QueueName",
  "TableName",
];

/** Groups a template diff into what an in-place stack update would replace, remove, add and update. */
export function upgradeImpact(diff: TemplateDiff): UpgradeImpact {
  const replaced: ResourceChange[] = [];
  const mayBeReplaced: ResourceChange[] = [];
  const removed: ResourceChange[] = [];
  const orphaned: ResourceChange[] = [];
  const added: ResourceChange[] = [];
  const updated: ResourceChange[] = [];
  const removedResources: Array<[string, ResourceDifference]> = [];
  diff.resources.forEachDifference((logicalId, change) => {
    if (change.isRemoval) removedResources.push([logicalId, change]);
  });

  diff.resources.forEachDifference((logicalId, change) => {
    const impact = change.changeImpact;
    const type = resourceTypeOf(change);
    switch (impact) {
      case ResourceImpact.WILL_REPLACE:
      case ResourceImpact.MAY_REPLACE: {
        const entry = { logicalId, type, causes: replacementCauses(change), notes: replacementNotes(change) };
        (impact === ResourceImpact.WILL_REPLACE ? replaced : mayBeReplaced).push(entry);
        break;
      }
      case ResourceImpact.WILL_DESTROY:
        removed.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.WILL_ORPHAN:
        orphaned.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.WILL_CREATE:
      case ResourceImpact.WILL_IMPORT:
        added.push({ logicalId, type, causes: [], notes: nameClashNotes(change, removedResources) });
        break;
      case ResourceImpact.WILL_UPDATE:
        updated.push({ logicalId, type, causes: [], notes: [] });
        break;
      case ResourceImpact.NO_CHANGE:
        break;
    }
  });

  const parametersAdded: AddedParameter[] = [];
  const parametersRemoved: string[] = [];
  const parametersChanged: ChangedParameter[] = [];
  diff.parameters.forEachDifference((name, change) => {
    if (change.isAddition) parametersAdded.push({ name, needsValue: !hasDefault(change.newValue) });
    else if (change.isRemoval) parametersRemoved.push(name);
    else {
      const fields = changedParameterFields(change.oldValue, change.newValue);
      if (fields.length > 0) parametersChanged.push({ name, fields });
    }
  });

  return {
    replaced,
    mayBeReplaced,
    removed,
    orphaned,
    added,
    updated,
    parametersAdded,
    parametersRemoved,
    parametersChanged,
  };
}

function resourceTypeOf(change: ResourceDifference): string {
  return change.resourceTypeChanged
    ? `${change.oldResourceType} -> ${change.newResourceType}`
    : (change.newResourceType ?? change.oldResourceType ?? "unknown type");
}

function replacementCauses(change: ResourceDifference): string[] {
  if (change.resourceTypeChanged) return ["Type"];
  return Object.entries(change.propertyUpdates)
    .filter(
      ([, property]) =>
        property.changeImpact === ResourceImpact.WILL_REPLACE ||
        property.changeImpact === ResourceImpact.MAY_REPLACE,
    )
    .map(([name]) => name);
}

function replacementNotes(change: ResourceDifference): string[] {
  if (
    change.newResourceType === "AWS::SSM::Document" &&
    change.newProperties?.UpdateMethod === "NewVersion"
  ) {
    return [
      "UpdateMethod is NewVersion: CloudFormation adds a document version instead of replacing the " +
        "document (confirm with a change set)",
    ];
  }
  const notes: string[] = [];
  const name = NAME_PROPERTIES.find(
    (property) =>
      change.oldProperties?.[property] !== undefined &&
      deepEqual(change.oldProperties[property], change.newProperties?.[property]),
  );
  if (name !== undefined) {
    notes.push(
      `its ${name} stays the same, and CloudFormation cannot replace a custom-named resource: if a ` +
        "replacement happens, the update fails and rolls back",
    );
  }
  return notes;
}

/** A resource added under a new logical ID while one being removed holds the same fixed name. */
function nameClashNotes(
  change: ResourceDifference,
  removed: ReadonlyArray<[string, ResourceDifference]>,
): string[] {
  const notes: string[] = [];
  for (const [oldId, old] of removed) {
    if (old.oldResourceType !== change.newResourceType) continue;
    const name = NAME_PROPERTIES.find(
      (property) =>
        change.newProperties?.[property] !== undefined &&
        deepEqual(change.newProperties[property], old.oldProperties?.[property]),
    );
    if (name !== undefined) {
      notes.push(
        `same ${name} as ${oldId}, which is removed: CloudFormation creates before it deletes, so the ` +
          "creation fails while the old resource holds the name",
      );
    }
  }
  return notes;
}

// Descriptions only change the console text; every other field can change which values are accepted.
const COSMETIC_PARAMETER_FIELDS = new Set(["Description", "ConstraintDescription"]);

function changedParameterFields(before: unknown, after: unknown): string[] {
  const old = asRecord(before);
  const next = asRecord(after);
  return [...new Set([...Object.keys(old), ...Object.keys(next)])].filter(
    (field) => !COSMETIC_PARAMETER_FIELDS.has(field) && !deepEqual(old[field], next[field]),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function hasDefault(declaration: unknown): boolean {
  return typeof declaration === "object" && declaration !== null && "Default" in declaration;
}
