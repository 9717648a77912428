import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A running moto server (https://docs.getmoto.org/en/latest/docs/server_mode.html). */
export interface MotoServer {
  /** Base URL for AWS clients, e.g. `http://127.0.0.1:43121`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const motoServerBin = join(repoRoot, ".venv", "bin", "moto_server");

// Budgets, not expectations: moto imports every service on start, which takes a few seconds on an idle machine and
// far longer on a loaded 2-core one (its 30 s were not always enough there); these only bound how long a moto that
// never comes up (or never stops) holds the run.
const READY_BUDGET_MS = 5 * 60_000;
const READY_INTERVAL_MS = 100;
/** One readiness probe; a probe that gets no answer in time is just tried again. */
const PROBE_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 5_000;
// Another process may take the port between choosing and binding it; then moto exits and we retry.
const START_ATTEMPTS = 3;
const LOG_LINES_KEPT = 40;

/** Starts `moto_server` on a free loopback port and resolves once it answers HTTP. */
export async function startMoto(): Promise<MotoServer> {
  if (!existsSync(motoServerBin)) {
    throw new Error(
      `moto is not installed: ${motoServerBin} does not exist. Run npm test, which runs scripts/setup-python.sh (or run that script directly) to create .venv.`,
    );
  }
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(await freeLoopbackPort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<MotoServer> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(motoServerBin, ["-H", "127.0.0.1", "-p", String(port)], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // moto logs every request; keep only the tail so a failed start can say why, and keep the pipes drained.
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (log.length > LOG_LINES_KEPT) log.splice(0, log.length - LOG_LINES_KEPT);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });

  const stop = () => stopProcess(child, exited);
  const giveUpAt = Date.now() + READY_BUDGET_MS;
  while (Date.now() < giveUpAt) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `moto_server on port ${port} exited before it was ready (${spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`}). Last output:\n${log.join("\n")}`,
      );
    }
    if (await answers(`${endpoint}/moto-api/`)) return { endpoint, stop };
    await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
  }
  await stop();
  throw new Error(
    `moto_server on port ${port} did not answer within ${READY_BUDGET_MS / 1000}s. Last output:\n${log.join("\n")}`,
  );
}

/**
 * From now on this moto server checks every request's signature and access key, and IAM permissions,
 * as AWS does (https://docs.getmoto.org/en/latest/docs/iam.html). Only for a server of its own:
 * the shared server's fixtures sign with dummy credentials that IAM does not know.
 */
export async function enableMotoAuth(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset-auth`, { method: "POST", body: "0" });
  const body = await response.text();
  if (!response.ok) throw new Error(`moto refused to enable authentication (${response.status}): ${body}`);
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Asks the OS for a free port by binding port 0, then releases it for moto to take. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("Could not read the port of a loopback listener."));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
