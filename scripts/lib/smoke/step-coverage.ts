import type { StepExecution } from "@aws-sdk/client-ssm";
import { parse } from "yaml";
import type { Finding } from "./finding.ts";
import { redactOutput } from "./output-contract.ts";

/** The steps a DryRun must run: each invoke and loop step, and each step inside a loop (by loop). */
export interface RequiredSteps {
  readonly topLevel: readonly string[];
  readonly insideLoops: ReadonlyMap<string, readonly string[]>;
}

interface StepDefinition {
  readonly name?: unknown;
  readonly action?: unknown;
  readonly inputs?: { readonly Steps?: unknown };
}

// The contract (a DryRun goes through every step) makes these run; branch-only steps (a terminal
// "continues" step, failure steps) are not required.
const ALWAYS_RUN = new Set(["aws:invokeLambdaFunction", "aws:loop"]);

/**
 * What the runbook's content says must run: every aws:invokeLambdaFunction and aws:loop step, and every step
 * of each loop's `Steps` (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html).
 * Undefined when the content cannot be read as an Automation document.
 */
export function requiredSteps(content: string | undefined): RequiredSteps | undefined {
  if (content === undefined) return undefined;
  let document: unknown;
  try {
    document = parse(content);
  } catch {
    return undefined;
  }
  const mainSteps = (document as { mainSteps?: unknown } | null)?.mainSteps;
  if (!Array.isArray(mainSteps)) return undefined;
  const topLevel: string[] = [];
  const insideLoops = new Map<string, string[]>();
  for (const step of mainSteps as StepDefinition[]) {
    if (typeof step?.name !== "string" || typeof step.action !== "string") continue;
    if (ALWAYS_RUN.has(step.action)) topLevel.push(step.name);
    if (step.action === "aws:loop" && Array.isArray(step.inputs?.Steps)) {
      insideLoops.set(
        step.name,
        (step.inputs.Steps as StepDefinition[])
          .map((inner) => inner?.name)
          .filter((name): name is string => typeof name === "string"),
      );
    }
  }
  return { topLevel, insideLoops };
}

/**
 * Findings about the steps of an ended DryRun execution: a step that did not end Success (with its failure
 * message), a required step that never ran, and a loop whose inner steps did not all run. Inner steps are
 * told from top-level ones by ParentStepDetails
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParentStepDetails.html).
 */
export function stepFindings(
  steps: readonly StepExecution[],
  required: RequiredSteps | undefined,
  where: string,
): Finding[] {
  const findings: Finding[] = [];
  for (const step of steps) {
    // A step on a branch not taken may be listed as Pending once the execution has ended: it did not run.
    if (step.StepStatus === "Success" || step.StepStatus === "Pending") continue;
    const message = step.FailureMessage ? `: ${redactOutput(step.FailureMessage)}` : "";
    findings.push({
      what: `step ${stepLabel(step)} ended ${step.StepStatus ?? "without a status"}${message}`,
      where: `${where}, step ${step.StepName ?? "(unnamed)"}`,
      fix: "fix what the failure message names (the README's Troubleshooting lists the common ones), then run the smoke test again",
    });
  }
  if (required === undefined) {
    findings.push({
      what: "the content of the Rotate runbook version that ran could not be read as an Automation document",
      where,
      fix: "check the runbook in Systems Manager > Documents; redeploy the stack from dist/aws-github-akm.template.yaml",
    });
    return findings;
  }
  const ran = (name: string, parent?: string) =>
    steps.some(
      (step) =>
        step.StepName === name &&
        step.StepStatus === "Success" &&
        (parent === undefined
          ? step.ParentStepDetails === undefined
          : step.ParentStepDetails === undefined || step.ParentStepDetails.StepName === parent),
    );
  for (const name of required.topLevel) {
    if (!ran(name)) {
      findings.push({
        what: `step ${name} did not run to Success, although a DryRun goes through every step`,
        where: `${where}, step ${name}`,
        fix: "look at the execution's steps in the console; the Rotate runbook must follow the contract (README, Runbooks)",
      });
    }
  }
  for (const [loop, inner] of required.insideLoops) {
    for (const name of inner) {
      if (!ran(name, loop)) {
        findings.push({
          what: `step ${name} inside loop ${loop} never ran to Success`,
          where: `${where}, loop ${loop}`,
          fix: "look at the loop's iterations in the console; the Rotate runbook must follow the contract (README, Runbooks)",
        });
      }
    }
  }
  return findings;
}

function stepLabel(step: StepExecution): string {
  const parent = step.ParentStepDetails;
  const inLoop =
    parent?.StepName === undefined
      ? ""
      : ` (loop ${parent.StepName}${parent.Iteration === undefined ? "" : `, iteration ${parent.Iteration}`})`;
  return `${step.StepName ?? "(unnamed)"}${inLoop}`;
}
