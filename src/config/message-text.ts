/** Longest excerpt of the user's text quoted in a message. */
const MAX_QUOTED_CHARS = 60;

/**
 * Quotes text from the file for a message: every character outside printable ASCII is escaped (\u0430),
 * so a look-alike letter, an invisible or a right-to-left control character is visible in the message
 * instead of disguising it, and long values are cut short.
 */
export function quote(text: string): string {
  const short = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * Says which character of a rejected name is not visible ASCII (a Cyrillic "а" looks exactly like "a"),
 * as " (character 1 is ...)", or "" when every character is plain ASCII. `source` says where to copy the
 * name from ("the repository's URL").
 */
export function nameHint(value: unknown, source = "the repository's URL"): string {
  if (typeof value !== "string") return "";
  const odd = /[^\x21-\x7e]/.exec(value);
  if (odd === null) return "";
  const code = odd[0].charCodeAt(0);
  const what =
    code === 0x20
      ? "a space"
      : code > 0x7e
        ? `the non-ASCII character ${quote(odd[0])} (U+${code.toString(16).toUpperCase().padStart(4, "0")}; a look-alike or invisible character?)`
        : `the control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return ` (character ${odd.index + 1} is ${what}; copy the name from ${source})`;
}

/** How messages name a JSON value of the wrong type: `a list`, `null`, `a number (5)`, `the text "x"`. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the text ${quote(value)}`;
  if (typeof value === "number") return `a number (${String(value)})`;
  if (typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : typeof value;
}

/** Names at most `max` things for a message: "a/b, a/c and 9,998 more" — messages stay short at any list size. */
export function nameLabels(labels: readonly string[], max = 10): string {
  const shown = labels.slice(0, max).join(", ");
  const more = labels.length - max;
  return more > 0 ? `${shown} and ${more.toLocaleString("en-US")} more` : shown;
}
