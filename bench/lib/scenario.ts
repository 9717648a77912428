/**
 * One measured run: N repositories, one algorithm, one layout (where the repositories read the key from), on a
 * fresh world and a fresh scaled clock.
 */
import { loadavg } from "node:os";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import { progressKey } from "../../src/config/settings.ts";
import {
  ENFORCED_RULES,
  endpointMinutePeak,
  excessInWindow,
  GITHUB_RULES,
  layoutLowerBoundSeconds,
  peakInWindow,
  readRules,
} from "./bounds.ts";
import { ScaledClock } from "./clock.ts";
import { DowntimeMonitor } from "./downtime.ts";
import { runOriginal } from "./original.ts";
import { runOurs } from "./ours.ts";
import { type LayoutKind, type LayoutPlace, layoutWork } from "./secret-layout.ts";
import { type BenchStack, createBenchStack } from "./stack.ts";

export type Algorithm = "ours" | "original";

export interface ScenarioResult {
  readonly algorithm: Algorithm;
  /** Where the repositories read the key from (absent in older raw.json: `repository`). */
  readonly layout?: LayoutKind;
  readonly repos: number;
  /** Places the list names (targets the rotation writes), and jobs whose reads the downtime is measured on. */
  readonly targets?: number;
  readonly jobs?: number;
  readonly timeScale: number;
  readonly latencyMs: number;
  /**
   * Emulated seconds from start until the rotation is done: ours, until Rotate answers done (every repository
   * holds the new key, which is promoted), over as many executions as it took; the original, until its loop ends.
   */
  readonly wallSeconds: number;
  /** Ours: the whole execution, the Retire step after the (zero) grace period included. */
  readonly executionSeconds: number;
  /** Emulated seconds until the first secret write started, and until the last accepted one ended. */
  readonly firstWriteSeconds: number;
  readonly lastWriteSeconds: number;
  readonly realSeconds: number;
  /**
   * The machine's 1-minute load average when the scenario started, ended, and sampled every 10 s of real time
   * meanwhile (absent in older raw.json): other work
   * makes real work slower, and a scaled scenario shows real work `timeScale` times longer.
   */
  readonly loadAverage?: {
    readonly atStart: number;
    readonly mean: number;
    readonly max: number;
    readonly atEnd: number;
  };
  /** Lower bound under GitHub's rules (1 write/s on average, 80/min, 500/h) and under the enforced limits only. */
  readonly boundSeconds: number;
  readonly enforcedBoundSeconds: number;
  readonly requests: number;
  readonly reads: number;
  readonly writes: number;
  /** Requests the emulator refused for a secondary limit, plus accepted writes beyond 500 in an hour. */
  readonly limitViolations: number;
  /**
   * Requests GitHub answered 403 with `x-ratelimit-remaining: 0` because the token's 5,000 requests an hour were
   * used up: how a client learns the primary limit ran out (GitHub documents the answer); ours then sends nothing
   * until `x-ratelimit-reset`.
   */
  readonly primaryLimitAnswers: number;
  readonly peakWritesPerMinute: number;
  readonly peakWritesPerHour: number;
  readonly peakConcurrency: number;
  /**
   * The most points sent to one REST endpoint in a minute (GET 1, PUT 5; GitHub allows 900), and the requests
   * beyond 900 (not enforced by the emulator: counted on the access log).
   */
  readonly peakEndpointPoints?: number;
  readonly endpointLimitExcess?: number;
  /** `GET /repos/{owner}/{repo}` requests: the preflight's, and selected repositories looked up one by one. */
  readonly repositoryReads?: number;
  /** `GET /orgs/{org}/repos` requests: pages of the organization's repositories (selected names resolved to IDs). */
  readonly organizationListReads?: number;
  /** The shadowing check's reads: each repository's environments, its own secrets, each environment's secrets. */
  readonly shadowReads?: number;
  /** Places of the list (repositories, for the per-repository layout) not holding the new key ID at the end. */
  readonly failedRepos: number;
  readonly downtimePairSeconds: number;
  readonly downtimeKeyIdSeconds: number;
  readonly longestOutageSeconds: number;
  readonly outcome: string;
  /** Ours only. */
  readonly invocations?: number;
  /** The longest Lambda invocation, emulated seconds (the function's timeout is 290 s). */
  readonly longestInvocationSeconds?: number;
  /** Executions of the Rotate runbook, and RotateLoop iterations over all of them. */
  readonly executions?: number;
  readonly iterations?: number;
  readonly budgetWaits?: number;
  readonly budgetWaitSeconds?: number;
  /** WaitForWriteBudget steps that waited for GitHub's primary rate limit to reset, and how long in total. */
  readonly rateLimitWaits?: number;
  readonly rateLimitWaitSeconds?: number;
  /** The Secrets Manager secret (keys) at the end, in bytes, and the versions the rotation wrote to it. */
  readonly stateBytes?: number;
  readonly secretVersionsWritten?: number;
  /** The S3 progress object (`repos.json.progress.json`) at the end, in bytes (0: none left). */
  readonly progressBytes?: number;
  readonly progress?: readonly string[];
  readonly executionProgress?: readonly string[];
}

