/**
 * The runbooks' default versions: what runs when nobody names a version.
 *
 * The schedule starts `automation-definition/<Rotate runbook>:$DEFAULT` and the console runs the default
 * version, so after a stack update that changes a runbook the default must be its latest version.
 * `AWS::SSM::Document` with `UpdateMethod: NewVersion` is documented to move it
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-document.html#cfn-ssm-document-updatemethod),
 * but a public report says updates complete without doing so
 * (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/2539), and SSM's own
 * UpdateDocument never does. So this module checks it (DescribeDocument's DefaultVersion and LatestVersion,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html) and repairs it
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UpdateDocumentDefaultVersion.html).
 * The stack's custom resource does it after every runbook change; a rotation can check it again at run time.
 */
import {
  DescribeDocumentCommand,
  type DescribeDocumentCommandOutput,
  UpdateDocumentDefaultVersionCommand,
  type UpdateDocumentDefaultVersionCommandOutput,
} from "@aws-sdk/client-ssm";
import { AkmError } from "../errors.ts";
import type { Clock } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure, isAccessDenied } from "./aws-failure.ts";

/** A runbook's versions as DescribeDocument reports them (version numbers as strings, e.g. "3"). */
export interface DocumentVersions {
  readonly name: string;
  readonly defaultVersion: string;
  readonly latestVersion: string;
}

/** A runbook whose default version is not its latest: what it is and what it must become. */
export interface DefaultVersionChange {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** Reads and sets runbooks' default versions (SSM in production, a fake in unit tests). */
export interface DocumentVersionStore {
  versions(name: string): Promise<DocumentVersions>;
  setDefaultVersion(name: string, version: string): Promise<void>;
}

/** The suffixes of the stack's four runbook names, `GHS-AKM-<IAM user>-<suffix>` (templates/40-runbooks.yaml). */
export const RUNBOOK_SUFFIXES = ["Rotate", "Get-RepoList", "Add-RepoConfig", "Delete-RepoConfig"] as const;

/** The stack's runbook names for its IAM user, as templates/40-runbooks.yaml names them. */
export function runbookDocumentNames(iamUserName: string): string[] {
  // The template writes IAM's + = , @ as _ in document names (scripts/build/cfn-yaml.mjs safeIamUserName).
  const name = iamUserName.replace(/[+=,@]/g, "_");
  return RUNBOOK_SUFFIXES.map((suffix) => `GHS-AKM-${name}-${suffix}`);
}

/** The runbooks whose default version is not their latest (pure: the decision, separate from SSM). */
export function staleDefaults(documents: readonly DocumentVersions[]): DefaultVersionChange[] {
  return documents
    .filter((document) => document.defaultVersion !== document.latestVersion)
    .map((document) => ({ name: document.name, from: document.defaultVersion, to: document.latestVersion }));
}

/** What a check found and did. */
export interface DefaultVersionsReport {
  /** Every runbook checked, with its versions as found. */
  readonly checked: readonly DocumentVersions[];
  /** Defaults that were not the latest: set to it (repair) or only found (check). */
  readonly changes: readonly DefaultVersionChange[];
  /** True when `changes` were applied. */
  readonly repaired: boolean;
}

/**
 * Reads every runbook's versions and, with `repair`, makes the latest version the default of each one whose
 * default is older. Errors are AkmErrors naming the runbook and the fix (the first one stops the check).
 */
export async function ensureLatestDefaults(
  store: DocumentVersionStore,
  names: readonly string[],
  options: { readonly repair: boolean },
): Promise<DefaultVersionsReport> {
  const checked: DocumentVersions[] = [];
  for (const name of names) checked.push(await store.versions(name));
  const changes = staleDefaults(checked);
  if (options.repair) {
    for (const change of changes) await store.setDefaultVersion(change.name, change.to);
  }
  return { checked, changes, repaired: options.repair && changes.length > 0 };
}

/**
 * One line for a summary, or undefined when every default was already the latest: "Set the default version
 * of runbook X to its latest, 3 (was 2)." or, without repair, what is stale and how to fix it.
 */
export function describeDefaultVersions(report: DefaultVersionsReport): string | undefined {
  if (report.changes.length === 0) return undefined;
  const list = report.changes.map((c) => `${c.name} (default ${c.from}, latest ${c.to})`).join(", ");
  if (report.repaired) {
    return `Set the default version of ${report.changes.length === 1 ? "runbook" : "runbooks"} ${list} to the latest, so the schedule and the console run the content the stack deployed.`;
  }
  return (
    `The default version of ${report.changes.length === 1 ? "runbook" : "runbooks"} ${list} is not the latest: ` +
    "the schedule and the console run older content. Run Rotate without DryRun (it sets them), or " +
    "`aws ssm update-document-default-version --name NAME --document-version LATEST`."
  );
}

/** The two SSM calls the store makes; SSMClient satisfies it. */
export interface SsmDocumentSender {
  send(command: DescribeDocumentCommand): Promise<DescribeDocumentCommandOutput>;
  send(command: UpdateDocumentDefaultVersionCommand): Promise<UpdateDocumentDefaultVersionCommandOutput>;
}

/**
 * How long a call refused with AccessDenied is retried: right after a stack update adds the permission, IAM
 * may not apply it yet ("Changes that I make are not always immediately visible",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 * The waits double from the first: 1 + 2 + 4 + 8 + 16 = 31 s at most, well within the function's timeout.
 */
export const ACCESS_DENIED_RETRY: AccessDeniedRetry = { attempts: 6, firstWaitMs: 1_000 };

/** How often, and after how long a first wait, a denied call is tried again. */
export interface AccessDeniedRetry {
  readonly attempts: number;
  readonly firstWaitMs: number;
}

/**
 * DocumentVersionStore over SSM DescribeDocument and UpdateDocumentDefaultVersion. `retry` defaults to
 * ACCESS_DENIED_RETRY (for the custom resource, which runs right after the grant changes); a rotation's
 * check can pass `{ attempts: 1, firstWaitMs: 0 }` not to wait.
 */
export class SsmDocumentVersions implements DocumentVersionStore {
  readonly #ssm: SsmDocumentSender;
  readonly #clock: Pick<Clock, "sleep">;
  readonly #retry: AccessDeniedRetry;

