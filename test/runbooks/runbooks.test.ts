/**
 * The four runbooks as deployed: each AWS::SSM::Document's Content in the built template, with its
 * CloudFormation functions resolved to sample values. They must rely on documented Automation behaviour only
 * (shared/reference/platform-facts.md, "What AWS documents about Automation").
 */
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  allSteps,
  type CheckedDocument,
  documentProblems,
  innerSteps,
  references,
} from "../../scripts/local-stack/runbook-checks.ts";
import { runPythonHandler } from "../../scripts/local-stack/runbook-simulator.ts";
import { NameSchema, OwnerSchema } from "../../src/config/repos-config.ts";
import { HandlerEvent, type HandlerResult, STARTED_BY } from "../../src/handler-contract.ts";
import { isObject, type Json, type JsonObject, loadTemplate, resolveIntrinsics } from "../template/dist.ts";
import { automationSchema } from "./automation-schema.ts";

const { template } = loadTemplate();

interface Step {
  name: string;
  action: string;
  inputs: JsonObject;
  outputs?: { Name: string; Selector: string; Type: string }[];
  nextStep?: string;
  isEnd?: boolean;
  onFailure?: string;
  maxAttempts?: number;
  timeoutSeconds?: number;
  description?: string;
}
interface Runbook extends CheckedDocument {
  schemaVersion: string;
  description: string;
  assumeRole: string;
  parameters?: Record<
    string,
    { type: string; description?: string; default?: Json; allowedPattern?: string; allowedValues?: Json[] }
  >;
  outputs: string[];
  mainSteps: Step[];
}

const RUNBOOKS = {
  rAkmSsmAutomation: {
    invokes: { Start: "rotate-start", Rotate: "rotate", RotateResult: "rotate-result", Retire: "retire" },
  },
  rAkmSsmGetRepoList: { invokes: { ListRepos: "list-repos" } },
  rAkmSsmAddRepoConfig: { invokes: { AddRepo: "add-repo" } },
  rAkmSsmDeleteRepoConfig: { invokes: { DeleteRepo: "delete-repo" } },
} as const;
type RunbookId = keyof typeof RUNBOOKS;
const IDS = Object.keys(RUNBOOKS) as RunbookId[];

function runbook(id: RunbookId): Runbook {
  const content = template.Resources[id]?.Properties.Content;
  if (!isObject(content)) throw new Error(`${id} has no Content`);
  return resolveIntrinsics(content) as unknown as Runbook;
}

/** Every step, loops' inner steps included. */
function stepsOf(doc: Runbook): Step[] {
  return allSteps(doc).map(({ step }) => step as Step);
}

function step(doc: Runbook, name: string): Step {
  const found = stepsOf(doc).find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
}

/** The step after `s` in the list that holds it (mainSteps or a loop's Steps). */
function following(doc: Runbook, s: Step): Step | undefined {
  const lists = [doc.mainSteps, ...stepsOf(doc).map((x) => innerSteps(x) as Step[])];
  const list = lists.find((l) => l.includes(s)) ?? [];
  return list[list.indexOf(s) + 1];
}

// Every field of HandlerResult, from a sample object TypeScript checks against the contract: a field added
// to or removed from HandlerResult breaks the build of this test until the list is updated.
const SAMPLE_RESULT = {
  next: "done",
  status: "Succeeded",
  summary: "Rotation done.",
  action: "rotate",
  dryRun: false,
  newAccessKeyId: "TESTKEYNEW000000001",
  oldAccessKeyId: "none",
  retireAfter: "2030-01-01T01:00:00Z",
  resumeAt: "2030-01-01T00:00:00Z",
  eta: "none",
  progress: "no repositories",
  repoCounts: { total: 0, done: 0, failed: 0, mismatched: 0, remaining: 0 },
  failedRepos: [],
} satisfies HandlerResult;

