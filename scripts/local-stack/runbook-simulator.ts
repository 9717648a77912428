/**
 * Runs an SSM Automation document (schemaVersion 0.3) offline, following the documented semantics closely
 * enough to exercise our runbooks end to end: typed parameters with defaults and validation, `{{ }}`
 * variables, step outputs through selectors, `nextStep` / `isEnd` / `onFailure` / `isCritical` /
 * `maxAttempts` / `timeoutSeconds`, and the actions our runbooks use. An action it does not know is an error,
 * so a new runbook action cannot be silently skipped.
 *
 * Where AWS does not document what Automation does, the simulator throws (a document error, not a step
 * outcome), so a test that passes proves the runbook never goes there:
 * - a back-edge (a step jumping to itself or an earlier step), an aws:loop outside its documented inputs, an
 *   inner step's output read from outside its loop (scripts/local-stack/runbook-checks.ts, checked on parsing);
 * - a branch, sleep or step input that reads an output whose selector matched nothing, whose value is "", or
 *   of a step that did not run;
 * - an aws:branch that matches no choice, has no Default and sets isEnd (the page says "the next step";
 *   isEnd says "stop");
 * - an aws:sleep Timestamp not in the form YYYY-MM-DDThh:mm:ssZ, or a wait longer than 7 days (604,799 s);
 * - a Payload output over its documented size (invoke 200 KB, script 100 KB).
 * Whether aws:invokeLambdaFunction fails the step when the function returns FunctionError is not documented
 * either: `SimulatorHooks.functionError` picks one answer, so tests can run both.
 *
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-branchdocs.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { RESOURCE_NAMES_TYPE, resourceNames } from "../../src/cfn/resource-names.ts";
import type { CfnTemplate, LambdaInvocation } from "./lambda-runner.ts";
import { documentProblems, LOOP_MAX_ITERATIONS } from "./runbook-checks.ts";

// ---------------------------------------------------------------------------------------------------------
// Document model

export type ParameterType = "String" | "StringList" | "Boolean" | "Integer" | "MapList" | "StringMap";

export interface ParameterDefinition {
  readonly type: ParameterType;
  readonly description?: string;
  readonly default?: unknown;
  readonly allowedValues?: readonly unknown[];
  readonly allowedPattern?: string;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minChars?: number;
  readonly maxChars?: number;
}

export interface OutputDefinition {
  readonly Name: string;
  readonly Selector: string;
  readonly Type?: ParameterType;
}

export interface StepDefinition {
  readonly name: string;
  readonly action: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: readonly OutputDefinition[];
  readonly nextStep?: string;
  readonly isEnd?: boolean;
  readonly isCritical?: boolean;
  readonly onFailure?: string;
  readonly onCancel?: string;
  readonly maxAttempts?: number;
  readonly timeoutSeconds?: number;
  readonly description?: string;
}

export interface AutomationDocument {
  readonly schemaVersion: string;
  readonly description?: string;
  readonly assumeRole?: string;
  readonly parameters?: Readonly<Record<string, ParameterDefinition>>;
  readonly mainSteps: readonly StepDefinition[];
  readonly outputs?: readonly string[];
}

/** Reads an Automation document from YAML or JSON text (the two formats SSM accepts). */
export function parseAutomationDocument(text: string): AutomationDocument {
  const document = parse(text) as unknown;
  return checkDocument(document);
}

function checkDocument(document: unknown): AutomationDocument {
  if (!isRecord(document) || document.schemaVersion !== "0.3" || !Array.isArray(document.mainSteps)) {
    throw new Error("runbook-simulator: not an Automation document (schemaVersion 0.3 with mainSteps).");
  }
  const checkSteps = (steps: unknown[]): void => {
    for (const step of steps) {
      if (!isRecord(step) || typeof step.name !== "string" || typeof step.action !== "string") {
        throw new Error("runbook-simulator: every step needs a name and an action.");
      }
      const nested = step.action === "aws:loop" && isRecord(step.inputs) ? step.inputs.Steps : undefined;
      if (Array.isArray(nested)) checkSteps(nested);
    }
  };
  checkSteps(document.mainSteps as unknown[]);
  const checked = document as unknown as AutomationDocument;
  const problems = documentProblems(checked);
  if (problems.length > 0) {
    throw new Error(
      `runbook-simulator: the document relies on undocumented behaviour: ${problems.join(" ")}`,
    );
  }
  return checked;
}

// ---------------------------------------------------------------------------------------------------------
// Runbooks in the rendered template

/** One AWS::SSM::Document of the template, with its CloudFormation intrinsics resolved. */
export interface TemplateRunbook {
  readonly logicalId: string;
  /** The document name as deployed, e.g. `GHS-AKM-ci-user-Rotate`. */
  readonly name: string;
  readonly document: AutomationDocument;
}

export interface StackContext {
  /** Stack parameter values; parameters left out take their template defaults. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** What `Ref` / `GetAtt ... Arn` return for resources (default: the logical ID, and an ARN ending in it). */
  readonly resources?: Readonly<Record<string, { readonly ref?: string; readonly arn?: string }>>;
  readonly stackName?: string;
  readonly region?: string;
  readonly accountId?: string;
}

/** Every Automation document of the template, resolved for a stack deployed with `context`. */
export function templateRunbooks(template: CfnTemplate, context: StackContext = {}): TemplateRunbook[] {
  const resolver = new IntrinsicResolver(template, context);
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === "AWS::SSM::Document")
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      if (props.DocumentType !== undefined && resolver.resolve(props.DocumentType) !== "Automation") {
        return undefined;
      }
      const content = resolver.resolve(props.Content);
      const document = checkDocument(typeof content === "string" ? parse(content) : content);
      const name = props.Name === undefined ? logicalId : String(resolver.resolve(props.Name));
      return { logicalId, name, document };
    })
    .filter((runbook): runbook is TemplateRunbook => runbook !== undefined);
}

/** The UUID at the end of the stack ID this simulator gives (AWS's example in the pseudo parameter reference). */
export const SAMPLE_STACK_UUID = "51af3dc0-da77-11e4-872e-1234567db123";

/** The physical name this simulator gives a resource that has none: its logical ID. */
export function physicalId(logicalId: string): string {
  return logicalId;
}

