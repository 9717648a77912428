import { AkmError } from "../errors.ts";
import { type UnseenOrganization, unseenProblem } from "./shadowing.ts";

/**
 * The shadowing check cannot look at every repository an organization secret of visibility all or private
 * reaches (GitHub says repositories were left out: README, section "Shadowing"), so it cannot tell whether a copy
 * there would keep jobs on the old key: a rotation does not create a key, and Retire does not retire the old one,
 * until it can.
 */
export class UnseenRepositoriesError extends AkmError {
  readonly unseen: UnseenOrganization;

  constructor(unseen: UnseenOrganization) {
    super(unseenProblem(unseen), {
      fix: unseen.fix,
      fault: "user",
    });
    this.name = "UnseenRepositoriesError";
    this.unseen = unseen;
  }
}
