import type { Finding } from "./finding.ts";

/**
 * The lines that end a smoke run: each finding (what, where, fix), then one verdict line,
 * "smoke: PASS — <what was proven>" or "smoke: FAIL — <the first problem, where, how to fix it>".
 */
export function renderVerdict(findings: readonly Finding[], passed: string): string[] {
  const [first, ...rest] = findings;
  if (first === undefined) return [`smoke: PASS — ${passed}`];
  const lines = findings.length > 1 ? ["Problems:", ...findings.map((f) => `  - ${describe(f)}`)] : [];
  const more = rest.length > 0 ? ` (${rest.length} more problem${rest.length === 1 ? "" : "s"} above)` : "";
  return [...lines, `smoke: FAIL — ${describe(first)}${more}`];
}

function describe(finding: Finding): string {
  return `${finding.what} (${finding.where}). Fix: ${finding.fix}.`;
}