/**
 * Resolves CloudFormation intrinsics the way a deployed stack would see them. Resources resolve to their
 * logical IDs (a Lambda function to an ARN ending in its logical ID), so a runbook's FunctionName can be
 * traced back to the template's function.
 */
export class IntrinsicResolver {
  readonly #template: CfnTemplate;
  readonly #parameters: Readonly<Record<string, string>>;
  readonly #pseudo: Readonly<Record<string, string>>;
  readonly #region: string;
  readonly #accountId: string;
  readonly #resources: NonNullable<StackContext["resources"]>;

  constructor(template: CfnTemplate, context: StackContext) {
    this.#template = template;
    this.#resources = context.resources ?? {};
    this.#region = context.region ?? "us-east-1";
    this.#accountId = context.accountId ?? "123456789012";
    const parameters: Record<string, string> = {};
    for (const [name, definition] of Object.entries(template.Parameters ?? {})) {
      const value = context.parameters?.[name] ?? definition.Default;
      if (value !== undefined) parameters[name] = String(value);
    }
    for (const name of Object.keys(context.parameters ?? {})) {
      if (!(name in (template.Parameters ?? {}))) {
        throw new Error(`runbook-simulator: the template has no parameter ${name}.`);
      }
    }
    this.#parameters = parameters;
    this.#pseudo = {
      "AWS::Region": this.#region,
      "AWS::AccountId": this.#accountId,
      "AWS::Partition": "aws",
      "AWS::URLSuffix": "amazonaws.com",
      "AWS::StackName": context.stackName ?? "aws-github-akm",
      // A stack ID ends with the stack's UUID (the example of the pseudo parameter reference).
      "AWS::StackId": `arn:aws:cloudformation:${this.#region}:${this.#accountId}:stack/${context.stackName ?? "aws-github-akm"}/${SAMPLE_STACK_UUID}`,
    };
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value))
      return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    const [key] = keys;
    if (keys.length === 1 && key !== undefined && (key === "Ref" || key.startsWith("Fn::"))) {
      return this.#intrinsic(key, value[key]);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  #intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case "Ref":
        return this.#ref(String(argument));
      case "Fn::GetAtt": {
        const [resource, attribute] = (
          typeof argument === "string" ? argument.split(".", 2) : (this.resolve(argument) as string[])
        ) as [string, string];
        return this.#getAtt(resource, attribute);
      }
      case "Fn::Sub": {
        const [text, variables] = (Array.isArray(argument) ? argument : [argument, {}]) as [
          string,
          Record<string, unknown>,
        ];
        const locals = this.resolve(variables) as Record<string, unknown>;
        return text.replace(/\$\{([^}]+)\}/g, (whole, expression: string) => {
          if (expression.startsWith("!")) return `\${${expression.slice(1)}}`;
          if (expression in locals) return String(locals[expression]);
          if (expression.includes(".")) {
            const [resource, attribute] = expression.split(".", 2) as [string, string];
            return String(this.#getAtt(resource, attribute));
          }
          const resolved = this.#ref(expression);
          if (resolved === NO_VALUE) throw new Error(`runbook-simulator: cannot substitute ${whole}.`);
          return String(resolved);
        });
      }
      case "Fn::Join": {
        const [separator, items] = this.resolve(argument) as [string, unknown[]];
        return items.map(String).join(separator);
      }
      case "Fn::Select": {
        const [index, items] = this.resolve(argument) as [number | string, unknown[]];
        return items[Number(index)];
      }
      case "Fn::Split": {
        const [separator, text] = this.resolve(argument) as [string, string];
        return text.split(separator);
      }
      case "Fn::If": {
        const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.resolve(this.condition(condition) ? whenTrue : whenFalse);
      }
      case "Fn::Equals": {
        const [a, b] = this.resolve(argument) as [unknown, unknown];
        return String(a) === String(b);
      }
      case "Fn::Not":
        return !(this.resolve((argument as unknown[])[0]) as boolean);
      case "Fn::And":
        return (argument as unknown[]).every((item) => this.#truth(item));
      case "Fn::Or":
        return (argument as unknown[]).some((item) => this.#truth(item));
      case "Fn::ToJsonString":
        return JSON.stringify(this.resolve(argument));
      case "Fn::Base64":
        return Buffer.from(String(this.resolve(argument))).toString("base64");
      default:
        throw new Error(`runbook-simulator: the intrinsic ${name} is not supported by the simulator.`);
    }
  }

  #truth(item: unknown): boolean {
    if (isRecord(item) && typeof item.Condition === "string") return this.condition(item.Condition);
    return this.resolve(item) === true;
  }

  /** Evaluates a named condition of the template. */
  condition(name: string): boolean {
    const definition = this.#template.Conditions?.[name];
    if (definition === undefined)
      throw new Error(`runbook-simulator: the template has no condition ${name}.`);
    return this.resolve(definition) === true;
  }

  #ref(name: string): unknown {
    if (name === "AWS::NoValue") return NO_VALUE;
    if (name in this.#pseudo) return this.#pseudo[name];
    if (name in this.#parameters) {
      // A list parameter's Ref is the list of its comma-separated values.
      const type = String(this.#template.Parameters?.[name]?.Type ?? "String");
      const value = this.#parameters[name] ?? "";
      return type === "CommaDelimitedList" || type.startsWith("List<") ? value.split(",") : value;
    }
    const resource = this.#template.Resources[name];
    if (resource === undefined) throw new Error(`runbook-simulator: Ref to unknown name ${name}.`);
    return this.#resources[name]?.ref ?? physicalId(name);
  }

  #getAtt(logicalId: string, attribute: string): string {
    const resource = this.#template.Resources[logicalId];
    if (resource === undefined)
      throw new Error(`runbook-simulator: GetAtt on unknown resource ${logicalId}.`);
    if (resource.Type === RESOURCE_NAMES_TYPE) {
      // The names the stack's function answers for these properties (src/cfn/resource-names.ts).
      const name = resourceNames(this.resolve(resource.Properties ?? {}), logicalId)[attribute];
      if (name === undefined)
        throw new Error(`runbook-simulator: ${logicalId} computes no name ${attribute}.`);
      return name;
    }
    if (attribute !== "Arn") return `${physicalId(logicalId)}.${attribute}`;
    const known = this.#resources[logicalId]?.arn;
    if (known !== undefined) return known;
    const props = resource.Properties ?? {};
    const named = (property: string): string => {
      const value = props[property] === undefined ? undefined : this.resolve(props[property]);
      return typeof value === "string" ? value : physicalId(logicalId);
    };
    const regional = `${this.#region}:${this.#accountId}`;
    // The ARN formats of the resource types our template names in runbooks and policies.
    switch (resource.Type) {
      case "AWS::Lambda::Function":
        return `arn:aws:lambda:${regional}:function:${named("FunctionName")}`;
      case "AWS::IAM::Role":
        return `arn:aws:iam::${this.#accountId}:role/${named("RoleName")}`;
      case "AWS::S3::Bucket":
        return `arn:aws:s3:::${named("BucketName")}`;
      case "AWS::SNS::Topic":
        return `arn:aws:sns:${regional}:${named("TopicName")}`;
      case "AWS::SecretsManager::Secret":
        return `arn:aws:secretsmanager:${regional}:secret:${named("Name")}-AbCdEf`;
      case "AWS::KMS::Key":
        return `arn:aws:kms:${regional}:key/${physicalId(logicalId)}`;
      case "AWS::Logs::LogGroup":
        return `arn:aws:logs:${regional}:log-group:${named("LogGroupName")}:*`;
      default: {
        const service = resource.Type.split("::")[1]?.toLowerCase() ?? "unknown";
        return `arn:aws:${service}:${regional}:${physicalId(logicalId)}`;
      }
    }
  }
}

