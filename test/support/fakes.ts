/**
 * In-memory implementations of the ports, for unit tests of the pure lifecycle logic only.
 * Integration tests use moto and the GitHub emulator instead.
 */
import type { AccessKeyInfo, AccessKeyPair, NewAccessKey } from "../../src/domain/access-key.ts";
import type { RepoRef } from "../../src/domain/repo.ts";
import { repoLabel } from "../../src/domain/repo.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { GitHubAccessError, IamStateError, KeyNotAcceptedError, StateStoreError } from "../../src/errors.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import type { RunOutcome } from "../../src/lifecycle/outcome.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import type {
  Clock,
  ConfigDocument,
  ConfigStore,
  IamKeys,
  IdentityProbe,
  KeyMaterialStore,
  LockHolder,
  ProgressStore,
  RepoPublicKey,
  RunLock,
  SecretsTarget,
  StateStore,
  VersionedText,
} from "../../src/ports.ts";
import { renderAnswer } from "../../src/render-answer.ts";

export class FakeClock implements Clock {
  #now: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.#now = start;
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.#now += ms;
  }
}

let keyCounter = 0;
/** Obviously fake, unique key material (never shaped like a real AWS key). */
export function fakeKeyId(): string {
  keyCounter++;
  return `FAKEKEY${String(keyCounter).padStart(9, "0")}`;
}

interface StoredKey extends AccessKeyInfo {
  readonly secret: string;
}

export class FakeIam implements IamKeys {
  keys: StoredKey[] = [];
  readonly calls: string[] = [];
  /** Throws once when the named call is reached (e.g. "create"). */
  failOn: string | undefined;
  /** Crash after the call has taken effect (the call succeeds in IAM, the caller never hears back). */
  crashAfter: string | undefined;
  maxKeys = 2;
  userExists = true;

  constructor(private readonly clock: FakeClock) {}

  addKey(status: "Active" | "Inactive", ageMs = 86_400_000): StoredKey {
    const key = {
      accessKeyId: fakeKeyId(),
      status,
      createdAt: new Date(this.clock.now().getTime() - ageMs),
      secret: `fake-secret-${keyCounter}-${Math.random().toString(36).slice(2)}`,
    };
    this.keys.push(key);
    return key;
  }

  #step(name: string): void {
    this.calls.push(name);
    if (this.failOn === name) {
      this.failOn = undefined;
      throw new Error(`injected failure in iam.${name}`);
    }
  }

  #after(name: string): void {
    if (this.crashAfter === name) {
      this.crashAfter = undefined;
      throw new Error(`injected crash after iam.${name}`);
    }
  }

  async checkUser(): Promise<void> {
    this.#step("checkUser");
    if (!this.userExists) throw new IamStateError("IAM user test does not exist.", "Create it.");
  }

  async list(): Promise<AccessKeyInfo[]> {
    this.#step("list");
    return this.keys.map(({ accessKeyId, status, createdAt }) => ({ accessKeyId, status, createdAt }));
  }

  async create(): Promise<NewAccessKey> {
    this.#step("create");
    if (this.keys.length >= this.maxKeys) throw new Error("LimitExceeded: at most 2 keys");
    const key = {
      accessKeyId: fakeKeyId(),
      status: "Active" as const,
      createdAt: this.clock.now(),
      secret: `fake-secret-${keyCounter}-${Math.random().toString(36).slice(2)}`,
    };
    this.keys.push(key);
    this.#after("create");
    return {
      accessKeyId: key.accessKeyId,
      secretAccessKey: new SecretValue(key.secret),
      createdAt: key.createdAt,
    };
  }

  async deactivate(accessKeyId: string): Promise<void> {
    this.#step("deactivate");
    this.keys = this.keys.map((k) => (k.accessKeyId === accessKeyId ? { ...k, status: "Inactive" } : k));
    this.#after("deactivate");
  }

  async delete(accessKeyId: string): Promise<void> {
    this.#step("delete");
    if (!this.keys.some((k) => k.accessKeyId === accessKeyId)) throw new Error("NoSuchEntity");
    this.keys = this.keys.filter((k) => k.accessKeyId !== accessKeyId);
    this.#after("delete");
  }

  status(accessKeyId: string): "Active" | "Inactive" | "absent" {
    return this.keys.find((k) => k.accessKeyId === accessKeyId)?.status ?? "absent";
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.keys.find((k) => k.accessKeyId === accessKeyId)?.secret;
  }
}

