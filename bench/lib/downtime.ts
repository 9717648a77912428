/**
 * CI downtime, measured from outside: for every listed repository, the emulated time during which its two
 * secrets did not form the ID and secret of an Active IAM key (what a workflow starting then would get).
 * Secret changes are seen at the instant the emulator stores them (its write hook); IAM changes by polling moto
 * every few real milliseconds, and at once when the harness itself changed IAM (the original's algorithm).
 */
import { IAMClient, ListAccessKeysCommand } from "@aws-sdk/client-iam";
import { awsClientConfig } from "../../scripts/local-stack/aws-fixtures.ts";
import type { GitHubEmulator, SecretWrittenEvent } from "../../scripts/local-stack/github-emulator/index.ts";
import type { ScaledClock } from "./clock.ts";

// Only a safety net: the harness reports its own IAM changes, and ours changes IAM only around the writes.
const POLL_REAL_MS = 250;

export interface DowntimeResult {
  /** Repo-seconds (emulated) during which a repository's pair did not authenticate as an Active key. */
  readonly pairSeconds: number;
  /** Repo-seconds during which the key-ID secret did not name an Active key (the R1 view, secrets apart). */
  readonly keyIdSeconds: number;
  /** Repositories whose pair did not authenticate when the run ended. */
  readonly brokenAtEnd: readonly string[];
  /** The longest single interruption of one repository (emulated seconds). */
  readonly longestSeconds: number;
}

interface RepoWatch {
  pairBrokenSince: number | undefined;
  idBrokenSince: number | undefined;
}

export class DowntimeMonitor {
  readonly #clock: ScaledClock;
  readonly #github: GitHubEmulator;
  readonly #repos: readonly string[];
  /** The listed repositories by lower-case `owner/name` (GitHub's names are case-insensitive). */
  readonly #byName: ReadonlyMap<string, string>;
  readonly #keyIdName: string;
  readonly #secretName: string;
  readonly #iam: IAMClient;
  readonly #endpoint: string;
  readonly #userName: string;
  /** Key ID → secret access key, for keys whose secret the harness knows (moto's data otherwise). */
  readonly #secrets = new Map<string, string>();
  #status = new Map<string, string>();
  readonly #watch = new Map<string, RepoWatch>();
  #pairMs = 0;
  #idMs = 0;
  #longestMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;

  constructor(options: {
    clock: ScaledClock;
    github: GitHubEmulator;
    repos: readonly string[];
    keyIdSecretName: string;
    secretKeySecretName: string;
    motoEndpoint: string;
    userName: string;
  }) {
    this.#clock = options.clock;
    this.#github = options.github;
    this.#repos = options.repos;
    this.#byName = new Map(options.repos.map((repo) => [repo.toLowerCase(), repo]));
    this.#keyIdName = options.keyIdSecretName;
    this.#secretName = options.secretKeySecretName;
    this.#endpoint = options.motoEndpoint;
    this.#userName = options.userName;
    this.#iam = new IAMClient(awsClientConfig(options.motoEndpoint));
    for (const repo of this.#repos)
      this.#watch.set(repo, { pairBrokenSince: undefined, idBrokenSince: undefined });
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

  /** For the emulator's write hook: re-evaluates the repository that was just written. */
  readonly onSecretWritten = async (event: SecretWrittenEvent): Promise<void> => {
    const repo = this.#byName.get(`${event.owner}/${event.repo}`.toLowerCase());
    if (repo === undefined) return;
    const keyId = this.#value(repo, this.#keyIdName);
    const now = this.#clock.now();
    // A key the last IAM poll did not know yet (just created): ask IAM now rather than count it as broken.
    if (keyId !== undefined && !this.#status.has(keyId)) await this.iamChanged();
    else if (keyId !== undefined && this.#status.get(keyId) === "Active" && !this.#secrets.has(keyId)) {
      await this.#learnSecrets();
    }
    this.#evaluate(repo, now);
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
    for (const [repo, watch] of this.#watch) {
      if (watch.pairBrokenSince !== undefined) {
        brokenAtEnd.push(repo);
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
    for (const repo of this.#repos) this.#evaluate(repo, now);
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

  #value(repo: string, name: string): string | undefined {
    const [owner = "", repoName = ""] = repo.split("/");
    return this.#github.secretValue(owner, repoName, name);
  }

  #evaluate(repo: string, now: number): void {
    const watch = this.#watch.get(repo);
    if (!watch) return;
    const keyId = this.#value(repo, this.#keyIdName);
    const secret = this.#value(repo, this.#secretName);
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