const NO_VALUE: unique symbol = Symbol("AWS::NoValue");

// ---------------------------------------------------------------------------------------------------------
// Executions

export type ExecutionStatus = "Success" | "Failed" | "TimedOut" | "Cancelled";
export type StepStatus = "Success" | "Failed" | "TimedOut" | "Cancelled";

export interface StepExecution {
  readonly stepName: string;
  readonly action: string;
  status: StepStatus;
  /** Inputs after variable substitution. */
  inputs: unknown;
  /** The action's own outputs (e.g. `Payload`) and the step's declared outputs, by name. */
  outputs: Record<string, unknown>;
  failureMessage: string | undefined;
  attempts: number;
  /** For steps inside an aws:loop: the loop step and iteration (1-based). */
  readonly parent?: { readonly stepName: string; readonly iteration: number };
}

/** An aws:sleep the simulator did not actually wait for. */
export interface SleepRequest {
  readonly stepName: string;
  readonly duration?: string;
  readonly timestamp?: string;
  /** Requested wait in milliseconds (Duration, or Timestamp minus the simulator's now). */
  readonly ms: number;
}

/** A call to aws:invokeLambdaFunction: what the simulator sent, and what came back. */
export interface LambdaCall {
  readonly stepName: string;
  readonly functionName: string;
  readonly payload: unknown;
  readonly timeoutMs: number | undefined;
}

export interface AutomationExecution {
  readonly executionId: string;
  status: ExecutionStatus;
  failureMessage: string | undefined;
  /** Parameter values after defaults and type conversion. */
  readonly parameters: Record<string, unknown>;
  /** The document's `outputs`, by `Step.Output` name (absent when the step did not run or set it). */
  readonly outputs: Record<string, unknown>;
  /** Every step execution in the order they ran (steps inside loops included). */
  readonly steps: StepExecution[];
  readonly sleeps: SleepRequest[];
}

/** What starting an execution with bad parameters answers (no execution is created). */
export class InvalidAutomationExecutionParametersError extends Error {
  override readonly name = "InvalidAutomationExecutionParametersException";
}

export interface SimulatorHooks {
  /** Carries out aws:invokeLambdaFunction. `timeoutMs` is the step's timeout, when it sets one. */
  readonly invokeLambda: (call: LambdaCall) => Promise<LambdaInvocation>;
  /** Called for each aws:sleep instead of waiting (e.g. to advance a fake clock). */
  readonly onSleep?: (request: SleepRequest) => void | Promise<void>;
  /** Aborting cancels the execution (StopAutomationExecution): the current step ends Cancelled. */
  readonly signal?: AbortSignal;
  /** Default: a fresh UUID, like SSM's execution IDs. */
  readonly executionId?: string;
  /** The simulator's clock for `global:DATE*` and sleep Timestamps. */
  readonly now?: () => Date;
  readonly region?: string;
  readonly accountId?: string;
  /** Python used for aws:executeScript (default `python3`). */
  readonly python?: string;
  /**
   * What aws:invokeLambdaFunction does when the function returns FunctionError (it threw, timed out or
   * crashed), which AWS does not document. "fail-step" (default): the step fails with Lambda's error.
   * "continue": the step succeeds with FunctionError and Lambda's error object as its Payload output.
   */
  readonly functionError?: "fail-step" | "continue";
  /**
   * Test harness only: every aws:loop stops after at most this many iterations instead of its MaxIterations,
   * e.g. to reach the end of a loop that in AWS would run 100 times.
   */
  readonly loopMaxIterations?: number;
}

/** Runs `document` to completion as StartAutomationExecution would, with `parameters` as given by the caller. */
export async function runAutomation(
  document: AutomationDocument,
  parameters: Readonly<Record<string, unknown>>,
  hooks: SimulatorHooks,
): Promise<AutomationExecution> {
  const execution: AutomationExecution = {
    executionId: hooks.executionId ?? randomUUID(),
    status: "Success",
    failureMessage: undefined,
    parameters: resolveParameters(document, parameters),
    outputs: {},
    steps: [],
    sleeps: [],
  };
  const run = new Run(document, execution, hooks);
  await run.steps(document.mainSteps, undefined);
  for (const name of document.outputs ?? []) {
    const value = run.lookupOutput(name);
    if (value !== undefined) execution.outputs[name] = value;
  }
  return execution;
}

/** Converts caller values (API strings or plain JS values) to the document's types; throws like the API. */
function resolveParameters(
  document: AutomationDocument,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const definitions = document.parameters ?? {};
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in definitions)) {
      throw new InvalidAutomationExecutionParametersError(
        `Parameter "${name}" is not defined in the document.`,
      );
    }
  }
  for (const [name, definition] of Object.entries(definitions)) {
    const raw = name in given ? given[name] : definition.default;
    if (raw === undefined) {
      throw new InvalidAutomationExecutionParametersError(
        `Parameter "${name}" is required but was not given.`,
      );
    }
    const value = convert(name, definition.type, raw);
    validate(name, definition, value);
    out[name] = value;
  }
  return out;
}