export class FakeProbe implements IdentityProbe {
  /** Number of calls that fail as if IAM had not propagated the key yet. */
  notYetPropagated = 0;
  constructor(
    private readonly iam: FakeIam,
    private readonly arn: string,
  ) {}

  async callerArn(key: AccessKeyPair): Promise<string> {
    // The errors StsIdentityProbe throws for these answers (test/aws/identity-probe.test.ts proves it on moto).
    if (this.notYetPropagated > 0) {
      this.notYetPropagated--;
      throw new KeyNotAcceptedError(key.accessKeyId, "InvalidClientTokenId");
    }
    if (this.iam.secretOf(key.accessKeyId) !== key.secretAccessKey.reveal())
      throw new KeyNotAcceptedError(key.accessKeyId, "SignatureDoesNotMatch");
    return this.arn;
  }
}

/** Where a memory store's write fails: before it takes effect, or after it did (the caller never hears back). */
export type WriteFault = { readonly write: number; readonly when: "before" | "after" };

/** The state secret's value, in memory (the part of the state that holds key material). */
export class MemoryKeyStore implements KeyMaterialStore {
  readonly id =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:GHS-AKM-deploy-bot-RotationState-Fake01";
  readonly location = "Secrets Manager secret (memory)";
  text: string | undefined;
  writes = 0;
  fault: WriteFault | undefined;

  async read(): Promise<string | undefined> {
    return this.text;
  }

  async write(text: string): Promise<void> {
    this.writes++;
    if (this.fault?.write === this.writes && this.fault.when === "before")
      throw new Error("injected failure before the secret write");
    // Secrets Manager's limit for a secret value (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
    if (Buffer.byteLength(text, "utf8") > 65_536) {
      throw new Error(`ValidationException: the secret value is ${Buffer.byteLength(text, "utf8")} bytes`);
    }
    this.text = text;
    if (this.fault?.write === this.writes && this.fault.when === "after")
      throw new Error("injected crash after the secret write");
  }
}

/** The progress object, in memory, with S3's conditional writes (If-Match / If-None-Match: *). */
export class MemoryProgressStore implements ProgressStore {
  readonly location = "s3://test-bucket/repos.json.progress.json";
  text: string | undefined;
  #version = 0;
  writes = 0;
  fault: WriteFault | undefined;

  async read(): Promise<VersionedText | undefined> {
    return this.text === undefined ? undefined : { text: this.text, version: `"v${this.#version}"` };
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    this.writes++;
    if (this.fault?.write === this.writes && this.fault.when === "before")
      throw new Error("injected failure before the progress write");
    const current = this.text === undefined ? undefined : `"v${this.#version}"`;
    if (current !== expectedVersion) {
      throw new StateStoreError(
        `conflict on ${this.location}: ${current} is not ${expectedVersion}`,
        "retry",
      );
    }
    this.text = text;
    this.#version++;
    if (this.fault?.write === this.writes && this.fault.when === "after")
      throw new Error("injected crash after the progress write");
    return `"v${this.#version}"`;
  }
}

/**
 * The rotation state as the Lambda keeps it — the keys in a secret, the progress in an object, split by the real
 * SplitStateStore — in memory, so every unit test also round-trips both stored formats and their write order.
 */
