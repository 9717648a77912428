/**
 * "Crash anywhere, converge always": runs the Rotate runbook of a full local stack (moto, the GitHub emulator,
 * the template's Lambda code on Node 24) through the call proxy of test/support/aws-proxy.ts, makes one call of
 * the rotation go wrong — the process killed right after the call took effect, the call answered 500, or its
 * connection dropped after it took effect — and then re-runs Rotate as a user would until it succeeds.
 *
 * What must hold for every fault (checked by `runScenario`):
 * - after every call that changes something, in every run (the proxy checks before the function sees the
 *   answer, so this is every instant of the rotation): every reader of every listed target — a repository's or
 *   environment's jobs, each repository that sees an organization secret, Dependabot's — reads a key ID (secret
 *   or variable) that names an Active key (R1), and the user never has more than two keys;
 * - the reruns converge (Rotate ends Success) within MAX_RERUNS;
 * - the end state is the fault-free rotation's: the old key Active (grace period), exactly one new key, every
 *   reader reading the new key with the secret IAM issued for it, the rotation state promoted with nothing
 *   pending, and the lock released; no secret in any output; no request GitHub would refuse.
 */
import { IAMClient, UpdateAccessKeyCommand } from "@aws-sdk/client-iam";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { awsClientConfig, type StaticCredentials } from "../../scripts/local-stack/aws-fixtures.ts";
import type { OrgAccessSpec, SecretScope } from "../../scripts/local-stack/github-emulator/index.ts";
import {
  createStack,
  type KeyState,
  type RunbookRun,
  renderRepos,
  type Stack,
} from "../../scripts/local-stack/stack-fixture.ts";
import { lockKey, SETTINGS_ENV } from "../../src/config/settings.ts";
import { type Target, targetKey } from "../../src/domain/target.ts";
import { LOCK_TTL_MS } from "../../src/lifecycle/rotation-context.ts";
import {
  type CallFault,
  type CallProxy,
  type FaultEffect,
  type ProxiedCall,
  startCallProxy,
} from "../support/aws-proxy.ts";

/** Every scenario rotates the key of three repositories (of the organization `acme`). */
export const MATRIX_REPOS = ["acme/app-one", "acme/app-two", "acme/app-three"] as const;

/**
 * Where the rotation starts:
 * - `adopted`: the first rotation. The user has one key, made outside this tool, that every repository holds.
 * - `managed`: a later rotation. The repositories hold the key this tool made last time; the key before it is
 *   Inactive and past its grace period, so the rotation first deletes it (UpdateAccessKey, DeleteAccessKey).
 * - `mixed`: the first rotation of a list that mixes every kind of call (MIXED_LIST): a repository's and an
 *   environment's Actions secrets, an organization secret with selected repositories (resolved to IDs), a
 *   repository's Dependabot secrets, the key ID as a variable that exists (PATCH) and as one that does not yet
 *   (POST). Every target but the new variable's holds the adopted key.
 * - `app`: the first rotation as a GitHub App (APP_LIST): the App's own calls (GET /app, the installation lookup,
 *   minting installation tokens), dynamic selection's reads (the organization's repositories with their topics,
 *   its custom property values), the shadowing check's reads (environments, secret names of an environment and of
 *   each repository that sees an organization secret, the organization's repositories), Codespaces secrets of a
 *   repository and of the organization. Every installation token expires (GitHub answers 401) right after the
 *   first secret write of each run, so minting again is a call of the rotation too. Every target holds the
 *   adopted key.
 * - `shadowed`: the first rotation of three repositories, one of which deploys from an environment that holds its
 *   own copy of the key (the issue's reproduction): Rotate refuses before creating a key, after reading the
 *   workflow files (and a reusable workflow of another repository) to name the jobs that would keep the old key.
 *   The user then deletes the copy (`afterFirstRun`) and runs Rotate again. The boundaries are the refused run's
 *   calls; a fault there must never let a key be created or anything written while the copy exists.
 */
export type StartState = "adopted" | "managed" | "mixed" | "app" | "shadowed";

export const START_STATES: Readonly<Record<StartState, string>> = {
  adopted: "first rotation (1 adopted key)",
  managed: "later rotation (previous key deleted first)",
  mixed: "first rotation of mixed targets (repository, environment, organization, Dependabot, variables)",
  app: "first rotation as a GitHub App (selection by topic and property, shadowing check, Codespaces, token expiry)",
  shadowed:
    "first rotation refused for an environment's copy (workflow files read), run again once it is deleted",
};

