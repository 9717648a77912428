/**
 * Hostile and broken input, end to end: the template's Lambda (Node 24) run by the runbook simulator against moto
 * and the GitHub emulator, with every AWS call the function makes recorded by a proxy in front of moto.
 *
 * - A hostile repos.json stops Rotate in preflight: the run ends Failed naming the file and the problem, and the
 *   function makes no IAM or STS call, writes nothing, and sends GitHub nothing; the keys are unchanged.
 * - Hostile Add-RepoConfig / Delete-RepoConfig parameters are refused (by Automation's parameter patterns, or by
 *   the function's event schema), and repos.json is untouched: same body, same ETag, no new object version.
 * - Hostile events sent to the function directly are answered Failed without a single AWS call.
 */
import { ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import { extractTemplateLambda, invokeLambda } from "../../scripts/local-stack/lambda-runner.ts";
import {
  InvalidAutomationExecutionParametersError,
  runAutomation,
} from "../../scripts/local-stack/runbook-simulator.ts";
import { type Stack, useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import { PRINTABLE_MESSAGE } from "../fixtures/hostile/actionable.ts";
import { HOSTILE_REPOS_JSON } from "../fixtures/hostile/repos-json.ts";
import { HOSTILE_EVENTS, HOSTILE_REPO_PARAMETERS } from "../fixtures/hostile/runbook-parameters.ts";
import {
  type AwsCallRecorder,
  type RecordedAwsCall,
  startAwsCallRecorder,
} from "../support/aws-call-recorder.ts";
import { writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");
let recorder: AwsCallRecorder;
let createStack: ReturnType<typeof useStacks>;

/** What the function does with a hostile repos.json: one of each kind of breakage, the expensive ones included. */
const ROTATE_SUBSET = [
  "Repos twice (JSON.parse would keep only the second list)",
  "100,000 unclosed brackets (the position must be the real one, without a stack overflow)",
  "a file over 4 MiB",
  "a Cyrillic а in the owner",
  "a path traversal name ../x",
  "3,000 invalid entries (the error lists the first ones and a count)",
] as const;
/** Events sent straight to the function. */
const EVENT_SUBSET = [
  "null",
  "an unknown action with a right-to-left override",
  "a Cyrillic а in the owner",
  "a path traversal repository",
  "an extra field",
] as const;

const tally = { rotate: 0, rotateClean: 0, parameters: 0, parametersRefused: 0, events: 0, eventsClean: 0 };

// The recorder sits between everything and moto; only the function's calls carry the Lambda user agent.
const FUNCTION_USER_AGENT = "exec-env/AWS_Lambda_nodejs";

beforeAll(async () => {
  recorder = await startAwsCallRecorder(endpoint);
  createStack = useStacks(recorder.endpoint);
});

afterAll(async () => {
  await recorder.close();
  writeFigures("hostile-input-e2e", [
    { label: "Rotate runs on a hostile repos.json", value: String(tally.rotate) },
    {
      label: "… Failed in preflight with no IAM/STS call, no write, no GitHub request",
      value: String(tally.rotateClean),
    },
    { label: "Add/Delete-RepoConfig runs with hostile parameters", value: String(tally.parameters) },
    {
      label: "… refused with repos.json untouched (body, ETag, versions)",
      value: String(tally.parametersRefused),
    },
    { label: "Hostile events sent to the function directly", value: String(tally.events) },
    { label: "… answered Failed without any AWS call", value: String(tally.eventsClean) },
  ]);
});

/** The AWS calls the function made while `act` ran. */
async function functionCalls(act: () => Promise<unknown>): Promise<RecordedAwsCall[]> {
  const before = recorder.calls.length;
  await act();
  return recorder.calls.slice(before).filter((call) => call.userAgent.includes(FUNCTION_USER_AGENT));
}

async function stateSecret(stack: Stack): Promise<string | undefined> {
  const client = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: stack.stateSecretArn }))).SecretString;
  } finally {
    client.destroy();
  }
}

async function objectVersions(stack: Stack): Promise<string[]> {
  const client = new S3Client(awsClientConfig(endpoint));
  try {
    const { Versions = [] } = await client.send(
      new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: stack.configKey }),
    );
    return Versions.filter((version) => version.Key === stack.configKey).map(
      (version) => version.VersionId ?? "",
    );
  } finally {
    client.destroy();
  }
}

