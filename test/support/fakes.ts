/**
 * In-memory implementations of the ports, for unit tests of the pure lifecycle logic only.
 * Integration tests use moto and the GitHub emulator instead.
 */
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { AccessKeyInfo, AccessKeyPair, NewAccessKey } from "../../src/domain/access-key.ts";
import type { RepoRef } from "../../src/domain/repo.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { type Target, targetKey, targetLabel } from "../../src/domain/target.ts";
import { GitHubAccessError, IamStateError, KeyNotAcceptedError, StateStoreError } from "../../src/errors.ts";
import type { HandlerResult } from "../../src/handler-contract.ts";
import { ParsedTargetList } from "../../src/lifecycle/listed-targets.ts";
import type { RunOutcome } from "../../src/lifecycle/outcome.ts";
import type { RotationDeps } from "../../src/lifecycle/rotation-context.ts";
import type { RepositoryPage } from "../../src/lifecycle/selected-ids.ts";
import { SplitStateStore } from "../../src/lifecycle/split-state-store.ts";
import type { RotationState } from "../../src/lifecycle/state.ts";
import type {
  Clock,
  ConfigDocument,
  ConfigStore,
  IamKeys,
  IdentityProbe,
  KeyMaterialStore,
  ListedTargets,
  LockHolder,
  ProgressStore,
  RepoPublicKey,
  RunLock,
  SecretsTarget,
  StateStore,
  TargetIdentity,
  TargetList,
  TokenOwner,
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

/** What GitHub keeps at one target: its secrets (values and times) and, for Actions, its variables. */
interface FakeScope {
  readonly values: Map<string, string>;
  readonly updatedAt: Map<string, Date>;
  readonly variables: Map<string, string>;
}

function emptyScope(): FakeScope {
  return { values: new Map(), updatedAt: new Map(), variables: new Map() };
}

/** An organization secret's visibility as last written. */
export interface WrittenVisibility {
  readonly visibility: string;
  readonly selectedRepositoryIds: readonly number[] | undefined;
}

/**
 * GitHub in memory, for every kind of target: repositories (`addRepo`), their environments (`addEnvironment`) and
 * organizations (`addOrg`). Each target keeps its secrets and variables under its label (`targetLabel`: a
 * repository's Actions secrets under `owner/name`, as before targets existed).
 */
export class FakeGitHub implements SecretsTarget {
  /** Repositories by `owner/name`, each with its Actions secrets. */
  readonly repos = new Map<string, FakeScope>();
  /** Every other target's secrets and variables, by label. */
  readonly scopes = new Map<string, FakeScope>();
  /** `owner/name:environment` of the environments that exist. */
  readonly environments = new Set<string>();
  /** Organizations by login, with their IDs. */
  readonly orgs = new Map<string, number>();
  /** An organization secret's visibility as last written, by `label:name`. */
  readonly visibility = new Map<string, WrittenVisibility>();
  readonly writes: string[] = [];
  readonly publicKeyFetches: string[] = [];
  tokenValid = true;
  /** Targets (labels) whose writes fail until removed. */
  readonly failingWrites = new Set<string>();
  /** Repos (owner/name) that are archived: checkWritable refuses them, and so do their writes. */
  readonly archived = new Set<string>();
  /** Called after each write, to check invariants at every instant. */
  onWrite: ((target: string) => void) | undefined;
  /** Who the token belongs to, and when it expires (GET /user). */
  tokenOwner: TokenOwner = { login: "machine-user", expiresAt: undefined };
  /** GitHub's repository IDs, by owner/name. */
  readonly ids = new Map<string, number>();
  #nextId = 1001;
  /**
   * Requests that resolved selected repositories' names: `page ORG N` (a page of the organization's repositories) or
   * `repo OWNER/NAME` (one repository by name).
   */
  readonly lookups: string[] = [];
  /** How long each of those requests takes on the fake clock (ms). */
  lookupMs = 0;
  /** Thrown by the next of those requests (then cleared): GitHub's answer to it. */
  lookupFault: Error | undefined;
  /** The IDs the rotation handed over for an organization target's selected repositories, by targetKey. */
  readonly handedIds = new Map<string, readonly number[]>();
  /**
   * Faults of single writes, consumed in order: the write of secret (or variable) `name` to `repo` (a target's
   * label) fails `times` times — `before` it takes effect, or `after` (the value is stored, the answer is lost) — as
   * a transient (5xx) or a user (403) fault.
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
    this.repos.set(`${owner}/${name}`, emptyScope());
    this.ids.set(`${owner}/${name}`, this.#nextId++);
    return { owner, name };
  }

  /** The repository was deleted and a new one made under the same name: it has a new ID and no secrets. */
  recreateRepo(owner: string, name: string): void {
    this.addRepo(owner, name);
  }

  /** Creates an environment in a repository added before. */
  addEnvironment(owner: string, name: string, environment: string): void {
    this.environments.add(`${owner}/${name}:${environment}`);
  }

  /** Creates an organization; its repositories are added with `addRepo(org, …)`. */
  addOrg(org: string): void {
    this.orgs.set(org, this.#nextId++);
  }

  async whoAmI(): Promise<TokenOwner> {
    if (!this.tokenValid)
      throw new GitHubAccessError("GitHub rejected the token (401).", { status: 401, fix: "New token." });
    return this.tokenOwner;
  }

  async checkWritable(target: Target): Promise<TargetIdentity> {
    const label = targetLabel(target);
    if (target.kind === "organization") {
      const id = this.orgs.get(target.owner);
      if (id === undefined) throw this.#notFound(label);
      // As the GitHub adapter: the rotation resolves a selected secret's repositories (organizationRepositories).
      return { id };
    }
    const repo = `${target.owner}/${target.name}`;
    if (this.archived.has(repo)) {
      throw new GitHubAccessError(`${label} is archived. Nothing was changed.`, {
        repo: label,
        fix: "Unarchive it or remove it from the list.",
      });
    }
    if (target.kind === "environment" && !this.environments.has(`${repo}:${target.environment}`)) {
      throw new GitHubAccessError(`The environment ${target.environment} does not exist in ${repo}.`, {
        status: 404,
        repo: label,
        fix: "Create the environment.",
      });
    }
    return { id: this.ids.get(repo) ?? 0 };
  }

  async publicKey(target: Target): Promise<RepoPublicKey> {
    const label = targetLabel(target);
    this.publicKeyFetches.push(label);
    this.#scope(target);
    return { keyId: `kid-${label}`, key: "unused-in-fakes" };
  }

  async writeSecret(
    target: Target,
    publicKey: RepoPublicKey,
    name: string,
    value: SecretValue,
  ): Promise<void> {
    const label = targetLabel(target);
    if (publicKey.keyId !== `kid-${label}`) throw new Error("wrong public key for target");
    this.#store(target, name, value.reveal(), "secret");
    if (target.kind === "organization") {
      this.visibility.set(`${label}:${name}`, {
        visibility: target.visibility,
        selectedRepositoryIds:
          target.visibility === "selected"
            ? (this.handedIds.get(targetKey(target)) ?? this.#selectedIds(target))
            : undefined,
      });
    }
  }

  async writeVariable(target: Target, name: string, value: string): Promise<void> {
    if (target.kind !== "environment" && target.store !== "actions") {
      throw new Error(`${targetLabel(target)} has no variables`);
    }
    this.#store(target, name, value, "variable");
  }

  async secretUpdatedAt(target: Target, name: string): Promise<Date | undefined> {
    return this.#existing(target)?.updatedAt.get(name);
  }

  async variableValue(target: Target, name: string): Promise<string | undefined> {
    return this.#existing(target)?.variables.get(name);
  }

  /** A secret's value at a target (by label), as GitHub would decrypt it. */
  value(label: string, name: string): string | undefined {
    return (this.repos.get(label) ?? this.scopes.get(label))?.values.get(name);
  }

  /** A variable's value at a target (by label). */
  variable(label: string, name: string): string | undefined {
    return (this.repos.get(label) ?? this.scopes.get(label))?.variables.get(name);
  }

  /** One write of a secret or a variable, with the faults and checks a real one meets. */
  #store(target: Target, name: string, value: string, kind: "secret" | "variable"): void {
    const label = targetLabel(target);
    const archived = target.kind !== "organization" && this.archived.has(`${target.owner}/${target.name}`);
    if (this.failingWrites.has(label) || archived) {
      throw new GitHubAccessError(`GitHub refused PUT ${kind} ${name} on ${label} (403).`, {
        status: 403,
        repo: label,
        fix: "Grant the token access.",
      });
    }
    const stored = this.#scope(target);
    const fault = this.writeFaults.find((f) => f.repo === label && f.name === name && f.times > 0);
    if (fault) fault.times--;
    const refuse = () =>
      new GitHubAccessError(`GitHub answered PUT ${kind} ${name} on ${label} with an error.`, {
        status: fault?.fault === "user" ? 403 : 502,
        repo: label,
        fix: fault?.fault === "user" ? "Grant the token access." : "Run Rotate again.",
        fault: fault?.fault ?? "transient",
      });
    if (fault?.when === "before") throw refuse();
    // Each write takes a (fake) second, as the client paces writes one second apart.
    this.clock.advance(1000);
    if (kind === "secret") {
      stored.values.set(name, value);
      stored.updatedAt.set(name, this.clock.now());
    } else {
      stored.variables.set(name, value);
    }
    this.writes.push(`${label}:${kind === "variable" ? "vars." : ""}${name}`);
    this.onWrite?.(label);
    if (fault?.when === "after") throw refuse();
  }

  /** The target's store (created with its first secret), after checking that the target exists (404 otherwise). */
  #scope(target: Target): FakeScope {
    const label = targetLabel(target);
    const existing = this.#existing(target);
    if (existing) return existing;
    const exists =
      target.kind === "organization"
        ? this.orgs.has(target.owner)
        : this.repos.has(`${target.owner}/${target.name}`) &&
          (target.kind !== "environment" ||
            this.environments.has(`${target.owner}/${target.name}:${target.environment}`));
    if (!exists) throw this.#notFound(label);
    const created = emptyScope();
    this.scopes.set(label, created);
    return created;
  }

  #existing(target: Target): FakeScope | undefined {
    if (target.kind === "repository" && target.store === "actions") {
      return this.repos.get(`${target.owner}/${target.name}`);
    }
    return this.scopes.get(targetLabel(target));
  }

  /** 100 of the organization's repositories a page, A to Z (GitHub's `sort=full_name`). */
  async organizationRepositories(org: string, page: number): Promise<RepositoryPage> {
    this.lookups.push(`page ${org} ${page}`);
    await this.clock.sleep(this.lookupMs);
    this.#lookupFault();
    const prefix = `${org}/`.toLowerCase();
    const all = [...this.ids]
      .filter(([repo]) => repo.toLowerCase().startsWith(prefix))
      .map(([repo, id]) => ({ id, name: repo.slice(prefix.length) }))
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    return { repositories: all.slice((page - 1) * 100, page * 100), last: page * 100 >= all.length };
  }

  async selectedRepositoryId(target: Target & { kind: "organization" }, name: string): Promise<number> {
    this.lookups.push(`repo ${target.owner}/${name}`);
    await this.clock.sleep(this.lookupMs);
    this.#lookupFault();
    const found = [...this.ids].find(
      ([repo]) => repo.toLowerCase() === `${target.owner}/${name}`.toLowerCase(),
    );
    if (found === undefined) throw this.#notFound(`${target.owner}/${name}`);
    return found[1];
  }

  #lookupFault(): void {
    const fault = this.lookupFault;
    this.lookupFault = undefined;
    if (fault !== undefined) throw fault;
  }

  useSelectedRepositoryIds(target: Target & { kind: "organization" }, ids: readonly number[]): void {
    this.handedIds.set(targetKey(target), ids);
  }

  #selectedIds(target: Target & { kind: "organization" }): number[] {
    return target.selectedRepositories.map((name) => {
      const id = this.ids.get(`${target.owner}/${name}`);
      if (id === undefined) throw this.#notFound(`${target.owner}/${name}`);
      return id;
    });
  }

  #notFound(label: string): GitHubAccessError {
    return new GitHubAccessError(`${label} not found (404).`, {
      status: 404,
      repo: label,
      fix: "Check the name.",
    });
  }
}

/** The list as a run reads it, from targets set in memory (the list file's format is the parser's concern). */
export class MemoryTargetList implements TargetList {
  readonly location = "s3://test-bucket/repos.json";
  targets: readonly Target[];
  unmanaged: readonly Target[] = [];

  constructor(targets: readonly Target[]) {
    this.targets = targets;
  }

  async load(): Promise<ListedTargets> {
    return { targets: this.targets, unmanaged: this.unmanaged };
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
  const allowedOwners = OwnerAllowList.of("acme", "a-rather-long-organization-name");
  const deps: RotationDeps = {
    lock,
    iam,
    probe,
    state,
    list: new ParsedTargetList(config, allowedOwners),
    github,
    clock,
    log: (line) => logs.push(line),
    settings: {
      iamUserName: "deploy-bot",
      iamUserArn: USER_ARN,
      machineUserName: "machine-user",
      tokenSecretId: "GHS-AKM-deploy-bot-GitHubToken-machine-user",
      githubApiUrl: "https://api.github.com",
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
