/**
 * One scope's Actions configuration variables (a repository's, an environment's, an organization's). Values are
 * plain text on GitHub (the API returns them), so they are kept as is. Names are case-insensitive and GitHub
 * keeps them upper-case.
 * https://docs.github.com/en/rest/actions/variables
 */

/** A variable as GitHub reports it (timestamps are ISO 8601 without milliseconds). */
export interface VariableRecord {
  readonly name: string;
  readonly value: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The variables of one scope. */
export class VariableBook {
  readonly #variables = new Map<string, VariableRecord>();

  has(name: string): boolean {
    return this.#variables.has(name.toUpperCase());
  }

  get(name: string): VariableRecord | undefined {
    return this.#variables.get(name.toUpperCase());
  }

  /** Creates or replaces a variable, keeping its creation time. */
  set(name: string, value: string, stamp: string): "created" | "updated" {
    const upper = name.toUpperCase();
    const previous = this.#variables.get(upper);
    this.#variables.set(upper, {
      name: upper,
      value,
      createdAt: previous?.createdAt ?? stamp,
      updatedAt: stamp,
    });
    return previous === undefined ? "created" : "updated";
  }

  /** Renames a variable (PATCH with a new `name`), keeping its creation time; false when `to` is taken. */
  rename(from: string, to: string, stamp: string): boolean {
    const current = this.#variables.get(from.toUpperCase());
    const upper = to.toUpperCase();
    if (current === undefined) return false;
    if (upper === current.name) return true;
    if (this.#variables.has(upper)) return false;
    this.#variables.delete(current.name);
    this.#variables.set(upper, { ...current, name: upper, updatedAt: stamp });
    return true;
  }

  delete(name: string): boolean {
    return this.#variables.delete(name.toUpperCase());
  }

  /** Variables sorted by name. */
  list(): VariableRecord[] {
    return [...this.#variables.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