  constructor(
    ssm: SsmDocumentSender,
    clock: Pick<Clock, "sleep">,
    retry: AccessDeniedRetry = ACCESS_DENIED_RETRY,
  ) {
    this.#ssm = ssm;
    this.#clock = clock;
    this.#retry = retry;
  }

  async versions(name: string): Promise<DocumentVersions> {
    const action = "ssm:DescribeDocument";
    const { Document } = await this.#call(action, name, () =>
      this.#ssm.send(new DescribeDocumentCommand({ Name: name })),
    );
    const defaultVersion = Document?.DefaultVersion;
    const latestVersion = Document?.LatestVersion;
    if (defaultVersion === undefined || latestVersion === undefined) {
      throw new AkmError(`${action} on runbook ${name} answered without DefaultVersion or LatestVersion.`, {
        fix: "Re-run; if it happens again, open an issue with the Lambda log.",
        fault: "tool",
      });
    }
    return { name, defaultVersion, latestVersion };
  }

  async setDefaultVersion(name: string, version: string): Promise<void> {
    await this.#call("ssm:UpdateDocumentDefaultVersion", name, () =>
      this.#ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version })),
    );
  }

  async #call<T>(action: string, name: string, send: () => Promise<T>): Promise<T> {
    let waitMs = this.#retry.firstWaitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (isAccessDenied(error) && attempt < this.#retry.attempts) {
          await this.#clock.sleep(waitMs);
          waitMs *= 2;
          continue;
        }
        throw documentFailure(error, action, name);
      }
    }
  }
}

function documentFailure(error: unknown, action: string, name: string): AkmError {
  const code = awsErrorCode(error);
  if (code === "InvalidDocument") {
    return new AkmError(`Runbook ${name} does not exist (${action} answered ${code}).`, {
      fix: "Check that the stack's four runbooks exist (Systems Manager > Documents > Owned by me); update the stack to re-create them.",
      fault: "user",
      cause: error,
    });
  }
  if (isAccessDenied(error)) {
    return new AkmError(`${action} on runbook ${name} was denied (${code}).`, {
      fix: "The function's role needs ssm:DescribeDocument and ssm:UpdateDocumentDefaultVersion on the stack's runbooks (statement SetRunbookDefaultVersions); update the stack with this template to restore it, and check that no permissions boundary or service control policy denies it.",
      fault: "user",
      cause: error,
    });
  }
  return awsFailure(error, { action, resource: `runbook ${name}` });
}
