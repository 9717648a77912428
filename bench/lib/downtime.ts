/**
 * CI downtime, measured from outside: for every job watched (a repository's, or one running in an environment),
 * the emulated time during which the two secrets it would read — by GitHub's precedence, environment over
 * repository over organization (the emulator's `effectiveSecret`) — did not form the ID and secret of an Active IAM
 * key (what a workflow starting then would get). Secret changes are seen at the instant the emulator stores them
 * (its write hook; an organization secret's write re-evaluates every job); IAM changes by polling moto every few
 * real milliseconds, and at once when the harness itself changed IAM (the original's algorithm).
 */
import { IAMClient, ListAccessKeysCommand } from "@aws-sdk/client-iam";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import type {
  GitHubEmulator,
  JobContext,
  SecretWrittenEvent,
} from "../../scripts/local-stack/github-emulator/index.ts";
import type { ScaledClock } from "./clock.ts";

// Only a safety net: the harness reports its own IAM changes, and ours changes IAM only around the writes.
const POLL_REAL_MS = 250;

export interface DowntimeResult {
  /** Job-seconds (emulated) during which a job's pair did not authenticate as an Active key. */
  readonly pairSeconds: number;
  /** Job-seconds during which the key-ID secret a job reads did not name an Active key (secrets apart). */
  readonly keyIdSeconds: number;
  /** Jobs (`owner/repo`, or `owner/repo (environment E)`) whose pair did not authenticate when the run ended. */
  readonly brokenAtEnd: readonly string[];
  /** The longest single interruption of one job (emulated seconds). */
  readonly longestSeconds: number;
}

interface JobWatch {
  readonly job: JobContext;
  pairBrokenSince: number | undefined;
  idBrokenSince: number | undefined;
}

function jobLabel(job: JobContext): string {
  const repo = `${job.owner}/${job.repo}`;
  return job.environment === undefined ? repo : `${repo} (environment ${job.environment})`;
}

