import { inspect } from "node:util";

const REDACTED = "[redacted]";

/** Every secret this process has wrapped, so output boundaries can scrub them from any text. */
const known = new Set<string>();

/** Replaces every secret value this process has seen with `[redacted]` (a last line of defence). */
export function redactSecrets(text: string): string {
  let out = text;
  for (const value of known) {
    if (value.length >= 8 && out.includes(value)) out = out.split(value).join(REDACTED);
  }
  return out;
}

/**
 * Holds a secret (an AWS secret access key, a GitHub token) so that it cannot leak by accident:
 * `String()`, `JSON.stringify`, template literals and `util.inspect` all print `[redacted]`.
 * Code that really needs the value calls `reveal()`, which is easy to find in review.
 */
export class SecretValue {
  readonly #value: string;

  /**
   * @param sensitive false for values that travel as GitHub secrets but are not secret themselves
   *   (the access key ID): they are still redacted when printed, but not scrubbed from other text.
   */
  constructor(value: string, sensitive = true) {
    this.#value = value;
    if (sensitive) known.add(value);
  }

  /** Returns the plain secret; call it only where the value leaves for its destination. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
