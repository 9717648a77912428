/**
 * The four runbooks as deployed: each AWS::SSM::Document's Content in the built template, with its
 * CloudFormation functions resolved to sample values.
 */
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { NameSchema, OwnerSchema } from "../../src/config/repos-config.ts";
import { HandlerEvent, type HandlerResult } from "../../src/handler-contract.ts";
import { isObject, type Json, type JsonObject, loadTemplate, resolveIntrinsics } from "../template/dist.ts";

const { template } = loadTemplate();

interface Step {
  name: string;
  action: string;
  inputs: JsonObject;
  outputs?: { Name: string; Selector: string; Type: string }[];
  nextStep?: string;
  isEnd?: boolean;
  onFailure?: string;
  timeoutSeconds?: number;
}
interface Runbook {
  schemaVersion: string;
  description: string;
  assumeRole: string;
  parameters: Record<string, { type: string; description?: string; default?: Json; allowedPattern?: string }>;
  outputs: string[];
  mainSteps: Step[];
}

const RUNBOOKS = {
  rAkmSsmAutomation: { action: "rotate", failureSteps: ["RotateFailed", "RetireFailed"] },
  rAkmSsmGetRepoList: { action: "list-repos", failureSteps: ["ListReposFailed"] },
  rAkmSsmAddRepoConfig: { action: "add-repo", failureSteps: ["AddRepoFailed"] },
  rAkmSsmDeleteRepoConfig: { action: "delete-repo", failureSteps: ["DeleteRepoFailed"] },
} as const;
type RunbookId = keyof typeof RUNBOOKS;
const IDS = Object.keys(RUNBOOKS) as RunbookId[];

function runbook(id: RunbookId): Runbook {
  const content = template.Resources[id]?.Properties.Content;
  if (!isObject(content)) throw new Error(`${id} has no Content`);
  return resolveIntrinsics(content) as unknown as Runbook;
}