describe("Rotate runbook with a hostile repos.json", () => {
  it("fails in preflight naming the problem, with no IAM call, no write and no GitHub request", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      repos: ["octo-org/api"],
      seedReposWithExistingKey: true,
    });
    const keysBefore = await stack.keys();
    const stateBefore = await stateSecret(stack);
    const cases = HOSTILE_REPOS_JSON.filter((c) => (ROTATE_SUBSET as readonly string[]).includes(c.name));
    expect(cases.map((c) => c.name)).toEqual([...ROTATE_SUBSET].sort((a, b) => order(a) - order(b)));

    for (const hostile of cases) {
      await stack.writeConfig(hostile.text);
      tally.rotate++;

      // Act
      let failureMessage: string | undefined;
      let status: string | undefined;
      const calls = await functionCalls(async () => {
        ({ status, failureMessage } = (await stack.runRunbook("Rotate")).execution);
      });

      // Assess
      expect(status, hostile.name).toBe("Failed");
      expect(failureMessage, hostile.name).toContain(`s3://${stack.bucket}/${stack.configKey}`);
      expect(failureMessage, hostile.name).toContain("Fix: ");
      expect(failureMessage, hostile.name).toMatch(PRINTABLE_MESSAGE);
      expect(
        calls.filter(
          (call) =>
            call.service === "iam" ||
            call.service === "sts" ||
            (call.service === "secretsmanager" && call.operation !== "GetSecretValue") ||
            (call.service === "s3" &&
              call.operation !== "GetObject" &&
              call.params.Key !== `${stack.configKey}.lock`),
        ),
        `${hostile.name}: IAM/STS calls, state or repos.json writes`,
      ).toEqual([]);
      expect(stack.github.requests, `${hostile.name}: GitHub requests`).toEqual([]);
      expect(await stack.keys(), hostile.name).toEqual(keysBefore);
      expect(await stateSecret(stack), hostile.name).toBe(stateBefore);
      tally.rotateClean++;
    }
  });
});

/** Position of a case in the corpus (to compare the selected names in corpus order). */
function order(name: string): number {
  return HOSTILE_REPOS_JSON.findIndex((c) => c.name === name);
}

describe.each(["Add-RepoConfig", "Delete-RepoConfig"] as const)(
  "%s runbook with hostile parameters",
  (runbook) => {
    it("refuses each set and leaves repos.json untouched (same body, ETag and object versions)", async () => {
      // Prepare
      const stack = await createStack({ repos: ["octo-org/api", "octo-org/web"] });
      const before = await stack.readConfig();
      const versionsBefore = await objectVersions(stack);
      const outcomes: string[] = [];

      // Act
      for (const hostile of HOSTILE_REPO_PARAMETERS) {
        tally.parameters++;
        try {
          // Sets Automation refuses never reach the function; those it accepts run the stack's Lambda.
          const execution =
            hostile.rejectedBy === "function"
              ? (await stack.runRunbook(runbook, hostile.parameters)).execution
              : await runAutomation(stack.runbookDocument(runbook).document, hostile.parameters, {
                  invokeLambda: () =>
                    Promise.reject(new Error(`${hostile.name}: Automation started the function`)),
                });
          outcomes.push(`${hostile.name}: ${execution.status}`);
          expect(hostile.rejectedBy, `${hostile.name} reached the function`).toBe("function");
          expect(execution.status, hostile.name).toBe("Failed");
          expect(execution.failureMessage, hostile.name).toMatch(hostile.message ?? /./);
        } catch (error) {
          if (!(error instanceof InvalidAutomationExecutionParametersError)) throw error;
          outcomes.push(`${hostile.name}: refused by Automation`);
          expect(hostile.rejectedBy, `${hostile.name} was refused by Automation`).toBe("automation");
        }
        expect(await stack.readConfig(), hostile.name).toEqual(before);
        tally.parametersRefused++;
      }

      // Assess
      expect(outcomes).toHaveLength(HOSTILE_REPO_PARAMETERS.length);
      expect(await objectVersions(stack)).toEqual(versionsBefore);
      expect(stack.github.requests).toEqual([]);
    });
  },
);

describe("The function, sent hostile events directly", () => {
  it("answers each Failed naming the problem, without any AWS call", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"], existingKeys: 1 });
    const lambda = extractTemplateLambda();
    const before = await stack.readConfig();
    const keysBefore = await stack.keys();
    const events = HOSTILE_EVENTS.filter((e) => (EVENT_SUBSET as readonly string[]).includes(e.name));
    expect(events).toHaveLength(EVENT_SUBSET.length);

    for (const hostile of events) {
      tally.events++;

      // Act
      let result: HandlerResult | undefined;
      let logs = "";
      const calls = await functionCalls(async () => {
        const invocation = await invokeLambda(hostile.event, { env: stack.env, lambda });
        result = invocation.result as HandlerResult;
        logs = invocation.logs;
      });

      // Assess
      expect(result?.status, hostile.name).toBe("Failed");
      expect(result?.summary, hostile.name).toMatch(hostile.message);
      if (hostile.hiddenCharacter !== undefined) {
        expect(`${result?.summary}${logs}`, hostile.name).not.toContain(hostile.hiddenCharacter);
      }
      expect(calls, `${hostile.name}: AWS calls`).toEqual([]);
      tally.eventsClean++;
    }
    expect(await stack.readConfig()).toEqual(before);
    expect(await stack.keys()).toEqual(keysBefore);
  });
});
