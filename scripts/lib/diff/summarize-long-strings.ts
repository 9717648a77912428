import { createHash } from "node:crypto";

/** Inline Lambda code and other long strings above this size are shown as a fingerprint. */
export const LONG_STRING_LIMIT = 2_000;

/**
 * A copy of a template in which every string longer than `limit` (inline Lambda code, mostly) becomes
 * `<N characters, sha256 …>`. The diff still sees whether it changed, but prints one line, not the code.
 */
export function summarizeLongStrings(value: unknown, limit = LONG_STRING_LIMIT): unknown {
  if (typeof value === "string") {
    if (value.length <= limit) return value;
    const digest = createHash("sha256").update(value).digest("hex").slice(0, 16);
    return `<${value.length} characters, sha256 ${digest}>`;
  }
  if (Array.isArray(value)) return value.map((item) => summarizeLongStrings(item, limit));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, summarizeLongStrings(item, limit)]),
    );
  }
  return value;
}