// The outputs Automation adds by itself, per action (SSM user guide, each action's "Output").
const BUILT_IN_OUTPUTS: Record<string, readonly string[]> = {
  "aws:invokeLambdaFunction": ["StatusCode", "FunctionError", "LogResult", "Payload"],
  "aws:executeScript": ["Payload"],
  "aws:loop": ["CurrentIteration", "CurrentIteratorValue"],
};
const AUTOMATION_VARIABLES = [
  "automation:EXECUTION_ID",
  "global:ACCOUNT_ID",
  "global:REGION",
  "global:AWS_PARTITION",
];

// unicodeRegExp off: the schema's `{{ }}` patterns are valid only without the u flag (as in AWS's own tooling).
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats.default(ajv);
const validateAutomation = ajv.compile(automationSchema());

/** Sample runtime values for each parameter, as Automation would substitute them (the defaults, and a repository). */
function sampleParameters(doc: Runbook): Record<string, Json> {
  const values: Record<string, Json> = { "automation:EXECUTION_ID": "0c5d2b0e-1b2f-4c7e-9f6a-1a2b3c4d5e6f" };
  for (const [name, p] of Object.entries(doc.parameters ?? {})) {
    values[name] =
      name === "GITHUBOWNER" ? "octo-org" : name === "GITHUBREPO" ? "hello-world" : (p.default ?? "x");
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

/** The check script (the same in every runbook) and the fields it returns for a complete answer. */
const CHECK = (() => {
  const check = step(runbook("rAkmSsmAutomation"), "CheckRotate");
  return { script: String(check.inputs.Script), handler: String(check.inputs.Handler) };
})();
const checkedFields = (async () => {
  const outcome = await runPythonHandler("python3", CHECK.script, CHECK.handler, { Payload: SAMPLE_RESULT });
  if (!outcome.ok) throw new Error(`the check script refuses a complete answer: ${outcome.message}`);
  return new Set(Object.keys(outcome.payload as JsonObject));
})();

describe("the extended Automation schema", () => {
  const loop = (inputs: JsonObject): JsonObject => ({
    schemaVersion: "0.3",
    mainSteps: [{ name: "Repeat", action: "aws:loop", inputs }],
  });
  const inner = [{ name: "Wait", action: "aws:sleep", inputs: { Duration: "PT1S" } }];
  const condition = { Variable: "{{ Wait.X }}", StringEquals: "again" };

  it("accepts the do-while and for-each loops of AWS's aws:loop page", () => {
    // Act
    const doWhile = validateAutomation(loop({ Steps: inner, LoopCondition: condition, MaxIterations: 3 }));
    const forEach = validateAutomation(
      loop({ Iterators: "{{ Describe.InstanceIds }}", IteratorDataType: "String", Steps: inner }),
    );

    // Assess
    expect([doWhile, forEach]).toEqual([true, true]);
  });

  it.each([
    ["both Iterators and LoopCondition", { Steps: inner, Iterators: ["a"], LoopCondition: condition }],
    ["neither Iterators nor LoopCondition", { Steps: inner }],
    ["MaxIterations 101", { Steps: inner, LoopCondition: condition, MaxIterations: 101 }],
    ["MaxIterations 0", { Steps: inner, LoopCondition: condition, MaxIterations: 0 }],
    ["no Steps", { LoopCondition: condition }],
    [
      "an inner step without inputs",
      { LoopCondition: condition, Steps: [{ name: "X", action: "aws:sleep" }] },
    ],
    ["an unknown input", { Steps: inner, LoopCondition: condition, Until: "done" }],
    ["a condition with two operators", { Steps: inner, LoopCondition: { ...condition, StartsWith: "a" } }],
    [
      "IteratorDataType without Iterators",
      { Steps: inner, LoopCondition: condition, IteratorDataType: "String" },
    ],
  ])("rejects a loop with %s", (_, inputs) => {
    // Act
    const valid = validateAutomation(loop(inputs as JsonObject));

    // Assess
    expect(valid).toBe(false);
  });

  it("accepts today's aws:executeScript runtimes and rejects retired ones", () => {
    // Prepare
    const script = (Runtime: string): JsonObject => ({
      schemaVersion: "0.3",
      mainSteps: [{ name: "S", action: "aws:executeScript", inputs: { Runtime, Handler: "h", Script: "" } }],
    });

    // Act
    const accepted = ["python3.10", "python3.11", "PowerShell 7.4"].map((r) => validateAutomation(script(r)));
    const rejected = ["python3.7", "python3.8", "PowerShell Core 6.0"].map((r) =>
      validateAutomation(script(r)),
    );

    // Assess
    expect(accepted).toEqual([true, true, true]);
    expect(rejected).toEqual([false, false, false]);
  });
});

describe.each(IDS)("runbook %s", (id) => {
  const doc = runbook(id);
  const steps = stepsOf(doc);
  const invokeSteps = steps.filter((s) => s.action === "aws:invokeLambdaFunction");
  const checkSteps = steps.filter((s) => s.action === "aws:executeScript");
  const byName = new Map(steps.map((s) => [s.name, s]));

  it("validates against AWS's Automation document schema, extended with aws:loop", () => {
    const valid = validateAutomation(doc);
    expect(validateAutomation.errors ?? [], JSON.stringify(validateAutomation.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);
  });

  it("fits well within the 64 KB limit of an SSM document", () => {
    expect(Buffer.byteLength(stringify(doc), "utf8")).toBeLessThan(32 * 1024);
  });

  it("runs as the stack's runbook role, which no parameter can change", () => {
    expect(doc.assumeRole).toBe(resolveIntrinsics({ "Fn::GetAtt": ["rSsmRole", "Arn"] }));
    expect(JSON.stringify(doc)).not.toContain("AutomationAssumeRole");
  });

  it("explains itself in Markdown and documents every parameter", () => {
    expect(doc.description).toMatch(/^# \S.+\n\n/);
    for (const [name, p] of Object.entries(doc.parameters ?? {}))
      expect(p.description, name).toMatch(/\w{3,}.{10,}/);
  });

  it("has no back-edge, reads no inner step's output after its loop, and uses aws:loop as documented", () => {
    expect(documentProblems(doc)).toEqual([]);
  });

  it("never jumps inside a loop (branching within aws:loop's Steps is not documented)", () => {
    for (const loop of steps.filter((s) => s.action === "aws:loop")) {
      for (const inner of innerSteps(loop) as Step[]) {
        expect(inner.action, inner.name).not.toBe("aws:branch");
        expect(inner.nextStep, inner.name).toBeUndefined();
        expect(inner.isEnd, inner.name).toBeUndefined();
        expect(inner.onFailure ?? "Abort", inner.name).toMatch(/^(Abort|Continue)$/);
      }
    }
  });

  it("names a Default in every branch, so no step depends on what an unmatched branch does", () => {
    for (const branch of steps.filter((s) => s.action === "aws:branch")) {
      expect(typeof branch.inputs.Default, branch.name).toBe("string");
    }
  });

  it("resolves every {{ reference }} to a parameter, an automation variable or a step output", () => {
    const known = new Set<string>([...Object.keys(doc.parameters ?? {}), ...AUTOMATION_VARIABLES]);
    for (const s of steps) {
      for (const output of s.outputs ?? []) known.add(`${s.name}.${output.Name}`);
      for (const builtIn of BUILT_IN_OUTPUTS[s.action] ?? []) known.add(`${s.name}.${builtIn}`);
    }
    const all = references(doc as unknown as Json);
    expect(all.length).toBeGreaterThan(0);
    for (const reference of [...all, ...doc.outputs]) expect(known.has(reference), reference).toBe(true);
  });

  it("invokes the stack's function with events the handler accepts, with LogType None", () => {
    const values = sampleParameters(doc);
    expect(invokeSteps.map((s) => s.name).sort()).toEqual(Object.keys(RUNBOOKS[id].invokes).sort());
    for (const s of invokeSteps) {
      expect(s.inputs.FunctionName).toBe("rAkmFunction-physical-id");
      // The default, Tail, would copy the last 4 KB of the function's log into the step's outputs.
      expect(s.inputs.LogType, s.name).toBe("None");
      const payload = substitute(s.inputs.InputPayload as Json, values);
      const parsed = v.safeParse(HandlerEvent, payload);
      expect(parsed.issues ?? [], `${s.name}: ${JSON.stringify(payload)}`).toEqual([]);
      expect(payload, s.name).toMatchObject({
        action: RUNBOOKS[id].invokes[s.name as keyof (typeof RUNBOOKS)[typeof id]["invokes"]],
      });
    }
  });

  it("waits no longer for a Lambda step than the action allows, and longer than the function runs", () => {
    const timeout = template.Resources.rAkmFunction?.Properties.Timeout as number;
    for (const s of invokeSteps) {
      expect(s.timeoutSeconds).toBeLessThanOrEqual(300);
      expect(s.timeoutSeconds).toBeGreaterThan(timeout);
      expect(s.maxAttempts, s.name).toBe(1);
    }
  });

  it("checks every invocation's documented Payload output with the shared script, ending Failed otherwise", () => {
    for (const s of invokeSteps) {
      const check = following(doc, s);
      expect(check, `the step after ${s.name}`).toMatchObject({
        action: "aws:executeScript",
        onFailure: "Abort",
        inputs: {
          Runtime: "python3.11",
          Handler: CHECK.handler,
          Script: CHECK.script,
          InputPayload: { Payload: `{{ ${s.name}.Payload }}` },
        },
      });
      // The invoke step itself aborts the execution if Automation fails it on FunctionError.
      expect(s.onFailure, s.name).toBe("Abort");
    }
    expect(checkSteps).toHaveLength(invokeSteps.length);
  });

  it("carries no code but the check script", () => {
    for (const s of checkSteps) expect(s.inputs.Script, s.name).toBe(CHECK.script);
  });

  it("selects only fields of HandlerResult the check script returns, as Strings", async () => {
    const fields = await checkedFields;
    for (const s of invokeSteps) expect(s.outputs ?? [], s.name).toEqual([]);
    for (const s of checkSteps) {
      for (const output of s.outputs ?? []) {
        const field = /^\$\.Payload\.(\w+)$/.exec(output.Selector)?.[1] ?? "";
        expect(field in SAMPLE_RESULT, `${s.name}.${output.Name}: ${output.Selector}`).toBe(true);
        expect(fields.has(field), `${s.name}.${output.Name}: ${output.Selector}`).toBe(true);
        expect(output.Type, `${s.name}.${output.Name}`).toBe("String");
      }
    }
  });

  it('reads nothing that may be "" or unset in a branch, a sleep or an input', async () => {
    const fields = await checkedFields;
    for (const reader of steps) {
      const own = reader.action === "aws:loop" ? { ...reader.inputs, Steps: null } : reader.inputs;
      for (const reference of references(own)) {
        const [owner = "", name = ""] = reference.split(".");
        const source = byName.get(owner);
        if (source === undefined) continue; // a parameter or an automation variable
        const where = `${reader.name} reads {{ ${reference} }}`;
        if (source.action === "aws:invokeLambdaFunction") {
          // The documented Payload output of a RequestResponse invocation: the answer, or Lambda's error.
          expect(name, where).toBe("Payload");
        } else if (source.action === "aws:loop") {
          expect(name, where).toBe("CurrentIteration");
        } else {
          // A check step: it fails unless each field it returns is a non-empty string.
          const output = source.outputs?.find((o) => o.Name === name);
          const field = /^\$\.Payload\.(\w+)$/.exec(output?.Selector ?? "")?.[1] ?? "";
          expect(source.action, where).toBe("aws:executeScript");
          expect(fields.has(field), where).toBe(true);
        }
      }
    }
  });

  it("shows summaries, progress and key IDs as outputs, never a secret", () => {
    expect(doc.outputs.length).toBeGreaterThan(0);
    for (const output of doc.outputs) {
      expect(output).toMatch(/^Check\w+\.(Summary|Progress|Next|NewAccessKeyId|OldAccessKeyId|RetireAfter)$/);
    }
  });
});

describe("the Rotate runbook", () => {
  const doc = runbook("rAkmSsmAutomation");
  const names = (list: readonly { name: string }[]) => list.map((s) => s.name);

  it("takes DryRun and ReplaceOlderKey, both off by default, and StartedBy, a user's run by default, and nothing else", () => {
    expect(doc.parameters).toEqual({
      DryRun: expect.objectContaining({ type: "Boolean", default: false }),
      ReplaceOlderKey: expect.objectContaining({ type: "Boolean", default: false }),
      StartedBy: expect.objectContaining({
        type: "String",
        default: "user",
        allowedValues: [...STARTED_BY],
      }),
    });
  });

  it.each(STARTED_BY)(
    "passes StartedBy %s to Start and Retire, the steps that may leave to another execution",
    (by) => {
      const values = { ...sampleParameters(doc), StartedBy: by };
      for (const name of ["Start", "Retire"]) {
        const parsed = v.parse(HandlerEvent, substitute(step(doc, name).inputs.InputPayload as Json, values));
        expect(parsed, name).toMatchObject({ startedBy: by });
      }
    },
  );

  it.each([true, false, "true", "false"])("passes DryRun %j to every invocation as a flag", (dryRun) => {
    const values = { ...sampleParameters(doc), DryRun: dryRun, ReplaceOlderKey: dryRun };
    for (const name of ["Start", "Rotate", "RotateResult", "Retire"]) {
      const parsed = v.parse(HandlerEvent, substitute(step(doc, name).inputs.InputPayload as Json, values));
      expect(parsed, name).toMatchObject({ dryRun: String(dryRun) === "true" });
    }
  });

  it("identifies its invocations by the execution ID, so each one continues the same rotation", () => {
    for (const name of ["Start", "Rotate", "RotateResult", "Retire"]) {
      expect((step(doc, name).inputs.InputPayload as JsonObject).executionId, name).toBe(
        "{{ automation:EXECUTION_ID }}",
      );
    }
  });

  it("invokes Rotate, checks it and waits for GitHub's write budget, while the function answers again, at most 100 times", () => {
    const loop = step(doc, "RotateLoop");
    expect(loop.action).toBe("aws:loop");
    expect(loop.inputs.MaxIterations).toBe(100);
    expect(loop.inputs.LoopCondition).toEqual({ Variable: "{{ CheckRotate.Next }}", StringEquals: "again" });
    expect(names(innerSteps(loop))).toEqual(["Rotate", "CheckRotate", "WaitForWriteBudget"]);
    expect(step(doc, "WaitForWriteBudget")).toMatchObject({
      action: "aws:sleep",
      inputs: { Timestamp: "{{ CheckRotate.ResumeAt }}" },
    });
  });

  it("first takes the rotation lock, and ends at once when the schedule started it while another execution rotates", () => {
    expect(names(doc.mainSteps).slice(0, 4)).toEqual(["Start", "CheckStart", "ChooseStart", "RotateLoop"]);
    expect(step(doc, "ChooseStart").inputs).toEqual({
      Choices: [
        { NextStep: "LeftToRotationInProgress", Variable: "{{ CheckStart.Next }}", StringEquals: "leave" },
      ],
      Default: "RotateLoop",
    });
    expect(step(doc, "LeftToRotationInProgress")).toMatchObject({ action: "aws:sleep", isEnd: true });
    expect(step(doc, "LeftToRotationInProgress").description).toMatch(/CheckStart\.Summary names it/);
  });

  it("then asks where the rotation stands and retires, ends unfinished (continues at the next run) or ends done", () => {
    expect(names(doc.mainSteps)).toEqual([
      "Start",
      "CheckStart",
      "ChooseStart",
      "RotateLoop",
      "RotateResult",
      "CheckRotateResult",
      "ChooseNext",
      "WaitForGracePeriod",
      "Retire",
      "CheckRetire",
      "ContinuesAtNextRun",
      "RotationDone",
      "LeftToRotationInProgress",
    ]);
    expect(step(doc, "ChooseNext").inputs).toEqual({
      Choices: [
        { NextStep: "WaitForGracePeriod", Variable: "{{ CheckRotateResult.Next }}", StringEquals: "retire" },
        {
          NextStep: "ContinuesAtNextRun",
          Variable: "{{ CheckRotateResult.Next }}",
          StringEquals: "continues",
        },
      ],
      Default: "RotationDone",
    });
    expect(step(doc, "WaitForGracePeriod")).toMatchObject({
      action: "aws:sleep",
      inputs: { Timestamp: "{{ CheckRotateResult.RetireAfter }}" },
    });
    for (const end of ["CheckRetire", "ContinuesAtNextRun", "RotationDone"]) {
      expect(step(doc, end).isEnd, end).toBe(true);
    }
    expect(step(doc, "ContinuesAtNextRun").description).toMatch(/next run/);
  });

  it("shows the start's answer, the rotation's result, progress and key IDs, and the retirement's summary", () => {
    expect(doc.outputs).toEqual([
      "CheckStart.Summary",
      "CheckStart.Next",
      "CheckRotateResult.Summary",
      "CheckRotateResult.Progress",
      "CheckRotateResult.Next",
      "CheckRotateResult.NewAccessKeyId",
      "CheckRotateResult.OldAccessKeyId",
      "CheckRotateResult.RetireAfter",
      "CheckRetire.Summary",
    ]);
  });
});

describe.each(["rAkmSsmAddRepoConfig", "rAkmSsmDeleteRepoConfig"] as const)("runbook %s parameters", (id) => {
  const doc = runbook(id);
  const pattern = (name: string) => new RegExp(String(doc.parameters?.[name]?.allowedPattern));
  const ownerPattern = pattern("GITHUBOWNER");
  const namePattern = pattern("GITHUBREPO");
  const invoke = step(doc, id === "rAkmSsmAddRepoConfig" ? "AddRepo" : "DeleteRepo");

  it("keeps the original parameters GITHUBOWNER (required) and GITHUBREPO, so old executions' parameters work", () => {
    // Prepare
    const values = { ...sampleParameters(doc), GITHUBOWNER: "octo-org", GITHUBREPO: "api" };

    // Act
    const parsed = v.parse(HandlerEvent, substitute(invoke.inputs.InputPayload as Json, values));

    // Assess
    expect(doc.parameters?.GITHUBOWNER).toMatchObject({ type: "String" });
    expect(doc.parameters?.GITHUBOWNER?.default).toBeUndefined();
    expect(doc.parameters?.GITHUBREPO).toMatchObject({ type: "String", default: "" });
    expect(parsed).toMatchObject({
      entry: {
        kind: "target",
        target: { kind: "repository", owner: "octo-org", name: "api", store: "actions" },
      },
    });
  });

  it("gives every new parameter a default that means what the original runbook did", () => {
    for (const [name, p] of Object.entries(doc.parameters ?? {})) {
      if (name === "GITHUBOWNER") continue;
      expect(p.default, name).toBeDefined();
      if (p.allowedPattern !== undefined) expect(String(p.default), name).toMatch(pattern(name));
      if (p.allowedValues !== undefined) expect(p.allowedValues, name).toContain(p.default);
    }
  });

  it("passes every parameter to the function under the event field the contract names", () => {
    const payload = invoke.inputs.InputPayload as JsonObject;
    for (const name of Object.keys(doc.parameters ?? {})) {
      expect(Object.values(payload), name).toContain(`{{ ${name} }}`);
    }
  });

  it("uses only patterns Automation's RE2 engine reads: no lookaround, no backreference", () => {
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html
    for (const [name, p] of Object.entries(doc.parameters ?? {})) {
      expect(p.allowedPattern ?? "", name).not.toMatch(/\(\?[=!<]|\\[1-9]/);
    }
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

  it.each([
    ["Environment", ["production", "eu/prod blue", "Staging-2", "e".repeat(255)]],
    ["Topic", ["deploys-to-aws", "a", "0-x", "t".repeat(50)]],
    ["Property", ["team", "cost_center", "$x#y-z", "p".repeat(75)]],
    ["PropertyValue", ["platform", "A b!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "v".repeat(200)]],
  ])("never rejects a %s GitHub accepts", (name, values) => {
    for (const value of values) expect(pattern(name).test(value), value).toBe(true);
  });

  it.each(["alice_acme", "octo_admin", "octo-org"])(
    "accepts the owner %j, an Enterprise Managed User's too",
    (owner) => {
      expect(ownerPattern.test(owner)).toBe(true);
    },
  );

  it.each(["-leading", "trailing-", "has space", "a/b", "x".repeat(40)])(
    "rejects the owner %j early",
    (owner) => {
      expect(ownerPattern.test(owner)).toBe(false);
    },
  );

  it.each(["has space", "a/b", "x".repeat(101)])("rejects the repository name %j early", (name) => {
    expect(namePattern.test(name)).toBe(false);
  });

  it.each([
    ["Topic", "Deploys"],
    ["Property", "my team"],
    ["PropertyValue", 'a"b'],
    ["Environment", "prod\u0000"],
  ])("rejects the %s %j early", (name, value) => {
    expect(pattern(name).test(value)).toBe(false);
  });
});

describe("the Add-RepoConfig runbook's parameters", () => {
  const doc = runbook("rAkmSsmAddRepoConfig");
  const pattern = (name: string) => new RegExp(String(doc.parameters?.[name]?.allowedPattern));

  it("takes every field of a repos.json entry, the kinds as choices with the original behaviour as default", () => {
    expect(Object.keys(doc.parameters ?? {})).toEqual([
      "GITHUBOWNER",
      "GITHUBREPO",
      "TargetType",
      "Environment",
      "Secrets",
      "Visibility",
      "Repositories",
      "Topic",
      "Property",
      "PropertyValue",
      "SecretNameKeyId",
      "SecretNameSecretKey",
      "KeyIdAs",
      "Unmanaged",
    ]);
    expect(doc.parameters?.TargetType).toMatchObject({
      default: "repository",
      allowedValues: ["repository", "environment", "organization"],
    });
    expect(doc.parameters?.Secrets).toMatchObject({
      default: "actions",
      allowedValues: ["actions", "dependabot", "codespaces"],
    });
    expect(doc.parameters?.KeyIdAs).toMatchObject({
      default: "secret",
      allowedValues: ["secret", "variable"],
    });
    expect(doc.parameters?.Unmanaged).toMatchObject({ type: "Boolean", default: false });
  });

  it("never rejects a secret name GitHub accepts, nor a list of repository names", () => {
    for (const name of ["AWS_ACCESS_KEY_ID", "_x", "a".repeat(200)]) {
      expect(pattern("SecretNameKeyId").test(name), name).toBe(true);
      expect(pattern("SecretNameSecretKey").test(name), name).toBe(true);
    }
    expect(pattern("Repositories").test("app-one,app.two, app_three")).toBe(true);
    expect(pattern("Visibility").test("selected")).toBe(true);
    expect(pattern("Visibility").test("public")).toBe(false);
  });

  it("sends an organization secret the function reads as the entry the parameters describe", () => {
    // Prepare
    const values = {
      ...sampleParameters(doc),
      GITHUBREPO: "",
      TargetType: "organization",
      Visibility: "selected",
      Repositories: "api,web",
      Secrets: "dependabot",
    };

    // Act
    const parsed = v.parse(
      HandlerEvent,
      substitute(step(doc, "AddRepo").inputs.InputPayload as Json, values),
    );

    // Assess
    expect(parsed).toMatchObject({
      entry: {
        target: {
          kind: "organization",
          store: "dependabot",
          visibility: "selected",
          selectedRepositories: ["api", "web"],
        },
      },
    });
  });
});