export interface ScenarioOptions {
  readonly motoEndpoint: string;
  readonly algorithm: Algorithm;
  readonly repos: number;
  readonly timeScale: number;
  readonly latencyMs: number;
  /** Default `repository`: every repository's own secrets. */
  readonly layout?: LayoutKind;
  /** Ours: cancel the run after this many Rotate invocations (see `runOurs`). */
  readonly maxIterations?: number;
}

/** The routes only the shadowing check reads (src/github/secret-inventory.ts). */
const SHADOW_ROUTES = new Set([
  "/repos/{owner}/{repo}/environments",
  "/repos/{owner}/{repo}/actions/secrets",
  "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
]);

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const clock = new ScaledClock(options.timeScale);
  const stack = await createBenchStack({
    motoEndpoint: options.motoEndpoint,
    repoCount: options.repos,
    clock,
    latencyMs: options.latencyMs,
    ...(options.layout === undefined ? {} : { layout: options.layout }),
  });
  const { layout } = stack;
  try {
    const monitor = new DowntimeMonitor({
      clock,
      github: stack.github,
      jobs: layout.jobs.map((job) => ({ ...job, owner: layout.owner })),
      keyIdSecretName: stack.keyIdSecretName,
      secretKeySecretName: stack.secretKeySecretName,
      motoEndpoint: options.motoEndpoint,
      userName: stack.userName,
    });
    monitor.knowSecret(stack.existingKey.accessKeyId, stack.existingKey.secretAccessKey);
    stack.github.setSecretWrittenHook(monitor.onSecretWritten);
    await monitor.start();
    stack.github.resetCounters();
    const versionsBefore = await secretVersions(options.motoEndpoint, stack.stateSecretArn);

    const start = clock.now();
    const realStart = performance.now();
    const loadSamples = [loadavg()[0] ?? 0];
    const loadSampler = setInterval(() => loadSamples.push(loadavg()[0] ?? 0), 10_000).unref();
    let outcome: string;
    let failedRepos: number;
    let extra: Partial<ScenarioResult> = {};
    let doneAt: number | undefined;
    if (options.algorithm === "ours") {
      const ours = await runOurs(
        stack,
        clock,
        options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations },
      );
      doneAt = ours.rotatedAt;
      outcome = ours.stoppedByBench
        ? `stopped by the bench after ${ours.iterations} Rotate invocations; the last said: ${ours.progress.at(-1) ?? "nothing"}`
        : ours.status !== "Success"
          ? `${ours.status}: ${ours.failureMessage ?? ""}`
          : ours.next === "continues"
            ? `unfinished after ${ours.executions} executions`
            : "Success";
      failedRepos = layout.places.filter((place) => heldKeyId(stack, place) !== ours.newAccessKeyId).length;
      extra = {
        invocations: ours.invocations,
        longestInvocationSeconds: ours.longestInvocationMs / 1000,
        executions: ours.executions,
        iterations: ours.iterations,
        budgetWaits: ours.budgetWaits,
        budgetWaitSeconds: ours.budgetWaitMs / 1000,
        rateLimitWaits: ours.rateLimitWaits,
        rateLimitWaitSeconds: ours.rateLimitWaitMs / 1000,
        stateBytes: await stateBytes(options.motoEndpoint, stack.stateSecretArn),
        secretVersionsWritten:
          (await secretVersions(options.motoEndpoint, stack.stateSecretArn)) - versionsBefore,
        progressBytes: await objectBytes(options.motoEndpoint, stack.bucket, progressKey(stack.configKey)),
        progress: ours.progress,
        executionProgress: ours.executionProgress,
      };
    } else {
      const original = await runOriginal(stack, options.motoEndpoint, monitor);
      failedRepos = original.failedRepos.length;
      outcome = failedRepos === 0 ? "Success" : `${failedRepos} repositories not updated`;
    }
    const end = clock.now();
    const realSeconds = (performance.now() - realStart) / 1000;
    clearInterval(loadSampler);
    loadSamples.push(loadavg()[0] ?? 0);
    const downtime = await monitor.stop();
    stack.github.setSecretWrittenHook(undefined);

    const log = stack.github.requests;
    // GitHub counts a write when it handles it: the end of the emulated round trip, not the request's arrival.
    const acceptedWrites = log
      .filter((r) => r.method === "PUT" && r.status !== undefined && r.status < 300)
      .map((r) => r.endedAt);
    const puts = log.filter((r) => r.method === "PUT");
    const firstWrite = Math.min(end, ...puts.map((r) => r.startedAt));
    const lastWrite = Math.max(start, ...puts.filter((r) => (r.status ?? 500) < 300).map((r) => r.endedAt));
    const required = layoutWork(layout);
    const endpoints = endpointMinutePeak(log);
    return {
      algorithm: options.algorithm,
      layout: layout.kind,
      repos: options.repos,
      targets: layout.places.length,
      jobs: layout.jobs.length,
      timeScale: options.timeScale,
      latencyMs: options.latencyMs,
      wallSeconds: ((doneAt ?? end) - start) / 1000,
      executionSeconds: (end - start) / 1000,
      firstWriteSeconds: (firstWrite - start) / 1000,
      lastWriteSeconds: (lastWrite - start) / 1000,
      realSeconds,
      loadAverage: {
        atStart: loadSamples[0] ?? 0,
        mean: loadSamples.reduce((sum, load) => sum + load, 0) / loadSamples.length,
        max: Math.max(...loadSamples),
        atEnd: loadSamples.at(-1) ?? 0,
      },
      boundSeconds: layoutLowerBoundSeconds(
        required,
        GITHUB_RULES,
        readRules(options.latencyMs),
        options.latencyMs,
      ),
      enforcedBoundSeconds: layoutLowerBoundSeconds(
        required,
        ENFORCED_RULES,
        readRules(options.latencyMs),
        options.latencyMs,
      ),
      requests: log.length,
      reads: log.filter((r) => r.method === "GET").length,
      writes: log.filter((r) => r.method !== "GET").length,
      limitViolations:
        log.filter((r) => r.limitedBy === "secondary").length +
        excessInWindow(acceptedWrites, 500, 3_600_000),
      primaryLimitAnswers: log.filter((r) => r.limitedBy === "primary").length,
      peakWritesPerMinute: peakInWindow(acceptedWrites, 60_000),
      peakWritesPerHour: peakInWindow(acceptedWrites, 3_600_000),
      peakConcurrency: log.reduce((peak, r) => Math.max(peak, r.inFlightAtStart), 0),
      peakEndpointPoints: endpoints.peakPoints,
      endpointLimitExcess: endpoints.excess,
      repositoryReads: log.filter((r) => r.method === "GET" && r.route === "/repos/{owner}/{repo}").length,
      organizationListReads: log.filter((r) => r.method === "GET" && r.route === "/orgs/{org}/repos").length,
      shadowReads: log.filter(
        (r) => r.method === "GET" && r.route !== undefined && SHADOW_ROUTES.has(r.route),
      ).length,
      failedRepos,
      downtimePairSeconds: downtime.pairSeconds,
      downtimeKeyIdSeconds: downtime.keyIdSeconds,
      longestOutageSeconds: downtime.longestSeconds,
      outcome,
      ...extra,
    };
  } finally {
    await stack.close();
  }
}

