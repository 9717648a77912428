/**
 * Secret hygiene across a representative set of flows: a successful rotation (dry run first), a repository GitHub
 * refuses (with an answer that echoes the token) and the run that resumes it, preflight refusals (missing
 * repository, revoked token), a Lambda killed mid-rotation and the run that recovers, transient GitHub faults,
 * and the GitHub adapter's errors in-process.
 *
 * Everything any flow produced is collected — every Lambda log line, runbook execution (outputs, step inputs and
 * failure messages), Lambda invocation record, the SNS alert the template's EventBridge rule would send for each
 * Failed execution, the GitHub emulator's access log, violations and invariant failures, and every thrown error's
 * message, stack, cause chain, `util.inspect` and JSON form — and the last test scans it all for every secret
 * value the suite created or IAM issued (raw, URL-encoded and base64): the GitHub tokens, the secret access keys
 * of keys that existed before, every key IAM issued during the flows, the secrets GitHub received and the ones
 * kept in the rotation state. Expected hits: zero.
 */
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, describe, expect, inject, it, type TestContext } from "vitest";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import {
  secondaryRateLimitFault,
  startGitHubEmulator,
} from "../../scripts/local-stack/github-emulator/index.ts";
import { loadRenderedTemplate } from "../../scripts/local-stack/lambda-runner.ts";
import {
  createStack,
  type RunbookName,
  type RunbookRun,
  type RunOptions,
  type Stack,
  type StackOptions,
} from "../../scripts/local-stack/stack-fixture.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { repositoryTarget } from "../../src/domain/target.ts";
import { createGitHubClient } from "../../src/github/client.ts";
import type { GitHubLogEntry } from "../../src/github/github-log.ts";
import { GitHubSecretsTarget } from "../../src/github/secrets-target.ts";
import { writeFigures } from "./figures.ts";

const endpoint = inject("motoEndpoint");
const DAY_MS = 24 * 60 * 60_000;
const SECRET_ROUTE = "/repos/{owner}/{repo}/actions/secrets/{secret_name}";
const PUBLIC_KEY_ROUTE = "/repos/{owner}/{repo}/actions/secrets/public-key";

/**
 * A stack for one flow (the flows run concurrently), closed when the test ends, after the stack fixture's own
 * per-stack scan and R1 check.
 */
async function openStack({ expect, onTestFinished }: TestContext, options: StackOptions): Promise<Stack> {
  const stack = await createStack(endpoint, options);
  onTestFinished(async () => {
    try {
      expect(await stack.secretLeaks()).toEqual([]);
      expect(stack.r1Failures).toEqual([]);
      expect(stack.github.violations).toEqual([]);
    } finally {
      await stack.close();
    }
  });
  return stack;
}

/** Everything the suite captured, and every secret value it knows of (value → what it is, never printed). */
class Capture {
  readonly secrets = new Map<string, string>();
  readonly texts: { readonly where: string; readonly text: string }[] = [];
  flows = 0;

  secret(value: string | undefined, label: string): void {
    if (value !== undefined && value.length >= 8 && !this.secrets.has(value)) this.secrets.set(value, label);
  }

  text(where: string, text: string | undefined): void {
    if (text !== undefined && text !== "") this.texts.push({ where, text });
  }

  /** An error in every form a log or a report could print it, down its `cause` chain. */
  error(where: string, error: unknown): void {
    this.text(
      `${where}: util.inspect`,
      inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    );
    this.text(`${where}: String`, String(error));
    this.text(`${where}: JSON`, safeJson(error));
    let cause: unknown = error;
    for (let depth = 0; cause !== undefined && depth < 10; depth++) {
      if (cause instanceof Error) {
        this.text(`${where}: cause ${depth} message`, cause.message);
        this.text(`${where}: cause ${depth} stack`, cause.stack);
        if (cause instanceof Object && "fix" in cause)
          this.text(`${where}: cause ${depth} fix`, String(cause.fix));
        cause = cause.cause;
      } else {
        this.text(`${where}: cause ${depth}`, safeJson(cause));
        cause = undefined;
      }
    }
  }
}

const capture = new Capture();
let scanned: { texts: number; chars: number; forms: number; hits: string[] } | undefined;