function step(doc: Runbook, name: string): Step {
  const found = doc.mainSteps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

// Every field of HandlerResult, from a sample object TypeScript checks against the contract: a field added
// to or removed from HandlerResult breaks the build of this test until the list is updated.
const SAMPLE_RESULT = {
  next: "done",
  status: "Succeeded",
  summary: "",
  action: "rotate",
  dryRun: false,
  newAccessKeyId: "none",
  oldAccessKeyId: "none",
  retireAfter: "",
  resumeAt: "",
  eta: "none",
  progress: "",
  repoCounts: { total: 0, done: 0, failed: 0, mismatched: 0, remaining: 0 },
  failedRepos: [],
} satisfies HandlerResult;
const RESULT_TYPES: Record<string, string> = Object.fromEntries(
  Object.entries(SAMPLE_RESULT).map(([key, value]) => [
    key,
    typeof value === "number"
      ? "Integer"
      : typeof value === "boolean"
        ? "Boolean"
        : Array.isArray(value)
          ? "MapList"
          : typeof value === "object"
            ? "StringMap"
            : "String",
  ]),
);

// The outputs Automation adds by itself, per action (SSM user guide, each action's "Output").
const BUILT_IN_OUTPUTS: Record<string, readonly string[]> = {
  "aws:invokeLambdaFunction": ["StatusCode", "FunctionError", "LogResult", "Payload"],
  "aws:executeScript": ["Payload"],
};
const AUTOMATION_VARIABLES = [
  "automation:EXECUTION_ID",
  "global:ACCOUNT_ID",
  "global:REGION",
  "global:AWS_PARTITION",
];

// The only code any runbook carries: a Python handler that raises the function's summary. Automation has
// no action that fails with a given message, so this is how an execution ends Failed with a reason.
const FAIL_SCRIPT = 'def fail(events, context):\n    raise RuntimeError(events["Summary"])\n';

/**
 * AWS's JSON schema for Automation documents, as shipped by aws-ssm-document-language-service. It predates
 * the current aws:executeScript runtimes: its Runtime enum lists python3.6/3.7 and PowerShell Core 6.0,
 * which AWS has retired (python3.6-3.8 cannot run since 2025-02-18; shared/reference/platform-facts.md).
 * Only that enum is extended, with python3.11, the runtime the SSM user guide tells runbooks to move to.
 */
function automationSchema(): JsonObject {
  const require = createRequire(import.meta.url);
  const schema = structuredClone(require("aws-ssm-document-language-service/dist/schema.json")) as JsonObject;
  // The file says "http://json-schema.org/draft-07/schema" without the trailing "#" Ajv registers draft-07 under.
  schema.$schema = "http://json-schema.org/draft-07/schema#";
  const actions = dig(schema, "properties", "mainSteps", "items", "allOf") as JsonObject[];
  const executeScript = actions.find(
    (a) => dig(a, "if", "properties", "action", "const") === "aws:executeScript",
  );
  const runtimes = dig(
    executeScript ?? {},
    "then",
    "properties",
    "inputs",
    "properties",
    "Runtime",
    "oneOf",
    "0",
    "enum",
  );
  (runtimes as string[]).push("python3.11");
  return schema;
}

/** Follows keys through parsed JSON; fails naming the path when the schema's layout has changed. */
function dig(node: Json, ...path: string[]): Json {
  let current = node;
  for (const key of path) {
    const next = Array.isArray(current) ? current[Number(key)] : isObject(current) ? current[key] : undefined;
    if (next === undefined)
      throw new Error(`the Automation schema has no ${path.join(".")}; revisit this test`);
    current = next;
  }
  return current;
}

// unicodeRegExp off: the schema's `{{ }}` patterns are valid only without the u flag (as in AWS's own tooling).
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(ajv);
const validateAutomation = ajv.compile(automationSchema());

/** Sample runtime values for each parameter, as Automation would substitute them. */
function sampleParameters(doc: Runbook): Record<string, Json> {
  const values: Record<string, Json> = { "automation:EXECUTION_ID": "0c5d2b0e-1b2f-4c7e-9f6a-1a2b3c4d5e6f" };
  for (const [name, p] of Object.entries(doc.parameters)) {
    values[name] =
      p.default ?? (name === "GITHUBOWNER" ? "octo-org" : name === "GITHUBREPO" ? "hello-world" : "x");
  }
  return values;
}

/** Substitutes `{{ X }}`: a string that is only a reference takes the value's type, as Automation does. */
function substitute(node: Json, values: Record<string, Json>): Json {
  if (typeof node === "string") {
    const whole = /^\{\{\s*([\w:.]+)\s*\}\}$/.exec(node);
    if (whole?.[1] && whole[1] in values) return values[whole[1]] as Json;
    return node.replace(/\{\{\s*([\w:.]+)\s*\}\}/g, (_, name: string) =>
      String(values[name] ?? `{{${name}}}`),
    );
  }
  if (Array.isArray(node)) return node.map((item) => substitute(item, values));
  if (isObject(node))
    return Object.fromEntries(Object.entries(node).map(([k, val]) => [k, substitute(val, values)]));
  return node;
}

/** Steps that can run after `s`: branch targets, nextStep, the following step (unless isEnd), onFailure. */
function successors(doc: Runbook, s: Step): string[] {
  const out: string[] = [];
  const index = doc.mainSteps.indexOf(s);
  if (s.action === "aws:branch") {
    for (const choice of (s.inputs.Choices as JsonObject[]) ?? []) out.push(String(choice.NextStep));
    if (typeof s.inputs.Default === "string") out.push(s.inputs.Default);
    else if (!s.isEnd && doc.mainSteps[index + 1]) out.push(doc.mainSteps[index + 1]?.name as string);
  } else if (s.nextStep) {
    out.push(s.nextStep);
  } else if (!s.isEnd && doc.mainSteps[index + 1]) {
    out.push(doc.mainSteps[index + 1]?.name as string);
  }
  if (s.onFailure?.startsWith("step:")) out.push(s.onFailure.slice(5));
  return out;
}

describe.each(IDS)("runbook %s", (id) => {
  const doc = runbook(id);
  const lambdaSteps = doc.mainSteps.filter((s) => s.action === "aws:invokeLambdaFunction");

  it("validates against AWS's Automation document schema", () => {
    const valid = validateAutomation(doc);
    expect(validateAutomation.errors ?? [], JSON.stringify(validateAutomation.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);
  });

  it("fits well within the 64 KB limit of an SSM document", () => {
    expect(Buffer.byteLength(stringify(doc), "utf8")).toBeLessThan(32 * 1024);
  });

  it("runs as the stack's runbook role by default", () => {
    expect(doc.assumeRole).toBe("{{ AutomationAssumeRole }}");
    expect(doc.parameters.AutomationAssumeRole?.default).toBe(
      resolveIntrinsics({ "Fn::GetAtt": ["rSsmRole", "Arn"] }),
    );
    expect(
      new RegExp(String(doc.parameters.AutomationAssumeRole?.allowedPattern)).test(
        "arn:aws-cn:iam::123456789012:role/GHS-AKM-SSM-ci.user",
      ),
    ).toBe(true);
  });

  it("explains itself in Markdown and documents every parameter", () => {
    expect(doc.description).toMatch(/^# \S.+\n\n/);
    for (const [name, p] of Object.entries(doc.parameters))
      expect(p.description, name).toMatch(/\w{3,}.{10,}/);
  });

  it("resolves every {{ reference }} to a parameter, an automation variable or a step output", () => {
    const known = new Set<string>([...Object.keys(doc.parameters), ...AUTOMATION_VARIABLES]);
    for (const s of doc.mainSteps) {
      for (const output of s.outputs ?? []) known.add(`${s.name}.${output.Name}`);
      for (const builtIn of BUILT_IN_OUTPUTS[s.action] ?? []) known.add(`${s.name}.${builtIn}`);
    }
    const references = [...JSON.stringify(doc).matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((m) => m[1]);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) expect(known.has(String(reference)), String(reference)).toBe(true);
    for (const output of doc.outputs) expect(known.has(output), output).toBe(true);
  });

  it("invokes the stack's function with events the handler accepts", () => {
    expect(lambdaSteps.length).toBeGreaterThan(0);
    const values = sampleParameters(doc);
    for (const s of lambdaSteps) {
      expect(s.inputs.FunctionName).toBe("rAkmFunction-physical-id");
      const payload = substitute(s.inputs.InputPayload as Json, values);
      const parsed = v.safeParse(HandlerEvent, payload);
      expect(parsed.issues ?? [], `${s.name}: ${JSON.stringify(payload)}`).toEqual([]);
    }
    expect(lambdaSteps[0]?.inputs.InputPayload).toMatchObject({ action: RUNBOOKS[id].action });
  });

  it("selects only fields of HandlerResult, with matching output types", () => {
    for (const s of lambdaSteps) {
      for (const output of s.outputs ?? []) {
        const field = /^\$\.Payload\.(\w+)$/.exec(output.Selector)?.[1];
        expect(field && field in RESULT_TYPES, `${s.name}.${output.Name}: ${output.Selector}`).toBe(true);
        expect(output.Type, `${s.name}.${output.Name}`).toBe(RESULT_TYPES[field as string]);
      }
      expect(s.outputs?.map((o) => o.Selector)).toEqual(
        expect.arrayContaining(["$.Payload.status", "$.Payload.summary"]),
      );
    }
  });

  it("shows summaries and key IDs as outputs, never a secret", () => {
    for (const output of doc.outputs) {
      expect(output).toMatch(/\.(Summary|Progress|NewAccessKeyId|OldAccessKeyId|RetireAfter)$/);
    }
  });

  it("waits no longer for a Lambda step than the action allows, and longer than the function runs", () => {
    const timeout = template.Resources.rAkmFunction?.Properties.Timeout as number;
    for (const s of lambdaSteps) {
      expect(s.timeoutSeconds).toBeLessThanOrEqual(300);
      expect(s.timeoutSeconds).toBeGreaterThan(timeout);
    }
  });

  it("ends Failed with the function's summary when a step does not succeed", () => {
    for (const s of lambdaSteps) {
      // The step right after each invocation is the branch that checks its status.
      const check = doc.mainSteps[doc.mainSteps.indexOf(s) + 1] as Step;
      expect(check.action).toBe("aws:branch");
      const choices = check.inputs.Choices as JsonObject[];
      const failure = choices.find(
        (c) =>
          isObject(c.Not) &&
          c.Not.Variable === `{{ ${s.name}.Status }}` &&
          c.Not.StringEquals === "Succeeded",
      );
      expect(failure, `${check.name} routes anything but Succeeded to a failure step`).toBeDefined();
      const failStep = step(doc, String(failure?.NextStep));
      expect(failStep).toMatchObject({
        action: "aws:executeScript",
        isEnd: true,
        inputs: {
          Runtime: "python3.11",
          Handler: "fail",
          Script: FAIL_SCRIPT,
          InputPayload: { Summary: `{{ ${s.name}.Summary }}` },
        },
      });
    }
  });

  it("carries no code but the fixed failure script", () => {
    const scripts = doc.mainSteps.filter((s) => s.action === "aws:executeScript");
    expect(scripts.map((s) => s.name).sort()).toEqual([...RUNBOOKS[id].failureSteps].sort());
    for (const s of scripts) expect(s.inputs.Script).toBe(FAIL_SCRIPT);
  });

  it("reaches every step, and reaches failure steps only through a status check", () => {
    const reached = new Set<string>();
    const pending = [doc.mainSteps[0] as Step];
    while (pending.length > 0) {
      const s = pending.pop() as Step;
      if (reached.has(s.name)) continue;
      reached.add(s.name);
      for (const next of successors(doc, s)) pending.push(step(doc, next));
    }
    expect([...reached].sort()).toEqual(doc.mainSteps.map((s) => s.name).sort());
    for (const s of doc.mainSteps) {
      if (s.action === "aws:branch") continue;
      for (const next of successors(doc, s)) {
        expect(
          RUNBOOKS[id].failureSteps as readonly string[],
          `${s.name} falls through to ${next}`,
        ).not.toContain(next);
      }
    }
  });
});

describe("the Rotate runbook", () => {
  const doc = runbook("rAkmSsmAutomation");

  it("takes DryRun and ReplaceOlderKey, both off by default", () => {
    expect(doc.parameters.DryRun).toMatchObject({ type: "Boolean", default: false });
    expect(doc.parameters.ReplaceOlderKey).toMatchObject({ type: "Boolean", default: false });
  });

  it.each([true, false, "true", "false"])("passes DryRun %j through to the handler as a flag", (dryRun) => {
    const values = { ...sampleParameters(doc), DryRun: dryRun, ReplaceOlderKey: dryRun };
    const parsed = v.parse(HandlerEvent, substitute(step(doc, "Rotate").inputs.InputPayload as Json, values));
    expect(parsed).toMatchObject({ action: "rotate", dryRun: String(dryRun) === "true" });
  });

  it("invokes Rotate again while the function reports InProgress", () => {
    expect((step(doc, "CheckRotate").inputs.Choices as JsonObject[])[0]).toEqual({
      NextStep: "Rotate",
      And: [
        { Variable: "{{ Rotate.Status }}", StringEquals: "InProgress" },
        { Variable: "{{ Rotate.ResumeAt }}", StringEquals: "" },
      ],
    });
    expect((step(doc, "CheckRetire").inputs.Choices as JsonObject[])[0]).toEqual({
      NextStep: "Retire",
      Variable: "{{ Retire.Status }}",
      StringEquals: "InProgress",
    });
  });

  it("sleeps until the function's resumeAt when GitHub's write budget is used up, then invokes Rotate again", () => {
    expect((step(doc, "CheckRotate").inputs.Choices as JsonObject[])[1]).toEqual({
      NextStep: "WaitForWriteBudget",
      Variable: "{{ Rotate.Status }}",
      StringEquals: "InProgress",
    });
    expect(step(doc, "WaitForWriteBudget")).toMatchObject({
      action: "aws:sleep",
      nextStep: "Rotate",
      inputs: { Timestamp: "{{ Rotate.ResumeAt }}" },
    });
  });

  it("shows the rotation's progress (done, remaining, estimated end) as an output", () => {
    expect(doc.outputs).toContain("Rotate.Progress");
    expect(step(doc, "Rotate").outputs).toEqual(
      expect.arrayContaining([
        { Name: "Progress", Selector: "$.Payload.progress", Type: "String" },
        { Name: "ResumeAt", Selector: "$.Payload.resumeAt", Type: "String" },
        { Name: "Eta", Selector: "$.Payload.eta", Type: "String" },
      ]),
    );
  });

  it("waits for the grace period only after a real rotation that has an old key to retire", () => {
    const toWait = (step(doc, "CheckRotate").inputs.Choices as JsonObject[]).find(
      (c) => c.NextStep === "WaitForGracePeriod",
    );
    expect(toWait).toEqual({
      NextStep: "WaitForGracePeriod",
      And: [
        { Variable: "{{ DryRun }}", BooleanEquals: false },
        { Not: { Variable: "{{ Rotate.RetireAfter }}", StringEquals: "" } },
      ],
    });
    // Otherwise the execution ends successfully at the check.
    expect(step(doc, "CheckRotate").isEnd).toBe(true);
    expect(step(doc, "CheckRotate").inputs.Default).toBeUndefined();
  });

  it("sleeps until the function's retireAfter time, then retires the old key", () => {
    expect(step(doc, "WaitForGracePeriod")).toMatchObject({
      action: "aws:sleep",
      inputs: { Timestamp: "{{ Rotate.RetireAfter }}" },
    });
    const names = doc.mainSteps.map((s) => s.name);
    expect(names.indexOf("Retire")).toBe(names.indexOf("WaitForGracePeriod") + 1);
    expect(step(doc, "Retire").inputs.InputPayload).toEqual({
      action: "retire",
      executionId: "{{ automation:EXECUTION_ID }}",
    });
  });

  it("identifies its invocations by the execution ID, so a re-invocation continues the same rotation", () => {
    for (const name of ["Rotate", "Retire"]) {
      expect((step(doc, name).inputs.InputPayload as JsonObject).executionId).toBe(
        "{{ automation:EXECUTION_ID }}",
      );
    }
  });
});

describe.each(["rAkmSsmAddRepoConfig", "rAkmSsmDeleteRepoConfig"] as const)("runbook %s parameters", (id) => {
  const doc = runbook(id);
  const ownerPattern = new RegExp(String(doc.parameters.GITHUBOWNER?.allowedPattern));
  const namePattern = new RegExp(String(doc.parameters.GITHUBREPO?.allowedPattern));

  it("keeps the original parameter names GITHUBOWNER and GITHUBREPO, as required strings", () => {
    expect(doc.parameters.GITHUBOWNER).toMatchObject({ type: "String" });
    expect(doc.parameters.GITHUBREPO).toMatchObject({ type: "String" });
    expect(doc.parameters.GITHUBOWNER?.default).toBeUndefined();
    expect(doc.parameters.GITHUBREPO?.default).toBeUndefined();
  });

  it("never rejects an owner or repository name the function accepts", () => {
    const ownerChars = fc.constantFrom(..."abcXYZ019-_.");
    fc.assert(
      fc.property(fc.string({ unit: ownerChars, minLength: 1, maxLength: 45 }), (owner) => {
        if (v.is(OwnerSchema, owner)) expect(ownerPattern.test(owner)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: ownerChars, minLength: 1, maxLength: 105 }), (name) => {
        if (v.is(NameSchema, name)) expect(namePattern.test(name)).toBe(true);
      }),
    );
  });

  it.each(["-leading", "trailing-", "has space", "a/b", "x".repeat(40)])(
    "rejects the owner %j early",
    (owner) => {
      expect(ownerPattern.test(owner)).toBe(false);
    },
  );

  it.each(["has space", "a/b", "", "x".repeat(101)])("rejects the repository name %j early", (name) => {
    expect(namePattern.test(name)).toBe(false);
  });
});