export class DowntimeMonitor {
  readonly #clock: ScaledClock;
  readonly #github: GitHubEmulator;
  readonly #watches: readonly JobWatch[];
  /** The jobs of each repository, by lower-case `owner/name` (GitHub's names are case-insensitive). */
  readonly #byRepo = new Map<string, JobWatch[]>();
  readonly #keyIdName: string;
  readonly #secretName: string;
  readonly #iam: IAMClient;
  readonly #endpoint: string;
  readonly #userName: string;
  /** Key ID → secret access key, for keys whose secret the harness knows (moto's data otherwise). */
  readonly #secrets = new Map<string, string>();
  #status = new Map<string, string>();
  #pairMs = 0;
  #idMs = 0;
  #longestMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(options: {
    clock: ScaledClock;
    github: GitHubEmulator;
    /** The jobs whose reads are watched (e.g. one per repository). */
    jobs: readonly JobContext[];
    keyIdSecretName: string;
    secretKeySecretName: string;
    motoEndpoint: string;
    userName: string;
  }) {
    this.#clock = options.clock;
    this.#github = options.github;
    this.#watches = options.jobs.map((job) => ({
      job,
      pairBrokenSince: undefined,
      idBrokenSince: undefined,
    }));
    for (const watch of this.#watches) {
      const repo = `${watch.job.owner}/${watch.job.repo}`.toLowerCase();
      this.#byRepo.set(repo, [...(this.#byRepo.get(repo) ?? []), watch]);
    }
    this.#keyIdName = options.keyIdSecretName;
    this.#secretName = options.secretKeySecretName;
    this.#endpoint = options.motoEndpoint;
    this.#userName = options.userName;
    this.#iam = new IAMClient(awsClientConfig(options.motoEndpoint));
  }

  /** The harness knows this key's secret (it created the key). */
  knowSecret(accessKeyId: string, secretAccessKey: string): void {
    this.#secrets.set(accessKeyId, secretAccessKey);
  }

  async start(): Promise<void> {
    await this.iamChanged();
    this.#timer = setInterval(() => {
      this.#polling ??= this.#pollIam().finally(() => {
        this.#polling = undefined;
      });
    }, POLL_REAL_MS);
  }

  /**
   * For the emulator's write hook: re-evaluates the jobs the write can change — every job for an organization
   * secret, else the written repository's.
   */
  readonly onSecretWritten = async (event: SecretWrittenEvent): Promise<void> => {
    const watches =
      event.scope.kind === "organization"
        ? this.#watches
        : (this.#byRepo.get(`${event.owner}/${event.repo ?? ""}`.toLowerCase()) ?? []);
    const first = watches[0];
    if (first === undefined) return;
    const now = this.#clock.now();
    // A key the last IAM poll did not know yet (just created): ask IAM now rather than count it as broken.
    const keyId = this.#value(first.job, this.#keyIdName);
    if (keyId !== undefined && !this.#status.has(keyId)) await this.iamChanged();
    else if (keyId !== undefined && this.#status.get(keyId) === "Active" && !this.#secrets.has(keyId)) {
      await this.#learnSecrets();
    }
    for (const watch of watches) this.#evaluate(watch, now);
  };

  /** Re-reads IAM now (the harness just changed a key) and re-evaluates every repository. */
  async iamChanged(): Promise<void> {
    await this.#polling;
    await this.#pollIam(true);
  }

  async stop(): Promise<DowntimeResult> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#polling;
    await this.#pollIam(true);
    const end = this.#clock.now();
    const brokenAtEnd: string[] = [];
    for (const watch of this.#watches) {
      if (watch.pairBrokenSince !== undefined) {
        brokenAtEnd.push(jobLabel(watch.job));
        this.#close(end - watch.pairBrokenSince, "pair");
      }
      if (watch.idBrokenSince !== undefined) this.#close(end - watch.idBrokenSince, "id");
    }
    this.#iam.destroy();
    return {
      pairSeconds: this.#pairMs / 1000,
      keyIdSeconds: this.#idMs / 1000,
      brokenAtEnd,
      longestSeconds: this.#longestMs / 1000,
    };
  }

  async #pollIam(force = false): Promise<void> {
    const { AccessKeyMetadata = [] } = await this.#iam.send(
      new ListAccessKeysCommand({ UserName: this.#userName }),
    );
    const status = new Map(AccessKeyMetadata.map((key) => [key.AccessKeyId ?? "", key.Status ?? ""]));
    const changed =
      force ||
      status.size !== this.#status.size ||
      [...status].some(([id, value]) => this.#status.get(id) !== value);
    if (!changed) return;
    this.#status = status;
    if ([...status.keys()].some((id) => !this.#secrets.has(id))) await this.#learnSecrets();
    const now = this.#clock.now();
    for (const watch of this.#watches) this.#evaluate(watch, now);
  }

  /** Secret access keys of the user's keys, from moto's state (the harness never gets them otherwise). */
  async #learnSecrets(): Promise<void> {
    const response = await fetch(`${this.#endpoint}/moto-api/data.json`);
    const data = (await response.json()) as {
      iam?: { AccessKey?: { access_key_id: string; secret_access_key: string; user_name: string }[] };
    };
    for (const key of data.iam?.AccessKey ?? []) {
      if (key.user_name === this.#userName) this.#secrets.set(key.access_key_id, key.secret_access_key);
    }
  }

  /** What the job would read for a secret name (the emulator's R1 view). */
  #value(job: JobContext, name: string): string | undefined {
    return this.#github.effectiveSecret(job, name)?.value;
  }

  #evaluate(watch: JobWatch, now: number): void {
    const keyId = this.#value(watch.job, this.#keyIdName);
    const secret = this.#value(watch.job, this.#secretName);
    const idOk = keyId !== undefined && this.#status.get(keyId) === "Active";
    const pairOk = idOk && secret !== undefined && this.#secrets.get(keyId) === secret;
    if (pairOk && watch.pairBrokenSince !== undefined) {
      this.#close(now - watch.pairBrokenSince, "pair");
      watch.pairBrokenSince = undefined;
    } else if (!pairOk && watch.pairBrokenSince === undefined) {
      watch.pairBrokenSince = now;
    }
    if (idOk && watch.idBrokenSince !== undefined) {
      this.#close(now - watch.idBrokenSince, "id");
      watch.idBrokenSince = undefined;
    } else if (!idOk && watch.idBrokenSince === undefined) {
      watch.idBrokenSince = now;
    }
  }

  #close(ms: number, kind: "pair" | "id"): void {
    if (kind === "pair") {
      this.#pairMs += ms;
      this.#longestMs = Math.max(this.#longestMs, ms);
    } else {
      this.#idMs += ms;
    }
  }
}