function convert(name: string, type: ParameterType, raw: unknown): unknown {
  const fail = (): never => {
    throw new InvalidAutomationExecutionParametersError(
      `Parameter "${name}" of type ${type} cannot take the value ${JSON.stringify(raw)}.`,
    );
  };
  // The API sends every parameter as a list of strings; a single-valued type takes the only element.
  const single =
    Array.isArray(raw) && type !== "StringList" && type !== "MapList"
      ? raw.length === 1
        ? raw[0]
        : fail()
      : raw;
  switch (type) {
    case "String":
      return typeof single === "string" ? single : fail();
    case "Boolean":
      if (typeof single === "boolean") return single;
      if (typeof single === "string" && /^(true|false)$/i.test(single))
        return single.toLowerCase() === "true";
      return fail();
    case "Integer": {
      const number = typeof single === "string" && /^-?\d+$/.test(single) ? Number(single) : single;
      return typeof number === "number" && Number.isInteger(number) ? number : fail();
    }
    case "StringList":
      if (typeof single === "string") return [single];
      return Array.isArray(single) && single.every((item) => typeof item === "string") ? single : fail();
    case "StringMap": {
      const map = typeof single === "string" ? tryJson(single) : single;
      return isRecord(map) ? map : fail();
    }
    case "MapList": {
      const list = typeof single === "string" ? tryJson(single) : single;
      return Array.isArray(list) && list.every(isRecord) ? list : fail();
    }
    default:
      throw new Error(`runbook-simulator: parameter ${name} has an unknown type ${String(type)}.`);
  }
}

function validate(name: string, definition: ParameterDefinition, value: unknown): void {
  const fail = (why: string): never => {
    throw new InvalidAutomationExecutionParametersError(`Parameter "${name}" ${why}.`);
  };
  const values = Array.isArray(value) ? value : [value];
  if (
    definition.allowedValues &&
    !values.every((v) => definition.allowedValues?.some((a) => String(a) === String(v)))
  ) {
    fail(`must be one of ${JSON.stringify(definition.allowedValues)}`);
  }
  if (definition.allowedPattern !== undefined) {
    const pattern = new RegExp(definition.allowedPattern);
    for (const v of values)
      if (typeof v === "string" && !pattern.test(v)) fail(`does not match ${definition.allowedPattern}`);
  }
  if (Array.isArray(value)) {
    if (definition.minItems !== undefined && value.length < definition.minItems)
      fail(`needs at least ${definition.minItems} items`);
    if (definition.maxItems !== undefined && value.length > definition.maxItems)
      fail(`takes at most ${definition.maxItems} items`);
  }
  for (const v of values) {
    if (typeof v !== "string") continue;
    if (definition.minChars !== undefined && v.length < definition.minChars)
      fail(`needs at least ${definition.minChars} characters`);
    if (definition.maxChars !== undefined && v.length > definition.maxChars)
      fail(`takes at most ${definition.maxChars} characters`);
  }
}

/** A step failure: `status` Failed unless it timed out or was cancelled. */
class StepFailure extends Error {
  constructor(
    message: string,
    readonly status: Exclude<StepStatus, "Success"> = "Failed",
  ) {
    super(message);
  }
}

const VARIABLE = /\{\{\s*([^{}]+?)\s*\}\}/g;
/** aws:sleep waits at most 7 days (SSM user guide, automation-action-sleep). */
const MAX_SLEEP_MS = 604_799_000;
/** The Timestamp form aws:sleep documents. */
const SLEEP_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** Payload output caps: aws:invokeLambdaFunction 200 KB, aws:executeScript 100 KB (their action pages). */
const INVOKE_PAYLOAD_MAX_BYTES = 200 * 1024;
const SCRIPT_PAYLOAD_MAX_BYTES = 100 * 1024;
/** The aws:executeScript Python runtimes AWS runs today (python3.6-3.8 are retired). */
const PYTHON_RUNTIMES = new Set(["python3.10", "python3.11"]);

class Run {
  /** Outputs by `Step.Output`, plus loop variables; later executions of a step overwrite earlier ones. */
  readonly #outputs = new Map<string, unknown>();
  /** Declared outputs that are unset or "" in the step's last execution, with why: reading them is an error. */
  readonly #unusable = new Map<string, string>();
  #ended = false;
  #criticalFailure: StepExecution | undefined;

  constructor(
    readonly document: AutomationDocument,
    readonly execution: AutomationExecution,
    readonly hooks: SimulatorHooks,
  ) {}

  lookupOutput(name: string): unknown {
    return this.#outputs.get(name);
  }

  /** Runs a step list (mainSteps, or a loop's Steps) from its first step; returns false if the run stopped. */
  async steps(list: readonly StepDefinition[], parent: StepExecution["parent"]): Promise<boolean> {
    const byName = new Map(list.map((step, index) => [step.name, index]));
    const indexOf = (name: string, from: string): number => {
      const index = byName.get(name);
      if (index === undefined) {
        throw new Error(
          `runbook-simulator: step ${from} points to ${name}, which is not a step of the same list.`,
        );
      }
      return index;
    };
    let index = 0;
    while (index < list.length && !this.#ended) {
      const step = list[index] as StepDefinition;
      const { record, next } = await this.#step(step, parent);
      if (record.status === "Success") {
        if (next !== undefined) index = indexOf(next, step.name);
        else if (step.isEnd === true) return true;
        else if (step.nextStep !== undefined) index = indexOf(step.nextStep, step.name);
        else index++;
        continue;
      }
      const onFailure = step.onFailure ?? "Abort";
      const cancelled = record.status === "Cancelled";
      const critical = step.isCritical ?? onFailure !== "Continue";
      if (critical && this.#criticalFailure === undefined) this.#criticalFailure = record;
      if (cancelled || onFailure === "Abort") {
        this.#end(record.status, record);
        return false;
      }
      if (onFailure === "Continue") {
        if (step.isEnd === true) return true;
        index = step.nextStep !== undefined ? indexOf(step.nextStep, step.name) : index + 1;
      } else if (onFailure.startsWith("step:")) {
        index = indexOf(onFailure.slice("step:".length), step.name);
      } else {
        throw new Error(`runbook-simulator: step ${step.name} has an invalid onFailure ${onFailure}.`);
      }
    }
    if (parent === undefined && !this.#ended && this.#criticalFailure !== undefined) {
      // A critical step failed but the run went on (onFailure: step:...): the execution still ends Failed.
      this.#end("Failed", this.#criticalFailure);
    }
    return !this.#ended;
  }

  #end(status: ExecutionStatus, record: StepExecution): void {
    this.#ended = true;
    this.execution.status = status;
    this.execution.failureMessage = record.failureMessage;
  }