afterAll(() => {
  writeFigures("secret-hygiene", [
    {
      label: "Flows run (E2E through the runbooks, plus the GitHub adapter in-process)",
      value: String(capture.flows),
    },
    {
      label: "Secret values created or issued (tokens, secret access keys)",
      value: String(capture.secrets.size),
    },
    { label: "Forms searched for (raw, URL-encoded, base64)", value: String(scanned?.forms ?? 0) },
    {
      label: "Texts scanned (logs, runbook outputs, invocations, alerts, access logs, errors)",
      value: String(scanned?.texts ?? 0),
    },
    { label: "Characters scanned", value: String(scanned?.chars ?? 0) },
    { label: "Hits", value: String(scanned?.hits.length ?? "not scanned") },
  ]);
});

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Runs a runbook and captures what it produced, and every secret IAM, GitHub and the state hold afterwards. */
async function run(
  stack: Stack,
  flow: string,
  name: RunbookName,
  parameters: Record<string, unknown> = {},
  options: RunOptions = {},
): Promise<RunbookRun> {
  let result: RunbookRun;
  try {
    result = await stack.runRunbook(name, parameters, options);
  } catch (error) {
    capture.error(`${flow}: ${name} threw`, error);
    throw error;
  } finally {
    await harvest(stack);
  }
  const { execution, invocations } = result;
  capture.text(`${flow}: ${name} execution`, safeJson(execution));
  for (const [i, invocation] of invocations.entries()) {
    capture.text(`${flow}: ${name} invocation ${i + 1}`, safeJson(invocation));
  }
  if (execution.status !== "Success") {
    capture.text(
      `${flow}: ${name} SNS alert`,
      alertMessage(stack.runbookDocument(name).name, execution.executionId),
    );
  }
  return result;
}

async function harvest(stack: Stack): Promise<void> {
  capture.secret(await stack.githubToken(), "a GitHub token");
  for (const key of stack.existingKeys)
    capture.secret(key.secretAccessKey, "the secret of a pre-existing key");
  for (const key of await stack.keys()) {
    capture.secret(await stack.issuedSecretOf(key.accessKeyId), "a secret access key IAM issued");
  }
  for (const repo of stack.github.requests.map((e) => e.repo).filter((r): r is string => r !== undefined)) {
    try {
      capture.secret(stack.secretValues(repo).secretAccessKey, "a secret GitHub received");
    } catch {
      // A repository the emulator does not know (a 404 flow).
    }
  }
  const client = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    const { SecretString = "" } = await client.send(
      new GetSecretValueCommand({ SecretId: stack.stateSecretArn }),
    );
    for (const match of SecretString.matchAll(/"secretAccessKey"\s*:\s*"([^"]+)"/g)) {
      capture.secret(match[1], "a secret kept in the rotation state");
    }
  } finally {
    client.destroy();
  }
}

/** Everything a stack captured beyond the runs: Lambda logs and the GitHub emulator's records. */
function captureStack(stack: Stack, flow: string): void {
  for (const [i, text] of stack.everyStdoutStderr.entries())
    capture.text(`${flow}: Lambda logs ${i + 1}`, text);
  capture.text(`${flow}: GitHub access log`, JSON.stringify(stack.github.requests));
  capture.text(`${flow}: GitHub violations`, stack.github.violations.join("\n"));
  capture.text(`${flow}: GitHub invariant failures`, stack.github.invariantFailures.join("\n"));
  capture.flows++;
}

/** The e-mail the template's EventBridge rule sends through SNS for a Failed execution (its InputTemplate). */
function alertMessage(documentName: string, executionId: string): string {
  const rule = loadRenderedTemplate().Resources.rEventsRuleAlert?.Properties as
    | { Targets?: { InputTransformer?: { InputTemplate?: { "Fn::Sub"?: [string, unknown] } } }[] }
    | undefined;
  const template = rule?.Targets?.[0]?.InputTransformer?.InputTemplate?.["Fn::Sub"]?.[0];
  if (typeof template !== "string" || !template.includes("<execution>")) {
    throw new Error("secret-hygiene: the template's alert rule has no InputTemplate naming <execution>.");
  }
  return String(template)
    .replace(/\$\{pSolutionName\}/g, "github-akm")
    .replace(/\$\{ConsoleHost\}/g, "console.aws.amazon.com")
    .replaceAll("<definition>", documentName)
    .replaceAll("<status>", "Failed")
    .replaceAll("<time>", new Date().toISOString())
    .replaceAll("<execution>", executionId)
    .replaceAll("<region>", "us-east-1");
}

