import { AkmError } from "../errors.ts";

/**
 * The repository list changed between reading and writing it (another run or a person wrote it).
 * Transient: re-reading and re-applying the change resolves it, so callers may retry once.
 */
export class ConfigConflictError extends AkmError {
  readonly location: string;

  constructor(location: string, cause?: unknown) {
    super(
      `The repository list ${location} changed while this run was updating it, so the update was not written.`,
      {
        fix: "Run the runbook again; it re-reads the current list and applies the change to it.",
        fault: "transient",
        cause,
      },
    );
    this.name = "ConfigConflictError";
    this.location = location;
  }
}
