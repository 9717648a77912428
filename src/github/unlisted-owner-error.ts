import { AkmError } from "../errors.ts";

/**
 * A GitHub App run was asked for a client for an owner the list names no target of. The App then has no
 * installation token for that owner, by design: tokens are minted only for the owners the list sends the key to,
 * with what their targets need (src/github/app-permissions.ts), never for an installation elsewhere (an App that
 * may be installed on any account can be installed by anyone). Writing there would be a bug in the tool; reading
 * there (a reusable workflow of another owner, which the shadowing check follows) is simply not possible, and the
 * inventory reports that workflow as unreadable.
 */
export class UnlistedOwnerError extends AkmError {
  readonly owner: string;

  constructor(owner: string) {
    super(`No listed target belongs to ${owner}, so the GitHub App has no installation token for it.`, {
      fault: "tool",
      fix: "This is a bug in the tool if it stopped a write: open an issue with the runbook execution ID and the Lambda log.",
    });
    this.name = "UnlistedOwnerError";
    this.owner = owner;
  }
}