/** The list of the `mixed` start (version 2), over MATRIX_REPOS. */
export const MIXED_LIST = {
  Version: 2,
  Repos: [
    { Owner: "acme", Name: "app-one" },
    { Type: "environment", Owner: "acme", Name: "app-one", Environment: "production" },
    { Type: "organization", Owner: "acme", Visibility: "selected", Repositories: ["app-two", "app-three"] },
    { Owner: "acme", Name: "app-two", Secrets: "dependabot" },
    { Owner: "acme", Name: "app-three", KeyIdAs: "variable" },
    { Type: "environment", Owner: "acme", Name: "app-two", Environment: "staging", KeyIdAs: "variable" },
  ],
} as const;

/**
 * The list of the `app` start (version 2), over MATRIX_REPOS: app-one and app-two have the topic, app-three the
 * property value (one of a multi-select's), so the selections find one repository each way; the organization's
 * Codespaces secret is visible to its private repositories (all three), which the shadowing check lists.
 */
export const APP_LIST = {
  Version: 2,
  Repos: [
    { Owner: "acme", Topic: "deploys-to-aws" },
    { Owner: "acme", Property: "deploy-target", Value: "aws", Secrets: "codespaces" },
    { Type: "environment", Owner: "acme", Name: "app-one", Environment: "production" },
    { Type: "organization", Owner: "acme", Visibility: "private", Secrets: "codespaces" },
  ],
} as const;

/** What the `app` start's App (and its installation on `acme`) was granted: what APP_LIST needs. */
const APP_PERMISSIONS = {
  metadata: "read",
  secrets: "write",
  actions: "read",
  environments: "write",
  contents: "read",
  codespaces_secrets: "write",
  organization_codespaces_secrets: "write",
  organization_custom_properties: "read",
} as const;

/**
 * The workflows of the `shadowed` start: app-one's release job deploys from environment production (which holds
 * its own copy of the key); its checks call a reusable workflow of app-two, which the check reads too.
 */
const SHADOWED_WORKFLOWS = {
  deploy: `name: deploy
on: push
jobs:
  checks:
    uses: acme/app-two/.github/workflows/checks.yml@main
  release:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: \${{ secrets.AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: \${{ secrets.AWS_SECRET_ACCESS_KEY }}
          aws-region: eu-west-1
`,
  checks: `name: checks
on: workflow_call
jobs:
  lint:
    runs-on: ubuntu-latest
    steps: [{ run: make lint }]
`,
};

/** A fault that needs more reruns than this did not converge. */
export const MAX_RERUNS = 5;

/** A place where a rotation can be interrupted: right after (or instead of) one call. */
export interface Boundary {
  /** Position in the fault-free rotation. */
  readonly seq: number;
  readonly label: string;
  readonly occurrence: number;
  /** The call only reads (AWS Get / List / Head, GitHub GET): it changes nothing. */
  readonly read: boolean;
}

/**
 * The faults worth injecting at a boundary. A call that only reads changes nothing, so killing the process
 * after it leaves exactly the state of the kill after the call before it, and dropping its answer is one
 * more way of failing it (500 covers every call): `kill` and `drop` apply to the calls that change something.
 */
export function effectsAt(boundary: Boundary): FaultEffect[] {
  return boundary.read ? ["error"] : ["kill", "error", "drop"];
}

export function boundaryName(boundary: Boundary): string {
  return `#${boundary.seq} ${boundary.label}${boundary.occurrence > 1 ? ` (${boundary.occurrence})` : ""}`;
}

/** The end state of a rotation, with key IDs replaced by their roles so two stacks compare equal. */
export interface EndState {
  /** `old` (the key the repositories held at the start) / `new` / `other`, with IAM status, oldest first. */
  readonly keys: readonly string[];
  /**
   * Each reader of each listed target (a repository's or environment's jobs, each repository that sees the
   * organization secret) → role of the key ID it reads, and whether the secret key it reads is the one IAM issued
   * for that key.
   */
  readonly repos: Readonly<Record<string, string>>;
  /** The rotation state: which roles it names current / previous, and whether anything is left pending. */
  readonly state: string;
  readonly lock: "released" | "held";
}

/** A stack whose function talks to moto and GitHub only through a call proxy, with invariant checks. */
export class ProxiedStack {
  /** Invariant breaches seen by the per-call check. */
  readonly breaches: string[] = [];
  /** Calls after which some reader read a key ID and secret that do not belong together. */
  readonly mismatchedPairs: string[] = [];
  maxKeys = 0;
  /** Aborted by the proxy when a `kill` fault fires: kills the Lambda process of the current run. */
  kill = new AbortController();
  /** The `app` start: the installation tokens were expired in this run already. */
  #tokensExpired = false;
  #keys: KeyState[] | undefined;
  /** Readers that read a key ID at the start: each must read an Active one at every instant. */
  readonly #heldAtStart: ReadonlySet<string>;