describe.concurrent("Secret hygiene: flows", () => {
  it("a dry run, a rotation and the repository-list runbooks", async (context) => {
    // Prepare
    const { expect } = context;
    const stack = await openStack(context, { existingKeys: 1, seedReposWithExistingKey: true });

    // Act
    const dry = await run(stack, "success", "Rotate", { DryRun: true });
    const rotated = await run(stack, "success", "Rotate");
    const listed = await run(stack, "success", "Get-RepoList");
    const added = await run(stack, "success", "Add-RepoConfig", {
      // An owner the stack allows (pAllowedGitHubOwners): the stack's own.
      GITHUBOWNER: stack.repos[0]?.split("/")[0] ?? "",
      GITHUBREPO: "new",
    });
    captureStack(stack, "success");

    // Assess
    expect([dry, rotated, listed, added].map((r) => r.execution.status)).toEqual([
      "Success",
      "Success",
      "Success",
      "Success",
    ]);
  });

  it("a repository GitHub refuses with an answer that echoes the token, and the run that resumes it", async (context) => {
    // Prepare
    const { expect } = context;
    const stack = await openStack(context, {
      repos: ["octo-org/api", "octo-org/web"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
      graceMinutes: 0,
    });
    const token = await stack.githubToken();
    stack.github.addFault({
      method: "PUT",
      owner: "octo-org",
      repo: "web",
      status: 403,
      message: `Resource not accessible by personal access token ${token}`,
      times: Number.POSITIVE_INFINITY,
    });

    // Act
    const failed = await run(stack, "refused", "Rotate");
    stack.github.clearFaults();
    const resumed = await run(stack, "refused", "Rotate");
    captureStack(stack, "refused");

    // Assess
    expect(failed.execution.status).toBe("Failed");
    expect(failed.execution.failureMessage).toContain("[redacted]");
    expect(resumed.execution.status).toBe("Success");
  });

  it("preflight refusals: a missing repository, then a revoked token that GitHub's answer echoes", async (context) => {
    // Prepare
    const { expect } = context;
    const stack = await openStack(context, {
      repos: ["octo-org/api", "octo-org/gone"],
      githubRepos: ["octo-org/api"],
      existingKeys: 1,
    });
    const token = await stack.githubToken();

    // Act
    const missing = await run(stack, "preflight", "Rotate");
    stack.github.addFault({ route: "/user", status: 401, message: `Bad credentials: ${token}` });
    const echoed = await run(stack, "preflight", "Rotate");
    stack.github.revokeToken(token);
    const revoked = await run(stack, "preflight", "Rotate");
    captureStack(stack, "preflight");

    // Assess
    expect([missing, echoed, revoked].map((r) => r.execution.status)).toEqual(["Failed", "Failed", "Failed"]);
  });

  it("a Lambda killed while GitHub stores the first secret, and the run that recovers", async (context) => {
    // Prepare
    const { expect } = context;
    const stack = await openStack(context, { existingKeys: 1, seedReposWithExistingKey: true });
    const crash = new AbortController();
    stack.onSecretWritten(() => crash.abort());

    // Act
    const crashed = await run(stack, "crash", "Rotate", {}, { killLambda: crash.signal });
    stack.onSecretWritten(undefined);
    stack.advanceClock(DAY_MS);
    const recovered = await run(stack, "crash", "Rotate");
    captureStack(stack, "crash");

    // Assess
    expect(crashed.invocations.find((invocation) => invocation.stepName === "Rotate")?.outcome).toBe(
      "killed",
    );
    expect(recovered.execution.status).toBe("Success");
  });

  it("transient GitHub faults: a dropped connection, a 502 and a secondary rate limit", async (context) => {
    // Prepare
    const { expect } = context;
    const stack = await openStack(context, {
      repos: ["octo-org/api"],
      existingKeys: 1,
      seedReposWithExistingKey: true,
    });
    stack.github.addFault({ method: "PUT", route: SECRET_ROUTE, drop: true });
    stack.github.addFault({ route: PUBLIC_KEY_ROUTE, status: 502 });
    stack.github.addFault({
      method: "PUT",
      route: SECRET_ROUTE,
      skip: 1,
      ...secondaryRateLimitFault(1),
      status: 429,
    });

    // Act
    const rotated = await run(stack, "transient", "Rotate");
    captureStack(stack, "transient");

    // Assess
    expect(rotated.execution.status).toBe("Success");
  });

  it("the GitHub adapter's errors and log lines, in-process", async ({ expect }) => {
    // Prepare
    const github = await startGitHubEmulator();
    const repo = repositoryTarget({ owner: "octo-org", name: "api" });
    github.addRepo(repo.owner, repo.name);
    const token = `test-token-${randomUUID()}`;
    const value = `test-secret-${randomUUID()}`;
    capture.secret(token, "a GitHub token (adapter)");
    capture.secret(value, "a secret value (adapter)");
    github.addToken(token, { login: "rotation-bot", repos: ["octo-org/api"], permission: "write" });
    const logs: GitHubLogEntry[] = [];
    const adapter = (options: { requestTimeoutMs?: number } = {}) =>
      new GitHubSecretsTarget({
        client: createGitHubClient({
          token: new SecretValue(token),
          baseUrl: github.url,
          userAgent: "aws-github-akm-test",
          secondMs: 1,
          retries: 1,
          rateLimitRetries: 1,
          log: (entry) => logs.push(entry),
          ...options,
        }),
        tokenSecretName: "token-secret",
      });
    const target = adapter();
    // Only for requests GitHub never answers (delayed past the emulator's close): a short timeout that cannot
    // cut short an answer that is merely slow on a loaded machine.
    const impatient = adapter({ requestTimeoutMs: 200 });
    const errors: unknown[] = [];
    const attempt = (promise: Promise<unknown>) => promise.catch((error: unknown) => errors.push(error));

    try {
      // Act
      const key = await target.publicKey(repo);
      const secret = new SecretValue(value);
      github.addFault({ route: "/user", status: 502, times: 2 });
      await attempt(target.whoAmI());
      github.addFault({
        method: "PUT",
        route: SECRET_ROUTE,
        status: 422,
        message: `Validation Failed ${token}`,
      });
      await attempt(target.writeSecret(repo, key, "AWS_SECRET_ACCESS_KEY", secret));
      github.addFault({ method: "PUT", route: SECRET_ROUTE, drop: true, times: 2 });
      await attempt(target.writeSecret(repo, key, "AWS_SECRET_ACCESS_KEY", secret));
      github.addFault({ method: "PUT", route: SECRET_ROUTE, delayMs: 10 * 60_000, times: 2 });
      await attempt(impatient.writeSecret(repo, key, "AWS_SECRET_ACCESS_KEY", secret));
      github.addFault({ method: "PUT", route: SECRET_ROUTE, ...secondaryRateLimitFault(1), times: 2 });
      await attempt(target.writeSecret(repo, key, "AWS_SECRET_ACCESS_KEY", secret));
      github.revokeToken(token);
      await attempt(target.whoAmI());
    } finally {
      await github.close();
    }
    for (const [i, error] of errors.entries()) capture.error(`adapter error ${i + 1}`, error);
    capture.text("adapter log", logs.map((entry) => `${entry.level} ${entry.message}`).join("\n"));
    capture.text("adapter GitHub access log", JSON.stringify(github.requests));
    capture.flows++;

    // Assess
    expect(errors).toHaveLength(6);
    expect(logs.length).toBeGreaterThan(0);
  });
});

describe("Secret hygiene: everything the flows captured", () => {
  it("holds no secret value the suite created or IAM issued, in any form", () => {
    // Prepare
    expect(capture.flows, "every flow ran first").toBe(6);
    const forms: { readonly form: string; readonly label: string }[] = [];
    for (const [value, label] of capture.secrets) {
      forms.push({ form: value, label });
      const encoded = encodeURIComponent(value);
      if (encoded !== value) forms.push({ form: encoded, label: `${label}, URL-encoded` });
      forms.push({ form: Buffer.from(value).toString("base64"), label: `${label}, base64` });
    }

    const scan = (texts: readonly { where: string; text: string }[]): string[] => {
      const found: string[] = [];
      for (const { form, label } of forms) {
        for (const { where, text } of texts) if (text.includes(form)) found.push(`${label} in ${where}`);
      }
      return found;
    };
    // The scan itself finds a secret where one is (a canary among copies of what was captured).
    const [canary = "", canaryLabel = ""] = [...capture.secrets].at(-1) ?? [];
    const planted = capture.texts.slice(0, 3).map(({ where, text }, i) => ({
      where,
      text: i === 1 ? `${text}${encodeURIComponent(canary)}` : text,
    }));
    expect(scan(planted)).toContainEqual(expect.stringContaining(canaryLabel));

    // Act
    const hits = scan(capture.texts);
    scanned = {
      texts: capture.texts.length,
      chars: capture.texts.reduce((sum, t) => sum + t.text.length, 0),
      forms: forms.length,
      hits,
    };

    // Assess
    expect(capture.secrets.size).toBeGreaterThanOrEqual(15);
    expect(hits).toEqual([]);
  });
});
