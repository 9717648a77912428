/**
 * Static checks of an Automation document (schemaVersion 0.3) for what AWS does not document, so a runbook
 * that passes them relies only on documented behaviour. The runbook simulator refuses documents that fail
 * them; test/runbooks applies them to the rendered runbooks.
 *
 * - No back-edge: no `nextStep`, aws:branch `NextStep`/`Default` or `onFailure: step:X` names the step
 *   itself or an earlier one. Re-running a step by jumping back is not documented, and the branching guide
 *   says Automation rejects a runbook with an "infinite loop" without defining one. Repetition is aws:loop.
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-branchdocs.html
 * - aws:loop as documented: exactly one of `Iterators` and `LoopCondition`, `MaxIterations` 1-100, and
 *   `Steps`. Outputs of the steps inside a loop are read only inside it (and by its LoopCondition): reading
 *   them after the loop, from a later step or the document's `outputs`, is not documented.
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html
 */

/** The parts of a step these checks look at. */
export interface CheckedStep {
  readonly name: string;
  readonly action: string;
  readonly inputs?: Record<string, unknown>;
  readonly nextStep?: string;
  readonly onFailure?: string;
}

export interface CheckedDocument {
  readonly mainSteps: readonly CheckedStep[];
  readonly outputs?: readonly string[];
}

/** The documented bounds of aws:loop's MaxIterations. */
export const LOOP_MAX_ITERATIONS = 100;

const VARIABLE = /\{\{\s*([^{}]+?)\s*\}\}/g;

/** Every `{{ name }}` a JSON-like value refers to, in order (names trimmed). */
export function references(value: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (typeof node === "string") {
      for (const match of node.matchAll(VARIABLE)) found.push(match[1] as string);
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item);
    } else if (typeof node === "object" && node !== null) {
      for (const item of Object.values(node)) visit(item);
    }
  };
  visit(value);
  return found;
}

/** The steps of a loop step's `Steps` (empty for any other action, or a loop without a list). */
export function innerSteps(step: CheckedStep): readonly CheckedStep[] {
  const nested = step.action === "aws:loop" ? step.inputs?.Steps : undefined;
  return Array.isArray(nested) ? (nested as CheckedStep[]) : [];
}

/** Every step of the document, loops' inner steps included, with the loops around it (outermost first). */
export function allSteps(document: CheckedDocument): { step: CheckedStep; loops: readonly string[] }[] {
  const out: { step: CheckedStep; loops: readonly string[] }[] = [];
  const visit = (list: readonly CheckedStep[], loops: readonly string[]): void => {
    for (const step of list) {
      out.push({ step, loops });
      visit(innerSteps(step), [...loops, step.name]);
    }
  };
  visit(document.mainSteps, []);
  return out;
}

/** The steps a step can jump to by name: nextStep, aws:branch choices and Default, onFailure step:X. */
export function jumpTargets(step: CheckedStep): { target: string; via: string }[] {
  const out: { target: string; via: string }[] = [];
  if (step.nextStep !== undefined) out.push({ target: step.nextStep, via: "nextStep" });
  if (step.action === "aws:branch") {
    const choices = step.inputs?.Choices;
    for (const choice of Array.isArray(choices) ? choices : []) {
      const next = (choice as { NextStep?: unknown }).NextStep;
      if (typeof next === "string") out.push({ target: next, via: "a choice's NextStep" });
    }
    if (typeof step.inputs?.Default === "string") out.push({ target: step.inputs.Default, via: "Default" });
  }
  if (step.onFailure?.startsWith("step:")) {
    out.push({ target: step.onFailure.slice("step:".length), via: "onFailure" });
  }
  return out;
}