  private constructor(
    readonly stack: Stack,
    readonly start: StartState,
    /** The listed targets and those the list's selections find, for the rotation state's holdings. */
    readonly targets: readonly Target[],
    readonly proxy: CallProxy,
    /** The key the repositories hold at the start (its secret is test data). */
    readonly oldKey: string,
    readonly oldSecret: string,
    readonly secrets: SecretsManagerClient,
    readonly s3: S3Client,
    /** Keys the function created, with the secret IAM's CreateAccessKey answer carried. */
    readonly issued: ReadonlyMap<string, string>,
  ) {
    this.#heldAtStart = new Set(
      stack
        .targetReads()
        .filter((read) => read.keyId !== undefined)
        .map((read) => read.reader),
    );
  }

  static async open(
    endpoint: string,
    start: StartState,
    options: {
      readonly repos?: readonly string[];
      readonly beforeCall?: (call: ProxiedCall) => void | Promise<void>;
    } = {},
  ): Promise<ProxiedStack> {
    let self: ProxiedStack | undefined;
    let names: readonly [string, string][] = [];
    const issued = new Map<string, string>();
    const proxy = await startCallProxy({
      aws: endpoint,
      onKill: () => self?.kill.abort(),
      ...(options.beforeCall ? { beforeCall: options.beforeCall } : {}),
      // Only a call that changes keys (IAM) or secrets (GitHub) can break an invariant; after any other call the
      // state is the one checked after the call before, so checking after these is checking at every instant.
      afterCall: async (call, answer) => {
        if (call.label === "iam:CreateAccessKey") remember(issued, answer.body.toString("utf8"));
        if (self) self.#expireTokensAfterFirstWrite(call);
        if (isRead(call) || (call.service !== "iam" && call.service !== "github")) return;
        await self?.check(`after call #${call.seq} ${call.label}`, call.service === "iam");
      },
      normalize: (text) => names.reduce((out, [from, to]) => out.replaceAll(from, to), text),
    });
    const repos = options.repos ?? MATRIX_REPOS;
    const list = start === "mixed" ? MIXED_LIST : start === "app" ? APP_LIST : undefined;
    const reposJson = list ? `${JSON.stringify(list, null, 2)}\n` : renderRepos(repos);
    try {
      const stack = await createStack(endpoint, {
        repos,
        reposJson,
        ...(start === "app" ? { githubApp: { permissions: APP_PERMISSIONS } } : {}),
        existingKeys: start === "managed" ? 2 : 1,
        seedReposWithExistingKey: list === undefined,
        lambdaEnv: { AWS_ENDPOINT_URL: proxy.url, AKM_GITHUB_API_URL: proxy.githubUrl },
        // Every key the function creates passes through the proxy, so moto's slow state dump is not needed.
        issuedAccessKeys: () => [
          ...stack.existingKeys,
          ...[...issued].map(([accessKeyId, secretAccessKey]) => ({
            accessKeyId,
            secretAccessKey,
          })),
        ],
      });
      proxy.setGitHubTarget(stack.github.url);
      names = [
        [stack.bucket, "{bucket}"],
        [stack.user.userName, "{user}"],
      ];
      const secrets = new SecretsManagerClient(awsClientConfig(endpoint));
      const held = await arrange(start, stack, secrets);
      // What the list's selections find now is what the first run will find (the fixture resolves at each run).
      await stack.resolveSelections();
      self = new ProxiedStack(
        stack,
        start,
        stack.targets(),
        proxy,
        held?.accessKeyId ?? "",
        held?.secretAccessKey ?? "",
        secrets,
        new S3Client(awsClientConfig(endpoint)),
        issued,
      );
      return self;
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  /**
   * The `app` start: right after the first secret or variable write of each run has taken effect, every
   * installation token minted so far expires, as if its hour had passed; GitHub answers the next request 401 and
   * the function mints a new token (src/github/installation-token-auth.ts).
   */
  #expireTokensAfterFirstWrite(call: ProxiedCall): void {
    if (this.start !== "app" || this.#tokensExpired || call.service !== "github") return;
    if (!/^(PUT|POST|PATCH)\b/.test(call.action) || call.label.includes("/access_tokens")) return;
    this.#tokensExpired = true;
    this.stack.github.apps.expireTokens();
  }

  /**
   * What the user does between the first run and the next: for the `shadowed` start, reads the refusal and deletes
   * the environment's copy of the key. Nothing for the others. Returns what went wrong before (the first run
   * created a key or wrote a secret while the copy existed); empty when nothing did.
   */
  async afterFirstRun(): Promise<string[]> {
    if (this.start !== "shadowed") return [];
    const problems: string[] = [];
    const keys = (await this.stack.keys()).map((key) => key.accessKeyId);
    const before = this.stack.existingKeys.map((key) => key.accessKeyId);
    if (JSON.stringify(keys) !== JSON.stringify(before)) {
      problems.push(
        `keys changed while a copy shadowed the key: ${keys.length} keys, ${before.length} before`,
      );
    }
    const writes = this.stack.github.requests.filter((request) => request.method !== "GET");
    if (writes.length > 0) {
      problems.push(
        `GitHub changed while a copy shadowed the key: ${writes.map((w) => `${w.method} ${w.path}`).join(", ")}`,
      );
    }
    for (const name of [keyIdName(this.stack), secretKeyName(this.stack)]) {
      this.stack.github.deleteSecretAt(SHADOWING_COPY, name);
    }
    return problems;
  }

  /**
   * Checks the invariants now: the function is blocked in the proxy, so this is an instant of the rotation.
   * The key list is read again only when `keysChanged` (or never read yet): only IAM calls change it.
   */
  async check(when: string, keysChanged = true): Promise<void> {
    if (keysChanged || this.#keys === undefined) this.#keys = await this.stack.keys();
    const keys = this.#keys;
    this.maxKeys = Math.max(this.maxKeys, keys.length);
    if (keys.length > 2) this.breaches.push(`${when}: ${keys.length} access keys`);
    for (const read of this.stack.targetReads()) {
      if (read.keyId === undefined && !this.#heldAtStart.has(read.reader)) continue; // nothing held yet
      const key = keys.find((k) => k.accessKeyId === read.keyId);
      if (key?.status !== "Active") {
        this.breaches.push(
          `R1 ${when}: ${read.reader} reads ${read.keyId}, which is ${key ? key.status : "deleted"}`,
        );
      }
      if (read.keyId && (await this.#issuedSecret(read.keyId)) !== read.secretKey) {
        this.mismatchedPairs.push(`${when}: ${read.reader}`);
      }
    }
  }

  /** The secret IAM issued for a key: a pre-existing key's, or the one in IAM's CreateAccessKey answer. */
  async #issuedSecret(accessKeyId: string): Promise<string | undefined> {
    if (accessKeyId === this.oldKey) return this.oldSecret;
    return this.issued.get(accessKeyId) ?? (await this.stack.issuedSecretOf(accessKeyId));
  }

  /**
   * Runs the Rotate runbook with `fault` armed (or none). The grace period is not waited for (its aws:sleep is
   * skipped), so Retire leaves the old key Active, as during a real grace period. Only the Rotate step's calls
   * count: the fault is disarmed when the runbook reaches its first wait (WaitForWriteBudget).
   */
  async rotate(fault?: CallFault): Promise<{ run: RunbookRun; rotateCalls: number }> {
    this.kill = new AbortController();
    this.#tokensExpired = false;
    this.proxy.reset();
    if (fault) this.proxy.arm(fault);
    else this.proxy.disarm();
    let rotateCalls: number | undefined;
    try {
      const run = await this.stack.runRunbook(
        "Rotate",
        {},
        {
          killLambda: this.kill.signal,
          sleep: "skip",
          onSleep: () => {
            // The first wait (WaitForWriteBudget, which every loop iteration reaches) disarms the fault: the
            // calls after it (RotateResult's reads, Retire's) are no boundaries, as a fault there cannot fire.
            rotateCalls ??= this.proxy.calls.length;
            this.proxy.disarm();
          },
        },
      );
      return { run, rotateCalls: rotateCalls ?? this.proxy.calls.length };
    } finally {
      this.proxy.disarm();
    }
  }

  /** The end state, in roles. */
  async endState(newKey: string | undefined): Promise<EndState> {
    const role = (id: string | undefined) =>
      id === undefined ? "none" : id === this.oldKey ? "old" : id === newKey ? "new" : "other";
    const keys = await this.stack.keys();
    const repos: Record<string, string> = {};
    for (const read of this.stack.targetReads()) {
      const matches = read.keyId !== undefined && (await this.#issuedSecret(read.keyId)) === read.secretKey;
      repos[read.reader] = `${role(read.keyId)}${matches ? "" : " (secret does not match)"}`;
    }
    const state = await this.stack.rotationState();
    const currentSecretOk =
      state?.current?.secretAccessKey !== undefined &&
      state.current.secretAccessKey.reveal() === (await this.#issuedSecret(state.current.accessKeyId));
    const holdings = this.targets
      .map((target) => role(state?.holdings[targetKey(target)]?.accessKeyId))
      .join(",");
    return {
      keys: keys.map((key) => `${role(key.accessKeyId)}:${key.status}`),
      repos,
      state: [
        `current=${role(state?.current?.accessKeyId)}${currentSecretOk ? "" : " (secret lost)"}`,
        `previous=${role(state?.previous?.accessKeyId)}`,
        `pending=${state?.pending ? "yes" : "no"}`,
        `creating=${state?.creating ? "yes" : "no"}`,
        `holdings=${holdings}`,
      ].join(" "),
      lock: (await this.#lockHeld()) ? "held" : "released",
    };
  }

  async #lockHeld(): Promise<boolean> {
    try {
      await this.s3.send(
        new GetObjectCommand({ Bucket: this.stack.bucket, Key: lockKey(this.stack.configKey) }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "NoSuchKey") return false;
      throw error;
    }
  }

  /** Secret hygiene and GitHub's contract, as useStacks checks after every test. */
  async hygiene(): Promise<string[]> {
    return [
      ...(await this.stack.secretLeaks()),
      ...this.stack.r1Failures.map((failure) => `R1 (stack check): ${failure}`),
      ...this.stack.github.violations.map((violation) => `GitHub would refuse: ${violation}`),
    ];
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await this.stack.close();
    this.secrets.destroy();
    this.s3.destroy();
  }
}

/** The stack's key ID name (pGitHubSecretNameKeyId) and secret key name. */
function keyIdName(stack: Stack): string {
  return stack.env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID";
}
function secretKeyName(stack: Stack): string {
  return stack.env[SETTINGS_ENV.secretNameSecretKey] ?? "AWS_SECRET_ACCESS_KEY";
}

/** Arranges `start` on a new stack; returns the key the targets hold. */
async function arrange(
  start: StartState,
  stack: Stack,
  secrets: SecretsManagerClient,
): Promise<StaticCredentials | undefined> {
  switch (start) {
    case "adopted":
      return stack.existingKeys[0];
    case "managed":
      return managedStart(stack, secrets);
    case "mixed":
      return mixedStart(stack);
    case "app":
      return appStart(stack);
    case "shadowed":
      return shadowedStart(stack);
  }
}

/**
 * Turns a stack with two pre-existing keys into the state a completed, retired rotation leaves: the repositories
 * and the rotation state hold the second key as current; the first is Inactive and past its grace period.
 */
async function managedStart(
  stack: Stack,
  secrets: SecretsManagerClient,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const [retired, current] = stack.existingKeys;
  if (!retired || !current) throw new Error("faults-matrix: the managed start needs two keys");
  const iam = new IAMClient(awsClientConfig(stack.endpoint));
  try {
    await iam.send(
      new UpdateAccessKeyCommand({
        UserName: stack.user.userName,
        AccessKeyId: retired.accessKeyId,
        Status: "Inactive",
      }),
    );
  } finally {
    iam.destroy();
  }
  const keyIdName = stack.env[SETTINGS_ENV.secretNameKeyId] ?? "AWS_ACCESS_KEY_ID";
  const secretName = stack.env[SETTINGS_ENV.secretNameSecretKey] ?? "AWS_SECRET_ACCESS_KEY";
  for (const full of stack.repos) {
    const [owner = "", name = ""] = full.split("/");
    stack.github.setSecret(owner, name, keyIdName, current.accessKeyId);
    stack.github.setSecret(owner, name, secretName, current.secretAccessKey);
  }
  const dayAgo = new Date(Date.now() - 24 * 60 * 60_000).toISOString();
  // As the previous release left it: the whole state in the secret (version 1), migrated by the first save.
  const state = {
    schemaVersion: 1,
    current: {
      accessKeyId: current.accessKeyId,
      secretAccessKey: current.secretAccessKey,
      createdAt: dayAgo,
      origin: "created",
    },
    previous: { accessKeyId: retired.accessKeyId, origin: "created", retireAfter: dayAgo },
    holdings: Object.fromEntries(
      stack.repos.map((repo) => [repo, { accessKeyId: current.accessKeyId, writtenAt: dayAgo }]),
    ),
    updatedAt: dayAgo,
  };
  await secrets.send(
    new PutSecretValueCommand({ SecretId: stack.stateSecretArn, SecretString: JSON.stringify(state) }),
  );
  return current;
}

/**
 * Arranges the `mixed` start (MIXED_LIST): `acme` an organization with the environments the list names, and every
 * target but the staging environment's holding the first key (as a secret; app-three's key ID as a variable),
 * the organization secret visible to app-two and app-three. Returns the key they hold.
 */
function mixedStart(stack: Stack): { accessKeyId: string; secretAccessKey: string } {
  const [key] = stack.existingKeys;
  if (!key) throw new Error("faults-matrix: the mixed start needs a key");
  const { github } = stack;
  github.addOrg("acme");
  github.addEnvironment("acme", "app-one", "production");
  github.addEnvironment("acme", "app-two", "staging");
  const pair = holdPair(stack, key);
  pair({ kind: "repository", owner: "acme", repo: "app-one", store: "actions" });
  pair({ kind: "environment", owner: "acme", repo: "app-one", environment: "production" });
  pair({ kind: "repository", owner: "acme", repo: "app-two", store: "dependabot" });
  pair({ kind: "repository", owner: "acme", repo: "app-three", store: "actions" }, "variable");
  const org: SecretScope = { kind: "organization", org: "acme", store: "actions" };
  pair(org, "secret", { visibility: "selected", repositories: ["app-two", "app-three"] });
  return key;
}

/** Stores `key`'s pair at a scope (the key ID as a secret or an Actions variable; `access`: organizations). */
function holdPair(stack: Stack, key: StaticCredentials) {
  const { github } = stack;
  return (scope: SecretScope, keyIdAs: "secret" | "variable" = "secret", access?: OrgAccessSpec) => {
    if (keyIdAs === "variable") github.setVariableAt(scope, keyIdName(stack), key.accessKeyId, access);
    else github.setSecretAt(scope, keyIdName(stack), key.accessKeyId, access);
    github.setSecretAt(scope, secretKeyName(stack), key.secretAccessKey, access);
  };
}

/**
 * Arranges the `app` start (APP_LIST): `acme` an organization whose repositories app-one and app-two have the
 * topic (app-two also another), app-three the property value among others and app-one another value; app-one has
 * environment production (listed), app-two environment staging (not listed, no copy: the shadowing check lists
 * its secrets). Every target holds the first key. Returns it.
 */
function appStart(stack: Stack): StaticCredentials {
  const [key] = stack.existingKeys;
  if (!key) throw new Error("faults-matrix: the app start needs a key");
  const { github } = stack;
  github.addOrg("acme");
  github.setTopics("acme", "app-one", ["deploys-to-aws"]);
  github.setTopics("acme", "app-two", ["node", "deploys-to-aws"]);
  github.setCustomProperties("acme", "app-one", { "deploy-target": "azure" });
  github.setCustomProperties("acme", "app-three", { "deploy-target": ["gcp", "aws"] });
  github.addEnvironment("acme", "app-one", "production");
  github.addEnvironment("acme", "app-two", "staging");
  const pair = holdPair(stack, key);
  for (const repo of ["app-one", "app-two"])
    pair({ kind: "repository", owner: "acme", repo, store: "actions" });
  pair({ kind: "environment", owner: "acme", repo: "app-one", environment: "production" });
  pair({ kind: "repository", owner: "acme", repo: "app-three", store: "codespaces" });
  pair({ kind: "organization", org: "acme", store: "codespaces" }, "secret", { visibility: "private" });
  return key;
}

/** Where the `shadowed` start keeps the copy of the key the list does not manage. */
const SHADOWING_COPY: SecretScope = {
  kind: "environment",
  owner: "acme",
  repo: "app-one",
  environment: "production",
};

/**
 * Arranges the `shadowed` start: the repositories hold the first key (seeded by the fixture), and app-one's
 * environment production, which its release job deploys from, holds its own copy of it (SHADOWED_WORKFLOWS).
 */
function shadowedStart(stack: Stack): StaticCredentials {
  const [key] = stack.existingKeys;
  if (!key) throw new Error("faults-matrix: the shadowed start needs a key");
  const { github } = stack;
  github.addOrg("acme");
  github.addEnvironment("acme", "app-one", "production");
  github.setWorkflow("acme", "app-one", "deploy.yml", SHADOWED_WORKFLOWS.deploy);
  github.setWorkflow("acme", "app-two", "checks.yml", SHADOWED_WORKFLOWS.checks);
  holdPair(stack, key)(SHADOWING_COPY);
  return key;
}

/** The fault-free rotation: its calls (the boundaries) and its end state (the reference). */
export interface Reference {
  readonly start: StartState;
  readonly boundaries: readonly Boundary[];
  /** Rotate runs after the first that the fault-free path needs (the `shadowed` start's run after the fix). */
  readonly reruns: number;
  readonly end: EndState;
}

export async function recordReference(endpoint: string, start: StartState): Promise<Reference> {
  const stack = await ProxiedStack.open(endpoint, start);
  try {
    const { run, rotateCalls } = await stack.rotate();
    const boundaries = stack.proxy.calls
      .slice(0, rotateCalls)
      .map((call) => ({ seq: call.seq, label: call.label, occurrence: call.occurrence, read: isRead(call) }));
    const problems = await stack.afterFirstRun();
    let last = run;
    let reruns = 0;
    if (start === "shadowed") {
      if (!/Rotation refused/.test(run.execution.failureMessage ?? "")) {
        throw new Error(
          `the fault-free rotation was not refused for the copy: ${run.execution.failureMessage ?? run.execution.status}`,
        );
      }
      reruns++;
      last = (await stack.rotate()).run;
    }
    if (last.execution.status !== "Success") {
      throw new Error(`the fault-free rotation failed: ${last.execution.failureMessage ?? "(no message)"}`);
    }
    problems.push(...stack.breaches, ...(await stack.hygiene()));
    if (problems.length > 0)
      throw new Error(`the fault-free rotation broke invariants: ${problems.join("; ")}`);
    const end = await stack.endState(
      String(last.execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? ""),
    );
    return { start, boundaries, reruns, end };
  } finally {
    await stack.close();
  }
}

export interface ScenarioResult {
  readonly start: StartState;
  readonly boundary: Boundary;
  readonly effect: FaultEffect;
  /** The fault happened (the call was reached). */
  readonly fired: boolean;
  /** How the faulted run ended (execution status, and the Rotate step's answer). */
  readonly faultedRun: string;
  readonly converged: boolean;
  /**
   * Rotate executions after the faulted one until one succeeded, beyond those the fault-free path needs
   * (`Reference.reruns`).
   */
  readonly reruns: number;
  /** The faulted run left a repository with a key ID and secret that do not belong together. */
  readonly leftMismatchedPair: boolean;
  readonly maxKeys: number;
  /** The end state is the fault-free rotation's (keys, repositories, rotation state, lock). */
  readonly endMatches: boolean;
  /** Keys at the end that are neither the old nor the new one (orphans). */
  readonly orphans: number;
  /** The end state lost a secret: a repository's pair does not match IAM, or the state's key has no secret. */
  readonly lostSecret: boolean;
  /** Everything that went wrong; empty when the scenario passed. */
  readonly problems: readonly string[];
}

const IN_PROGRESS = /another rotation is in progress/i;

/** One fault at one boundary, then reruns until success; never throws for what it finds. */
export async function runScenario(
  endpoint: string,
  reference: Reference,
  boundary: Boundary,
  effect: FaultEffect,
): Promise<ScenarioResult> {
  try {
    return await scenario(endpoint, reference, boundary, effect);
  } catch (error) {
    // A broken harness (not a broken rotation) still must not hide the other scenarios' results.
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return {
      start: reference.start,
      boundary,
      effect,
      fired: false,
      faultedRun: "(harness error)",
      converged: false,
      reruns: 0,
      leftMismatchedPair: false,
      maxKeys: 0,
      endMatches: false,
      orphans: 0,
      lostSecret: false,
      problems: [`harness error: ${why}`],
    };
  }
}

async function scenario(
  endpoint: string,
  reference: Reference,
  boundary: Boundary,
  effect: FaultEffect,
): Promise<ScenarioResult> {
  const stack = await ProxiedStack.open(endpoint, reference.start);
  const problems: string[] = [];
  try {
    const faulted = await stack.rotate({
      at: { label: boundary.label, occurrence: boundary.occurrence },
      effect,
    });
    const fired = stack.proxy.fired !== undefined;
    if (!fired) problems.push("the fault never fired: the rotation did not reach this call");
    const killed = faulted.run.invocations.some((invocation) => invocation.outcome === "killed");
    if (effect === "kill" && fired && !killed) problems.push("the Lambda was not killed");
    const faultedRun = `${faulted.run.execution.status}${faulted.run.lastResult ? ` (${faulted.run.lastResult.status})` : killed ? " (killed)" : ""}`;
    const leftMismatchedPair = await pairsMismatched(stack);
    problems.push(...(await stack.afterFirstRun()));

    let reruns = 0;
    let last = faulted.run;
    let leaseLeft = killed;
    // The `shadowed` start's first run is refused, whatever the fault: the user runs Rotate again after the fix.
    const refusedFirst = reference.reruns > 0;
    while ((refusedFirst && reruns === 0) || (!succeeded(last) && reruns < MAX_RERUNS)) {
      // A killed run cannot release its lease; a user re-running after it waits for the lease to expire.
      if (leaseLeft) stack.stack.advanceClock(LOCK_TTL_MS + 60_000);
      reruns++;
      last = (await stack.rotate()).run;
      leaseLeft = IN_PROGRESS.test(last.execution.failureMessage ?? "");
    }
    const converged = succeeded(last);
    if (!converged) {
      problems.push(
        `did not converge in ${MAX_RERUNS} reruns; last run: ${last.execution.failureMessage ?? last.execution.status}`,
      );
    }
    const newKey = String(last.execution.outputs["CheckRotateResult.NewAccessKeyId"] ?? "");
    const end = await stack.endState(newKey || undefined);
    let endMatches = true;
    for (const field of ["keys", "repos", "state", "lock"] as const) {
      const got = JSON.stringify(end[field]);
      const want = JSON.stringify(reference.end[field]);
      if (got !== want) {
        endMatches = false;
        problems.push(`end state ${field}: ${got}, fault-free: ${want}`);
      }
    }
    problems.push(...stack.breaches, ...(await stack.hygiene()));
    return {
      start: reference.start,
      boundary,
      effect,
      fired,
      faultedRun,
      converged,
      reruns: reruns - reference.reruns,
      leftMismatchedPair,
      maxKeys: stack.maxKeys,
      endMatches,
      orphans: end.keys.filter((key) => key.startsWith("other")).length,
      lostSecret:
        end.state.includes("secret lost") ||
        Object.values(end.repos).some((held) => held.includes("does not match")),
      problems,
    };
  } finally {
    await stack.close();
  }
}

function succeeded(run: RunbookRun): boolean {
  return run.execution.status === "Success";
}

async function pairsMismatched(stack: ProxiedStack): Promise<boolean> {
  const before = stack.mismatchedPairs.length;
  await stack.check("after the faulted run");
  const after = stack.mismatchedPairs.length;
  stack.mismatchedPairs.splice(before);
  return after > before;
}

/** Keeps the key IAM issued, from the XML of a CreateAccessKey answer. */
function remember(issued: Map<string, string>, xml: string): void {
  const id = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml)?.[1];
  const secret = /<SecretAccessKey>([^<]+)<\/SecretAccessKey>/.exec(xml)?.[1];
  if (id && secret) issued.set(id, secret);
}

/** Calls that change nothing: AWS Get / List / Head actions, STS GetCallerIdentity, GitHub GETs. */
export function isRead(call: ProxiedCall): boolean {
  return /^(Get|List|Head|GET)/.test(call.action) || call.action === "GET";
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the input order in the results. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

const EFFECTS: Readonly<Record<FaultEffect, string>> = {
  kill: "Process killed right after the call took effect (each call that changes something)",
  error: "Call answered HTTP 500, every retry too (each call)",
  drop: "Connection dropped after the call took effect, every retry too (each call that changes something)",
};

/** Figures for the reliability report (`.tmp/reliability/<suite>.json`) and the printed table. */
export function summarize(
  references: readonly Reference[],
  results: readonly ScenarioResult[],
): { label: string; value: string }[] {
  const rows: { label: string; value: string }[] = [];
  for (const reference of references) {
    const github = reference.boundaries.filter((b) => b.label.startsWith("github:")).length;
    const changing = reference.boundaries.filter((b) => !b.read).length;
    rows.push({
      label: `Calls of a ${START_STATES[reference.start]}, 3 repositories: AWS + GitHub (of which change something)`,
      value: `${reference.boundaries.length - github} + ${github} (${changing})`,
    });
  }
  const passed = (r: ScenarioResult) => r.converged && r.problems.length === 0;
  const reruns = (of: readonly ScenarioResult[]) => {
    const counts = of.map((r) => r.reruns);
    return `${Math.max(...counts)} / ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(2)}`;
  };
  for (const effect of Object.keys(EFFECTS) as FaultEffect[]) {
    const of = results.filter((r) => r.effect === effect);
    if (of.length === 0) continue;
    rows.push({
      label: `${EFFECTS[effect]}: faults injected / converged`,
      value: `${of.length} / ${of.filter(passed).length}`,
    });
    rows.push({ label: `${EFFECTS[effect]}: reruns needed, max / mean`, value: reruns(of) });
  }
  const mismatched = results.filter((r) => r.leftMismatchedPair);
  rows.push(
    {
      label: "All faults: injected / converged",
      value: `${results.length} / ${results.filter(passed).length}`,
    },
    { label: "All faults: reruns needed, max / mean", value: reruns(results) },
    {
      label: "End state equal to the fault-free rotation's (keys, repositories, state, lock)",
      value: `${results.filter((r) => r.endMatches).length} / ${results.length}`,
    },
    {
      label:
        "R1 breaches: a reader of a listed target on a key that is not Active (checked after every call)",
      value: String(results.filter((r) => r.problems.some((p) => p.startsWith("R1"))).length),
    },
    { label: "Most access keys at any instant", value: String(Math.max(...results.map((r) => r.maxKeys))) },
    { label: "Orphaned keys at the end", value: String(results.reduce((n, r) => n + r.orphans, 0)) },
    { label: "Lost secrets at the end", value: String(results.filter((r) => r.lostSecret).length) },
    {
      label: "Faults that left a target with a mismatched key ID / secret pair until the rerun",
      value: `${mismatched.length}${mismatched.length ? ` (${(Object.keys(EFFECTS) as FaultEffect[]).map((e) => `${e} ${mismatched.filter((r) => r.effect === e).length}`).join(", ")})` : ""}`,
    },
  );
  return rows;
}
