import type { ResourceChange, UpgradeImpact } from "./upgrade-impact.ts";

/**
 * The summary printed before the full diff: what an in-place upgrade would destroy or recreate first,
 * since that is what loses data or changes ARNs, then what it adds and updates.
 */
export function renderUpgradeImpact(impact: UpgradeImpact): string[] {
  return [
    "In-place upgrade impact (a stack update from the old template to the new one):",
    "",
    ...resourceSection(
      "REPLACED (a new resource is created and the old one deleted: its data, ARN and name-based references change)",
      impact.replaced,
      true,
    ),
    ...resourceSection(
      "MAY BE REPLACED (depends on values or settings the diff cannot evaluate; check the change set)",
      impact.mayBeReplaced,
      true,
    ),
    ...resourceSection("REMOVED (deleted by the update)", impact.removed, false),
    ...resourceSection(
      "Removed from the stack but KEPT in the account (DeletionPolicy Retain)",
      impact.orphaned,
      false,
    ),
    ...resourceSection("Added", impact.added, false),
    ...resourceSection("Updated in place", impact.updated, false),
    ...listSection(
      "Parameters added",
      impact.parametersAdded.map((p) =>
        p.needsValue ? `${p.name} (no default: give a value when updating)` : p.name,
      ),
    ),
    ...listSection("Parameters REMOVED", impact.parametersRemoved),
    ...listSection(
      "Parameters changed (a stack's current value must meet the new constraints, or the update fails)",
      impact.parametersChanged.map((p) => `${p.name}: ${p.fields.join(", ")}`),
    ),
  ];
}

function resourceSection(title: string, changes: readonly ResourceChange[], showCauses: boolean): string[] {
  if (changes.length === 0) return [`${title}: none`, ""];
  const lines = [`${title}: ${changes.length}`];
  for (const change of changes) {
    const causes = showCauses && change.causes.length > 0 ? ` because of ${change.causes.join(", ")}` : "";
    lines.push(`  - ${change.logicalId} (${change.type})${causes}`);
    for (const note of change.notes) lines.push(`      note: ${note}`);
  }
  lines.push("");
  return lines;
}

function listSection(title: string, items: readonly string[]): string[] {
  if (items.length === 0) return [`${title}: none`, ""];
  return [`${title}: ${items.length}`, ...items.map((item) => `  - ${item}`), ""];
}