/** The key ID a place of the layout holds now. */
function heldKeyId(stack: BenchStack, place: LayoutPlace): string | undefined {
  const owner = stack.layout.owner;
  const name = stack.keyIdSecretName;
  switch (place.kind) {
    case "repository":
      return stack.github.secretValueAt(
        { kind: "repository", owner, repo: place.repo, store: "actions" },
        name,
      );
    case "environment":
      return stack.github.secretValueAt(
        { kind: "environment", owner, repo: place.repo, environment: place.environment },
        name,
      );
    case "organization":
      return stack.github.secretValueAt({ kind: "organization", org: owner, store: "actions" }, name);
  }
}

async function stateBytes(endpoint: string, secretArn: string): Promise<number> {
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
    return Buffer.byteLength(SecretString ?? "", "utf8");
  } finally {
    secrets.destroy();
  }
}

/** Every version of the secret, deprecated ones included (moto keeps them all). */
async function secretVersions(endpoint: string, secretArn: string): Promise<number> {
  const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
  try {
    let count = 0;
    let NextToken: string | undefined;
    do {
      const page = await secrets.send(
        new ListSecretVersionIdsCommand({ SecretId: secretArn, IncludeDeprecated: true, NextToken }),
      );
      count += page.Versions?.length ?? 0;
      NextToken = page.NextToken;
    } while (NextToken);
    return count;
  } finally {
    secrets.destroy();
  }
}

/** The object's size, or 0 when there is none. */
async function objectBytes(endpoint: string, bucket: string, key: string): Promise<number> {
  const s3 = new S3Client(awsClientConfig(endpoint));
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength ?? 0;
  } catch (error) {
    if ((error as { name?: string }).name === "NotFound") return 0;
    throw error;
  } finally {
    s3.destroy();
  }
}
