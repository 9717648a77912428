/**
 * One thing the smoke test found wrong: what, where, and how to fix it. Every check returns findings instead
 * of throwing, so one run reports every problem it can see.
 */
export interface Finding {
  /** What is wrong, as a sentence without a final period: "runbook X runs version 1, not its latest 2". */
  readonly what: string;
  /** Where to look: a runbook, a step, an output, the stack. */
  readonly where: string;
  /** How to fix it, as an instruction. */
  readonly fix: string;
}