export class MemoryStateStore implements StateStore {
  readonly secret = new MemoryKeyStore();
  readonly progress = new MemoryProgressStore();
  readonly #store = new SplitStateStore(this.secret, this.progress);
  saves = 0;
  crashOnSave: number | undefined;

  async load(): Promise<RotationState | undefined> {
    return this.#store.load();
  }

  async save(state: RotationState): Promise<void> {
    this.saves++;
    if (this.crashOnSave === this.saves) throw new Error("injected crash in state.save");
    await this.#store.save(state);
  }
}

export class MemoryConfigStore implements ConfigStore {
  readonly location = "s3://test-bucket/repos.json";
  text: string | undefined;
  writes = 0;

  constructor(repos?: readonly RepoRef[]) {
    if (repos) this.text = JSON.stringify({ Repos: repos.map((r) => ({ Name: r.name, Owner: r.owner })) });
  }

  async read(): Promise<ConfigDocument | undefined> {
    return this.text === undefined ? undefined : { text: this.text, version: `v${this.writes}` };
  }

  async write(text: string): Promise<void> {
    this.writes++;
    this.text = text;
  }
}

interface FakeRepo {
  readonly values: Map<string, string>;
  readonly updatedAt: Map<string, Date>;
}

export class FakeGitHub implements SecretsTarget {
  readonly repos = new Map<string, FakeRepo>();
  readonly writes: string[] = [];
  readonly publicKeyFetches: string[] = [];
  tokenValid = true;
  /** Repos (owner/name) whose writes fail until removed. */
  readonly failingWrites = new Set<string>();
  /** Repos (owner/name) that are archived: checkWritable refuses them, and so do their writes. */
  readonly archived = new Set<string>();
  /** Called after each write, to check invariants at every instant. */
  onWrite: ((repo: string) => void) | undefined;
  /**
   * Faults of single writes, consumed in order: the write of secret `name` to `repo` fails `times` times —
   * `before` it takes effect, or `after` (the secret is stored, the answer is lost) — as a transient (5xx) or
   * a user (403) fault.
   */
  readonly writeFaults: {
    repo: string;
    name: string;
    times: number;
    when: "before" | "after";
    fault: "transient" | "user";
  }[] = [];

  constructor(private readonly clock: FakeClock) {}

  addRepo(owner: string, name: string): RepoRef {
    this.repos.set(`${owner}/${name}`, { values: new Map(), updatedAt: new Map() });
    return { owner, name };
  }

  async whoAmI(): Promise<string> {
    if (!this.tokenValid)
      throw new GitHubAccessError("GitHub rejected the token (401).", { status: 401, fix: "New token." });
    return "machine-user";
  }

  async checkWritable(repo: RepoRef): Promise<void> {
    const label = repoLabel(repo);
    if (this.archived.has(label)) {
      throw new GitHubAccessError(`${label} is archived. Nothing was changed.`, {
        repo: label,
        fix: "Unarchive it or remove it from the list.",
      });
    }
  }

  async publicKey(repo: RepoRef): Promise<RepoPublicKey> {
    const label = repoLabel(repo);
    this.publicKeyFetches.push(label);
    if (!this.repos.has(label)) {
      throw new GitHubAccessError(`Repository ${label} not found (404).`, {
        status: 404,
        repo: label,
        fix: "Check the name.",
      });
    }
    return { keyId: `kid-${label}`, key: "unused-in-fakes" };
  }