/** Jumps to the step itself or an earlier step of the same list, and jumps out of the list. */
export function backEdges(document: CheckedDocument): string[] {
  const problems: string[] = [];
  const visit = (list: readonly CheckedStep[], where: string): void => {
    const index = new Map(list.map((step, i) => [step.name, i]));
    list.forEach((step, i) => {
      for (const { target, via } of jumpTargets(step)) {
        const to = index.get(target);
        if (to === undefined) {
          problems.push(`${step.name} (${via}) jumps to ${target}, which is not a step of ${where}.`);
        } else if (to <= i) {
          problems.push(
            `${step.name} (${via}) jumps back to ${target === step.name ? "itself" : `the earlier step ${target}`}: repeat steps with aws:loop instead.`,
          );
        }
      }
      const nested = innerSteps(step);
      if (nested.length > 0) visit(nested, `the Steps of loop ${step.name}`);
    });
  };
  visit(document.mainSteps, "mainSteps");
  return problems;
}

/** Inputs of aws:loop steps outside what the action's page documents. */
export function loopInputProblems(document: CheckedDocument): string[] {
  const problems: string[] = [];
  for (const { step } of allSteps(document)) {
    if (step.action !== "aws:loop") continue;
    const inputs = step.inputs ?? {};
    if ((inputs.Iterators === undefined) === (inputs.LoopCondition === undefined)) {
      problems.push(`loop ${step.name} needs exactly one of Iterators and LoopCondition.`);
    }
    const max = inputs.MaxIterations;
    const literal = typeof max === "number" || (typeof max === "string" && !max.includes("{{"));
    if (
      literal &&
      !(Number.isInteger(Number(max)) && Number(max) >= 1 && Number(max) <= LOOP_MAX_ITERATIONS)
    ) {
      problems.push(
        `loop ${step.name} has MaxIterations ${String(max)}; it takes 1 to ${LOOP_MAX_ITERATIONS}.`,
      );
    }
    if (innerSteps(step).length === 0) problems.push(`loop ${step.name} has no Steps.`);
  }
  return problems;
}

/** Reads of an inner step's output from outside its loop (later steps, other loops, document outputs). */
export function loopOutputLeaks(document: CheckedDocument): string[] {
  const steps = allSteps(document);
  const loopOf = new Map<string, readonly string[]>(steps.map(({ step, loops }) => [step.name, loops]));
  const leak = (reference: string, readerLoops: readonly string[], reader: string): string | undefined => {
    const owner = reference.split(".", 1)[0] as string;
    const ownerLoops = loopOf.get(owner);
    if (ownerLoops === undefined || ownerLoops.length === 0) return undefined;
    const outside = ownerLoops.find((loop) => !readerLoops.includes(loop));
    return outside === undefined
      ? undefined
      : `${reader} reads {{ ${reference} }}, an output of a step inside loop ${outside}, from outside that loop.`;
  };
  const problems: string[] = [];
  for (const { step, loops } of steps) {
    const inputs = step.inputs ?? {};
    // A loop's LoopCondition is evaluated inside it; its other inputs before its first iteration.
    const own =
      step.action === "aws:loop" ? { ...inputs, Steps: undefined, LoopCondition: undefined } : inputs;
    for (const reference of references(own)) {
      const problem = leak(reference, loops, `step ${step.name}`);
      if (problem) problems.push(problem);
    }
    if (step.action === "aws:loop") {
      for (const reference of references(inputs.LoopCondition)) {
        const problem = leak(reference, [...loops, step.name], `the LoopCondition of ${step.name}`);
        if (problem) problems.push(problem);
      }
    }
  }
  for (const output of document.outputs ?? []) {
    const problem = leak(output, [], "the document's outputs");
    if (problem) problems.push(problem);
  }
  return problems;
}

/** Step names used more than once anywhere in the document (loops included). */
export function duplicateStepNames(document: CheckedDocument): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { step } of allSteps(document)) {
    if (seen.has(step.name)) problems.push(`step name ${step.name} is used twice.`);
    seen.add(step.name);
  }
  return problems;
}

/** Every problem of the document the checks above find; empty when it relies on documented behaviour only. */
export function documentProblems(document: CheckedDocument): string[] {
  return [
    ...duplicateStepNames(document),
    ...backEdges(document),
    ...loopInputProblems(document),
    ...loopOutputLeaks(document),
  ];
}