  async #step(
    step: StepDefinition,
    parent: StepExecution["parent"],
  ): Promise<{ record: StepExecution; next: string | undefined }> {
    const record: StepExecution = {
      stepName: step.name,
      action: step.action,
      status: "Success",
      inputs: undefined,
      outputs: {},
      failureMessage: undefined,
      attempts: 0,
      ...(parent === undefined ? {} : { parent }),
    };
    this.execution.steps.push(record);
    const attempts = Math.max(1, step.maxAttempts ?? 1);
    let next: string | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      record.attempts = attempt;
      record.status = "Success";
      record.failureMessage = undefined;
      record.outputs = {};
      // `{{ Step.Output }}` means this execution of the step: forget what an earlier one produced.
      for (const map of [this.#outputs, this.#unusable]) {
        for (const key of [...map.keys()]) if (key.startsWith(`${step.name}.`)) map.delete(key);
      }
      try {
        if (this.hooks.signal?.aborted)
          throw new StepFailure("Step cancelled: the execution was stopped.", "Cancelled");
        next = await this.#act(step, record);
        break;
      } catch (error) {
        if (!(error instanceof StepFailure)) throw error; // a simulator or document error, not a step outcome
        record.status = error.status;
        record.failureMessage = error.message;
        if (error.status === "Cancelled") break;
      }
    }
    return { record, next };
  }

  /** Performs one attempt of a step; returns the branch target for aws:branch. */
  async #act(step: StepDefinition, record: StepExecution): Promise<string | undefined> {
    switch (step.action) {
      case "aws:invokeLambdaFunction":
        await this.#invokeLambda(step, record);
        return undefined;
      case "aws:branch":
        return this.#branch(step, record);
      case "aws:sleep":
        await this.#sleep(step, record);
        return undefined;
      case "aws:loop":
        await this.#loop(step, record);
        return undefined;
      case "aws:executeScript":
        await this.#executeScript(step, record);
        return undefined;
      default:
        throw new Error(
          `runbook-simulator: step ${step.name} uses ${step.action}, which the simulator does not implement.`,
        );
    }
  }

  async #invokeLambda(step: StepDefinition, record: StepExecution): Promise<void> {
    const inputs = this.substitute(step.inputs ?? {}, step.name) as Record<string, unknown>;
    record.inputs = inputs;
    const functionName = inputs.FunctionName;
    if (typeof functionName !== "string" || functionName === "") {
      throw new Error(`runbook-simulator: step ${step.name} has no FunctionName.`);
    }
    const invocationType = inputs.InvocationType ?? "RequestResponse";
    if (invocationType !== "RequestResponse") {
      throw new Error(
        `runbook-simulator: step ${step.name} uses InvocationType ${String(invocationType)}; only RequestResponse is simulated.`,
      );
    }
    // InputPayload (a map) wins over the legacy Payload (a JSON string).
    const payload =
      inputs.InputPayload !== undefined
        ? inputs.InputPayload
        : typeof inputs.Payload === "string"
          ? parseJsonInput(inputs.Payload, step.name)
          : {};
    const timeoutMs = step.timeoutSeconds === undefined ? undefined : step.timeoutSeconds * 1000;
    const invocation = await this.hooks.invokeLambda({
      stepName: step.name,
      functionName,
      payload,
      timeoutMs,
    });
    const payloadText = JSON.stringify(invocation.result ?? null);
    if (Buffer.byteLength(payloadText, "utf8") > INVOKE_PAYLOAD_MAX_BYTES) {
      throw new Error(
        `runbook-simulator: ${step.name}'s function answered ${Buffer.byteLength(payloadText, "utf8")} bytes; the Payload output holds at most ${INVOKE_PAYLOAD_MAX_BYTES} (what happens beyond is not documented).`,
      );
    }
    // LogType defaults to Tail: the last 4 KB of the function's log land in LogResult (automation-action-lamb).
    const response: Record<string, unknown> = {
      StatusCode: 200,
      Payload: invocation.result ?? null,
      ...(invocation.functionError === undefined ? {} : { FunctionError: invocation.functionError }),
      ...((inputs.LogType ?? "Tail") === "Tail"
        ? { LogResult: Buffer.from(lastBytes(invocation.logs, 4096)).toString("base64") }
        : {}),
    };
    record.outputs = { ...response, Payload: payloadText };
    this.#publish(step.name, record.outputs);
    if (this.hooks.signal?.aborted)
      throw new StepFailure("Step cancelled: the execution was stopped.", "Cancelled");
    if (invocation.killedBy === "killAfterMs") {
      // The caller stopped waiting at the step's timeoutSeconds (in AWS the function would run on).
      throw new StepFailure(`Step timed out after ${step.timeoutSeconds} seconds.`, "TimedOut");
    }
    if (invocation.functionError !== undefined && (this.hooks.functionError ?? "fail-step") === "fail-step") {
      const error = invocation.result as { errorType?: string; errorMessage?: string } | null;
      // One of the two possible answers (hooks.functionError): the step fails with Lambda's error.
      throw new StepFailure(
        `Step fails when it is Invoking the Lambda function. Lambda function ${functionName} returned ${invocation.functionError} error: ${error?.errorType ?? "Error"}: ${error?.errorMessage ?? payloadText}.`,
      );
    }
    this.#selectOutputs(step, record, response);
  }

  #selectOutputs(step: StepDefinition, record: StepExecution, response: unknown): void {
    for (const output of step.outputs ?? []) {
      const key = `${step.name}.${output.Name}`;
      const selected = select(response, output.Selector);
      if (selected === undefined || selected === null) {
        // A selector that matches nothing does not fail the step; what reading the output gives is not documented.
        this.#unusable.set(key, `its selector ${output.Selector} matched nothing`);
        continue;
      }
      if (selected === "") this.#unusable.set(key, `its value is ""`);
      const value = coerceOutput(selected, output.Type ?? "String");
      if (value === undefined) {
        throw new StepFailure(
          `Step fails when it is Outputting. Output ${output.Name} (${output.Selector}) is not of type ${output.Type ?? "String"}.`,
        );
      }
      record.outputs[output.Name] = value;
      this.#outputs.set(`${step.name}.${output.Name}`, value);
    }
  }

  #publish(stepName: string, outputs: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(outputs)) this.#outputs.set(`${stepName}.${name}`, value);
  }

  #branch(step: StepDefinition, record: StepExecution): string | undefined {
    const inputs = step.inputs ?? {};
    const choices = inputs.Choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      throw new Error(`runbook-simulator: aws:branch step ${step.name} has no Choices.`);
    }
    record.inputs = inputs;
    for (const choice of choices as Record<string, unknown>[]) {
      if (typeof choice.NextStep !== "string")
        throw new Error(`runbook-simulator: a choice of ${step.name} has no NextStep.`);
      if (this.#choice(choice, step.name)) {
        record.outputs = { NextStep: choice.NextStep };
        return choice.NextStep;
      }
    }
    // No choice is true: the Default step, or else the next step of the runbook (automation-action-branch).
    const fallback = typeof inputs.Default === "string" ? inputs.Default : undefined;
    if (fallback === undefined && step.isEnd === true) {
      throw new Error(
        `runbook-simulator: aws:branch ${step.name} matched no choice and has no Default, but sets isEnd: AWS documents "the next step", isEnd says "stop". Name a Default.`,
      );
    }
    record.outputs = fallback === undefined ? {} : { NextStep: fallback };
    return fallback;
  }

  /** Evaluates a choice (Variable + one operator, or And / Or / Not of choices). */
  #choice(choice: Record<string, unknown>, stepName: string): boolean {
    if (Array.isArray(choice.And))
      return choice.And.every((c) => this.#choice(c as Record<string, unknown>, stepName));
    if (Array.isArray(choice.Or))
      return choice.Or.some((c) => this.#choice(c as Record<string, unknown>, stepName));
    if (choice.Not !== undefined) {
      const inner = Array.isArray(choice.Not) ? choice.Not[0] : choice.Not;
      return !this.#choice(inner as Record<string, unknown>, stepName);
    }
    if (choice.Variable === undefined)
      throw new Error(`runbook-simulator: a choice of ${stepName} has no Variable.`);
    const variable = this.substitute(choice.Variable, stepName);
    const operators = Object.keys(choice).filter((key) => key !== "Variable" && key !== "NextStep");
    if (operators.length !== 1) {
      throw new Error(
        `runbook-simulator: a choice of ${stepName} needs exactly one operator, has ${operators.join(", ")}.`,
      );
    }
    const operator = operators[0] as string;
    const expected = this.substitute(choice[operator], stepName);
    const text = String(variable);
    const number = (value: unknown): number => {
      const n = typeof value === "number" ? value : Number(value);
      if (Number.isNaN(n))
        throw new StepFailure(
          `Step fails when it is Evaluating choices: ${JSON.stringify(value)} is not a number.`,
        );
      return n;
    };
    switch (operator) {
      case "StringEquals":
        return text === String(expected);
      case "EqualsIgnoreCase":
        return text.toLowerCase() === String(expected).toLowerCase();
      case "StartsWith":
        return text.startsWith(String(expected));
      case "EndsWith":
        return text.endsWith(String(expected));
      case "Contains":
        return Array.isArray(variable)
          ? variable.map(String).includes(String(expected))
          : text.includes(String(expected));
      case "NumericEquals":
        return number(variable) === number(expected);
      case "NumericGreater":
        return number(variable) > number(expected);
      case "NumericLesser":
        return number(variable) < number(expected);
      case "NumericGreaterOrEquals":
        return number(variable) >= number(expected);
      case "NumericLesserOrEquals":
        return number(variable) <= number(expected);
      case "BooleanEquals": {
        const asBool = (v: unknown): boolean =>
          typeof v === "boolean" ? v : String(v).toLowerCase() === "true";
        if (typeof variable !== "boolean" && !/^(true|false)$/i.test(text)) {
          throw new StepFailure(
            `Step fails when it is Evaluating choices: ${JSON.stringify(variable)} is not a Boolean.`,
          );
        }
        return asBool(variable) === asBool(expected);
      }
      default:
        throw new Error(
          `runbook-simulator: the choice operator ${operator} (in ${stepName}) is not simulated.`,
        );
    }
  }

  /**
   * aws:sleep: a Duration, or a Timestamp `YYYY-MM-DDThh:mm:ssZ` (a past one proceeds at once); at most 7 days.
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html
   */
  async #sleep(step: StepDefinition, record: StepExecution): Promise<void> {
    const inputs = this.substitute(step.inputs ?? {}, step.name) as Record<string, unknown>;
    record.inputs = inputs;
    const now = this.hooks.now?.() ?? new Date();
    let request: SleepRequest;
    if (typeof inputs.Duration === "string") {
      request = {
        stepName: step.name,
        duration: inputs.Duration,
        ms: isoDurationMs(inputs.Duration, step.name),
      };
    } else if (typeof inputs.Timestamp === "string") {
      if (!SLEEP_TIMESTAMP.test(inputs.Timestamp) || Number.isNaN(Date.parse(inputs.Timestamp))) {
        throw new Error(
          `runbook-simulator: aws:sleep ${step.name} got the Timestamp ${JSON.stringify(inputs.Timestamp)}; AWS documents YYYY-MM-DDThh:mm:ssZ.`,
        );
      }
      const ms = Math.max(0, Date.parse(inputs.Timestamp) - now.getTime());
      request = { stepName: step.name, timestamp: inputs.Timestamp, ms };
    } else {
      throw new Error(`runbook-simulator: aws:sleep step ${step.name} needs Duration or Timestamp.`);
    }
    if (request.ms > MAX_SLEEP_MS) {
      throw new Error(
        `runbook-simulator: aws:sleep ${step.name} would wait ${request.ms / 1000} s; AWS documents at most 604,799 s (7 days).`,
      );
    }
    // Never actually wait: record the request and let the test move its clock.
    this.execution.sleeps.push(request);
    await this.hooks.onSleep?.(request);
  }

  /**
   * aws:loop: the inner Steps run in order like a nested runbook (their onFailure applies, so an aborting
   * step ends the execution); a do-while loop evaluates LoopCondition after them and stops when it is false
   * or MaxIterations (default and maximum 100) is reached, even if it still holds; a for-each loop runs once
   * per Iterators item. Inside, `{{ LoopStep.CurrentIteration }}` (from 1) and, for Iterators,
   * `{{ LoopStep.CurrentIteratorValue }}`. Inputs are checked on parsing (runbook-checks.ts).
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html
   */
  async #loop(step: StepDefinition, record: StepExecution): Promise<void> {
    const inputs = step.inputs ?? {};
    const nested = inputs.Steps as StepDefinition[];
    const maxIterations = Number(this.substitute(inputs.MaxIterations ?? LOOP_MAX_ITERATIONS, step.name));
    if (!Number.isInteger(maxIterations) || maxIterations < 1 || maxIterations > LOOP_MAX_ITERATIONS) {
      throw new Error(
        `runbook-simulator: aws:loop ${step.name} has MaxIterations ${maxIterations}; it takes 1 to 100.`,
      );
    }
    const iterators =
      inputs.Iterators === undefined ? undefined : this.substitute(inputs.Iterators, step.name);
    if (iterators !== undefined && !Array.isArray(iterators)) {
      throw new StepFailure(`Step fails when it is Looping: Iterators is not a list.`);
    }
    if (iterators !== undefined && iterators.length > LOOP_MAX_ITERATIONS) {
      throw new Error(
        `runbook-simulator: aws:loop ${step.name} has ${iterators.length} Iterators; at most 100.`,
      );
    }
    record.inputs = { ...inputs, Iterators: iterators };
    const limit = Math.min(
      iterators === undefined ? maxIterations : iterators.length,
      this.hooks.loopMaxIterations ?? LOOP_MAX_ITERATIONS,
    );
    for (let iteration = 1; iteration <= limit; iteration++) {
      this.#outputs.set(`${step.name}.CurrentIteration`, iteration);
      if (iterators !== undefined)
        this.#outputs.set(`${step.name}.CurrentIteratorValue`, iterators[iteration - 1]);
      record.outputs = {
        CurrentIteration: iteration,
        ...(iterators ? { CurrentIteratorValue: iterators[iteration - 1] } : {}),
      };
      const completed = await this.steps(nested, { stepName: step.name, iteration });
      if (!completed) {
        // A nested step aborted the run; the loop step carries its status.
        record.status = this.execution.status === "Success" ? "Failed" : this.execution.status;
        record.failureMessage = this.execution.failureMessage;
        return;
      }
      if (
        iterators === undefined &&
        !this.#choice(inputs.LoopCondition as Record<string, unknown>, step.name)
      )
        return;
    }
  }

  /**
   * Runs a Python script for real (`python3`), as SSM does with its Python runtimes: calls the Handler with
   * the InputPayload as `events` and `None` as context; a raised exception fails the step with its message.
   */
  async #executeScript(step: StepDefinition, record: StepExecution): Promise<void> {
    const inputs = this.substitute(step.inputs ?? {}, step.name) as Record<string, unknown>;
    record.inputs = inputs;
    const runtime = String(inputs.Runtime ?? "");
    if (!PYTHON_RUNTIMES.has(runtime)) {
      throw new Error(
        `runbook-simulator: aws:executeScript ${step.name} uses Runtime ${runtime}; only ${[...PYTHON_RUNTIMES].join(" and ")} are simulated (python3.6-3.8 are retired).`,
      );
    }
    if (typeof inputs.Script !== "string" || typeof inputs.Handler !== "string") {
      throw new Error(
        `runbook-simulator: aws:executeScript ${step.name} needs an inline Script and a Handler.`,
      );
    }
    const outcome = await runPythonHandler(
      this.hooks.python ?? "python3",
      inputs.Script,
      inputs.Handler,
      inputs.InputPayload ?? {},
    );
    if (!outcome.ok) {
      throw new StepFailure(
        `Step fails when it is Execute/Invoking action. ${outcome.errorType}: ${outcome.message}`,
      );
    }
    const bytes = Buffer.byteLength(JSON.stringify(outcome.payload ?? null), "utf8");
    if (bytes > SCRIPT_PAYLOAD_MAX_BYTES) {
      throw new Error(
        `runbook-simulator: ${step.name}'s script returned ${bytes} bytes; the Payload output holds at most ${SCRIPT_PAYLOAD_MAX_BYTES}.`,
      );
    }
    const response = { Payload: outcome.payload ?? null };
    record.outputs = { Payload: outcome.payload ?? null };
    this.#publish(step.name, record.outputs);
    this.#selectOutputs(step, record, response);
  }

  /** Replaces `{{ variable }}` references; a value that is only a reference keeps its type. */
  substitute(value: unknown, stepName: string): unknown {
    if (typeof value === "string") {
      const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/.exec(value);
      if (whole?.[1] !== undefined) return this.#variable(whole[1], stepName);
      return value.replace(VARIABLE, (_match, name: string) => {
        const resolved = this.#variable(name, stepName);
        return typeof resolved === "string" ? resolved : JSON.stringify(resolved);
      });
    }
    if (Array.isArray(value)) return value.map((item) => this.substitute(item, stepName));
    if (isRecord(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.substitute(v, stepName)]));
    }
    return value;
  }

  #variable(name: string, stepName: string): unknown {
    const now = this.hooks.now?.() ?? new Date();
    const iso = now.toISOString();
    switch (name) {
      case "automation:EXECUTION_ID":
        return this.execution.executionId;
      case "global:ACCOUNT_ID":
        return this.hooks.accountId ?? "123456789012";
      case "global:REGION":
        return this.hooks.region ?? "us-east-1";
      case "global:AWS_PARTITION":
        return "aws";
      case "global:AWS_URL_SUFFIX":
        return "amazonaws.com";
      case "global:DATE":
        return iso.slice(0, 10);
      case "global:DATE_TIME":
        return `${iso.slice(0, 10)}_${iso.slice(11, 19).replaceAll(":", ".")}`;
      default:
        break;
    }
    if (name in this.execution.parameters) return this.execution.parameters[name];
    const unusable = this.#unusable.get(name);
    if (unusable !== undefined) {
      throw new Error(
        `runbook-simulator: step ${stepName} reads {{ ${name} }}, but ${unusable}; what Automation substitutes then is not documented.`,
      );
    }
    if (this.#outputs.has(name)) return this.#outputs.get(name);
    if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_]+$/.test(name)) {
      throw new Error(
        `runbook-simulator: step ${stepName} reads {{ ${name} }}, an output that step did not produce in this execution (it did not run, or has no such output); what Automation substitutes then is not documented.`,
      );
    }
    throw new Error(
      `runbook-simulator: step ${stepName} refers to {{ ${name} }}, which is neither a parameter nor a step output.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** Evaluates a selector like `$.Payload.status` or `$.Payload.repos[0].repo` against a response. */
export function select(value: unknown, selector: string): unknown {
  if (selector === "$") return value;
  if (!selector.startsWith("$.") && !selector.startsWith("$[")) {
    throw new Error(`runbook-simulator: selector ${selector} must start with "$."`);
  }
  const parts = selector.slice(1).match(/\.[^.[\]]+|\[\d+\]|\['[^']+'\]/g) ?? [];
  let current: unknown = value;
  for (const part of parts) {
    if (current === undefined || current === null) return undefined;
    if (part.startsWith("[") && !part.startsWith("['")) {
      current = Array.isArray(current) ? current[Number(part.slice(1, -1))] : undefined;
    } else {
      const key = part.startsWith("['") ? part.slice(2, -2) : part.slice(1);
      current = isRecord(current) ? current[key] : undefined;
    }
  }
  return current;
}

function coerceOutput(value: unknown, type: ParameterType): unknown {
  switch (type) {
    case "String":
      if (typeof value === "string") return value;
      return typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
    case "Integer":
      return typeof value === "number" && Number.isInteger(value) ? value : undefined;
    case "Boolean":
      return typeof value === "boolean" ? value : undefined;
    case "StringList":
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
    case "StringMap":
      return isRecord(value) ? value : undefined;
    case "MapList":
      return Array.isArray(value) && value.every(isRecord) ? value : undefined;
    default:
      return undefined;
  }
}

/** ISO 8601 durations as SSM's aws:sleep accepts them (e.g. PT10M, PT1H30M, P1D). */
export function isoDurationMs(duration: string, stepName = "?"): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(duration);
  if (!match || duration === "P" || duration.endsWith("T")) {
    throw new StepFailure(`Step fails when it is Sleeping: ${stepName} has an invalid Duration ${duration}.`);
  }
  const [, d = "0", h = "0", m = "0", s = "0"] = match;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60_000 + Number(s) * 1000;
}

function parseJsonInput(text: string, stepName: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StepFailure(`Step fails when it is Validating inputs: the Payload of ${stepName} is not JSON.`);
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function lastBytes(text: string, bytes: number): string {
  const buffer = Buffer.from(text, "utf8");
  return buffer.subarray(Math.max(0, buffer.length - bytes)).toString("utf8");
}

const PYTHON_HARNESS = `
import json, sys
script_path, handler_name, result_path = sys.argv[1], sys.argv[2], sys.argv[3]
namespace = {"__name__": "__ssm_script__"}
with open(script_path, encoding="utf-8") as source:
    exec(compile(source.read(), "script", "exec"), namespace)
events = json.loads(sys.stdin.read())
try:
    payload = namespace[handler_name](events, None)
    outcome = {"ok": True, "payload": payload}
except Exception as error:
    outcome = {"ok": False, "errorType": type(error).__name__, "message": str(error)}
with open(result_path, "w", encoding="utf-8") as out:
    json.dump(outcome, out, default=str)
`;

export interface PythonOutcome {
  readonly ok: boolean;
  readonly payload?: unknown;
  readonly errorType?: string;
  readonly message?: string;
}

/**
 * Runs `handler(events, None)` of a Python `script` with a real interpreter, as aws:executeScript does with its
 * Python runtimes: `events` is the step's InputPayload, the return value its Payload output, and an exception
 * fails the step with its message. `python` is a command on PATH (resolved once, so a version manager's shim
 * is not started for every step) or a path.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html
 */
export async function runPythonHandler(
  python: string,
  script: string,
  handler: string,
  events: unknown,
): Promise<PythonOutcome> {
  const interpreter = await resolvedPython(python);
  const dir = mkdtempSync(join(tmpdir(), "akm-ssm-script-"));
  try {
    const scriptPath = join(dir, "script.py");
    const harnessPath = join(dir, "harness.py");
    const resultPath = join(dir, "result.json");
    writeFileSync(scriptPath, script);
    writeFileSync(harnessPath, PYTHON_HARNESS);
    // -S: no site-packages; the scripts use the standard library only.
    const child = spawn(interpreter, ["-S", harnessPath, scriptPath, handler, resultPath], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    child.stdin.end(JSON.stringify(events));
    const code = await exited;
    try {
      return JSON.parse(readFileSync(resultPath, "utf8")) as PythonOutcome;
    } catch {
      return {
        ok: false,
        errorType: "ScriptError",
        message: `the script did not run (exit ${code}): ${stderr.trim()}`,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const interpreters = new Map<string, Promise<string>>();

/** The interpreter's own path (`sys.executable`), asked once per command. */
function resolvedPython(python: string): Promise<string> {
  let resolved = interpreters.get(python);
  if (resolved === undefined) {
    resolved = new Promise<string>((resolve) => {
      const child = spawn(python, ["-S", "-c", "import sys; print(sys.executable)"], { stdio: "pipe" });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
      });
      child.once("error", () => resolve(python));
      child.once("close", (code) => resolve(code === 0 && out.trim() !== "" ? out.trim() : python));
    });
    interpreters.set(python, resolved);
  }
  return resolved;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