  async writeSecret(
    repo: RepoRef,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    const label = repoLabel(repo);
    if (publicKey.keyId !== `kid-${label}`) throw new Error("wrong public key for repo");
    if (this.failingWrites.has(label) || this.archived.has(label)) {
      throw new GitHubAccessError(`GitHub refused PUT secret ${name} on ${label} (403).`, {
        status: 403,
        repo: label,
        fix: "Grant the token access.",
      });
    }
    const stored = this.repos.get(label);
    if (!stored) throw new Error(`no repo ${label}`);
    const fault = this.writeFaults.find((f) => f.repo === label && f.name === name && f.times > 0);
    if (fault) fault.times--;
    const refuse = () =>
      new GitHubAccessError(`GitHub answered PUT secret ${name} on ${label} with an error.`, {
        status: fault?.fault === "user" ? 403 : 502,
        repo: label,
        fix: fault?.fault === "user" ? "Grant the token access." : "Run Rotate again.",
        fault: fault?.fault ?? "transient",
      });
    if (fault?.when === "before") throw refuse();
    // Each write takes a (fake) second, as the client paces writes one second apart.
    this.clock.advance(1000);
    stored.values.set(name, value.reveal());
    stored.updatedAt.set(name, this.clock.now());
    this.writes.push(`${label}:${name}`);
    this.onWrite?.(label);
    if (fault?.when === "after") throw refuse();
  }

  async secretUpdatedAt(repo: RepoRef, name: string): Promise<Date | undefined> {
    return this.repos.get(repoLabel(repo))?.updatedAt.get(name);
  }

  value(label: string, name: string): string | undefined {
    return this.repos.get(label)?.values.get(name);
  }
}

/** The lease semantics of the S3 lock, in memory. */
export class MemoryRunLock implements RunLock {
  lease: LockHolder | undefined;

  async acquire(owner: string, now: Date, ttlMs: number): Promise<LockHolder | undefined> {
    const held = this.lease;
    if (held && held.owner !== owner && Date.parse(held.expiresAt) > now.getTime()) return held;
    this.lease = {
      owner,
      acquiredAt: held?.owner === owner ? held.acquiredAt : now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
    return undefined;
  }

  async release(owner: string): Promise<void> {
    if (this.lease?.owner === owner) this.lease = undefined;
  }
}

export const USER_ARN = "arn:aws:iam::123456789012:user/deploy-bot";

export interface FakeWorld {
  readonly clock: FakeClock;
  readonly iam: FakeIam;
  readonly probe: FakeProbe;
  readonly state: MemoryStateStore;
  readonly config: MemoryConfigStore;
  readonly github: FakeGitHub;
  readonly repos: RepoRef[];
  readonly logs: string[];
  readonly lock: MemoryRunLock;
  readonly deps: RotationDeps;
}

/** A world with `repoCount` repositories, all listed and reachable. */
export function fakeWorld(repoCount = 3, graceMinutes = 60): FakeWorld {
  const clock = new FakeClock();
  const iam = new FakeIam(clock);
  const probe = new FakeProbe(iam, USER_ARN);
  const state = new MemoryStateStore();
  const github = new FakeGitHub(clock);
  const repos = Array.from({ length: repoCount }, (_, i) => github.addRepo("acme", `service-${i + 1}`));
  const config = new MemoryConfigStore(repos);
  const logs: string[] = [];
  const lock = new MemoryRunLock();
  const deps: RotationDeps = {
    lock,
    iam,
    probe,
    state,
    config,
    github,
    clock,
    log: (line) => logs.push(line),
    settings: {
      iamUserName: "deploy-bot",
      iamUserArn: USER_ARN,
      secretNameKeyId: "AWS_ACCESS_KEY_ID",
      secretNameSecretKey: "AWS_SECRET_ACCESS_KEY",
      graceMinutes,
      verify: { attempts: 5, firstDelayMs: 1000, maxDelayMs: 4000 },
      saveEvery: 2,
    },
  };
  return { clock, iam, probe, state, config, github, repos, logs, lock, deps };
}

/** The handler's answer for an outcome (rendered as the Lambda renders it), plus the per-repository results. */
export type TestAnswer = HandlerResult & { readonly repos: RunOutcome["repos"] };

/** Renders `outcome` at the fake clock's time, as the handler does, keeping the per-repository results. */
export function answerOf(clock: Clock, outcome: RunOutcome): TestAnswer {
  return { ...renderAnswer(outcome, clock.now()), repos: outcome.repos };
}
