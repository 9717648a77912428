import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  type IAMClient,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import type { AccessKeyInfo, NewAccessKey } from "../domain/access-key.ts";
import { type Backoff, BackoffExhausted, IAM_PROPAGATION_BACKOFF, withBackoff } from "../domain/backoff.ts";
import { SecretValue } from "../domain/secret-value.ts";
import { AkmError, IamStateError } from "../errors.ts";
import { type Clock, type IamKeys, systemClock } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

/** The IAM user whose keys are rotated, as the stack parameters pIamUserName and pIamUserArn name it. */
export interface IamUserRef {
  readonly userName: string;
  readonly userArn: string;
}

/** How AwsIamKeys waits out IAM's eventual consistency. */
export interface IamConsistencyOptions {
  /** Times the waits (default: real time). */
  readonly clock?: Clock;
  /** Default: about a minute (IAM_PROPAGATION_BACKOFF). */
  readonly backoff?: Backoff;
}

/** IAM's answer contradicts what it lists: a change has not reached every IAM server yet. Retried. */
class NotYetConsistent extends Error {
  constructor(readonly original: unknown) {
    super("IAM has not propagated a recent change yet", { cause: original });
    this.name = "NotYetConsistent";
  }
}

/** A listing without a key the caller knows was created: IAM may not list it yet. Retried. */
class IncompleteListing extends Error {
  constructor(readonly keys: AccessKeyInfo[]) {
    super("ListAccessKeys does not show a key created moments ago yet");
    this.name = "IncompleteListing";
  }
}

/**
 * IamKeys over the IAM API, for the one user the stack manages.
 *
 * IAM is eventually consistent (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency):
 * right after a key is created or deleted, one IAM call can answer as if the change had not happened while
 * another already shows it. Every refusal that such a lag explains is retried within a bound (about a minute):
 * CreateAccessKey's LimitExceeded while fewer than two keys are listed (a key deleted moments ago still counts),
 * UpdateAccessKey/DeleteAccessKey's NoSuchEntity for a key that is still listed (a key created moments ago), and
 * a listing that lacks a key the caller knows was created.
 */
export class AwsIamKeys implements IamKeys {
  readonly #iam: IAMClient;
  readonly #user: IamUserRef;
  readonly #clock: Clock;
  readonly #backoff: Backoff;

  constructor(iam: IAMClient, user: IamUserRef, options: IamConsistencyOptions = {}) {
    this.#iam = iam;
    this.#user = user;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? IAM_PROPAGATION_BACKOFF;
  }

  /** Runs `task`, retrying while it throws NotYetConsistent; after the last try, throws what IAM answered. */
  async #untilConsistent<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await withBackoff(
        this.#clock,
        this.#backoff,
        task,
        (error) => error instanceof NotYetConsistent,
      );
    } catch (error) {
      if (error instanceof BackoffExhausted && error.lastError instanceof NotYetConsistent) {
        throw error.lastError.original;
      }
      throw error;
    }
  }

  /** True when ListAccessKeys shows the key (so a NoSuchEntity for it is IAM lagging, not a deleted key). */
  async #isListed(accessKeyId: string): Promise<boolean> {
    return (await this.#listOnce()).some((key) => key.accessKeyId === accessKeyId);
  }

  async checkUser(): Promise<void> {
    const { userName, userArn } = this.#user;
    let actualArn: string | undefined;
    try {
      const response = await this.#iam.send(new GetUserCommand({ UserName: userName }));
      actualArn = response.User?.Arn;
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchEntity") {
        throw new IamStateError(
          `IAM user ${userName} does not exist in this account.`,
          "Create the user, or update the stack so pIamUserName names an existing user (and pIamUserArn is its ARN).",
          error,
        );
      }
      throw awsFailure(error, { action: "iam:GetUser", resource: `IAM user ${userName}` });
    }
    if (actualArn === userArn) return;
    // A name that differs from the ARN's last segment means the two parameters describe different users;
    // otherwise the name is right and the ARN (account or path) is the parameter to correct.
    const arnName = userArn.slice(userArn.lastIndexOf("/") + 1);
    const fix =
      arnName === userName
        ? `Update the stack parameter pIamUserArn to ${actualArn ?? "the user's ARN"}.`
        : `Update the stack parameters so pIamUserName and pIamUserArn describe the same user: pIamUserArn names user ${arnName}, pIamUserName names ${userName}.`;
    throw new IamStateError(
      `IAM user ${userName} has ARN ${actualArn ?? "(none reported)"}, but the stack is configured with ${userArn}.`,
      fix,
    );
  }

  /**
   * The user's keys, oldest first. When `expected` names keys the caller knows exist (created by an earlier
   * invocation moments ago), a listing that lacks one is retried within the bound; after it, the listing is
   * returned as IAM gives it (the key may really have been deleted outside this tool).
   */
  async list(expected: readonly string[] = []): Promise<AccessKeyInfo[]> {
    try {
      return await withBackoff(
        this.#clock,
        this.#backoff,
        async () => {
          const keys = await this.#listOnce();
          if (expected.every((id) => keys.some((key) => key.accessKeyId === id))) return keys;
          throw new IncompleteListing(keys);
        },
        (error) => error instanceof IncompleteListing,
      );
    } catch (error) {
      if (error instanceof BackoffExhausted && error.lastError instanceof IncompleteListing) {
        return error.lastError.keys;
      }
      throw error;
    }
  }

  async #listOnce(): Promise<AccessKeyInfo[]> {
    const keys: AccessKeyInfo[] = [];
    let marker: string | undefined;
    do {
      let response: ListAccessKeysCommandOutput;
      try {
        response = await this.#iam.send(
          new ListAccessKeysCommand({ UserName: this.#user.userName, Marker: marker }),
        );
      } catch (error) {
        throw this.#keyFailure(error, "iam:ListAccessKeys");
      }
      for (const key of response.AccessKeyMetadata ?? []) {
        if (!key.AccessKeyId || !key.CreateDate || (key.Status !== "Active" && key.Status !== "Inactive")) {
          throw new AkmError(
            `iam:ListAccessKeys for IAM user ${this.#user.userName} returned a key without ID, creation date or known status.`,
            {
              fix: "Re-run the runbook; if it fails again, open an issue with the Lambda log.",
              fault: "tool",
            },
          );
        }
        keys.push({ accessKeyId: key.AccessKeyId, status: key.Status, createdAt: key.CreateDate });
      }
      marker = response.IsTruncated ? response.Marker : undefined;
    } while (marker);
    // IAM documents no order for ListAccessKeys; the lifecycle reasons about "older" and "newer" keys.
    return keys.sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.accessKeyId.localeCompare(b.accessKeyId),
    );
  }

  async create(): Promise<NewAccessKey> {
    const { userName } = this.#user;
    try {
      const { AccessKey: key } = await this.#untilConsistent(async () => {
        try {
          return await this.#iam.send(new CreateAccessKeyCommand({ UserName: userName }));
        } catch (error) {
          // IAM still counts a key deleted moments ago against the limit of two.
          if (awsErrorCode(error) === "LimitExceeded" && (await this.#listOnce()).length < 2) {
            throw new NotYetConsistent(error);
          }
          throw error;
        }
      });
      if (!key?.AccessKeyId || !key.SecretAccessKey) {
        throw new AkmError(`iam:CreateAccessKey for IAM user ${userName} returned no key.`, {
          fix: "Check the user's keys in the IAM console, delete any key no repository uses, and re-run the runbook.",
          fault: "tool",
        });
      }
      return {
        accessKeyId: key.AccessKeyId,
        secretAccessKey: new SecretValue(key.SecretAccessKey),
        createdAt: key.CreateDate ?? new Date(),
      };
    } catch (error) {
      if (awsErrorCode(error) === "LimitExceeded") {
        throw new IamStateError(
          `IAM user ${userName} already has the maximum number of access keys (2), so a new one cannot be created.`,
          `Delete the key of ${userName} that no repository uses (IAM console → Users → ${userName} → Security credentials), or run the rotation with the option to replace the older key.`,
          error,
        );
      }
      throw this.#keyFailure(error, "iam:CreateAccessKey");
    }
  }

  async deactivate(accessKeyId: string): Promise<void> {
    try {
      await this.#untilConsistent(() =>
        this.#sendForKey(accessKeyId, () =>
          this.#iam.send(
            new UpdateAccessKeyCommand({
              UserName: this.#user.userName,
              AccessKeyId: accessKeyId,
              Status: "Inactive",
            }),
          ),
        ),
      );
    } catch (error) {
      throw this.#keyFailure(error, "iam:UpdateAccessKey", accessKeyId);
    }
  }

  async delete(accessKeyId: string): Promise<void> {
    try {
      await this.#untilConsistent(() =>
        this.#sendForKey(accessKeyId, () =>
          this.#iam.send(
            new DeleteAccessKeyCommand({ UserName: this.#user.userName, AccessKeyId: accessKeyId }),
          ),
        ),
      );
    } catch (error) {
      // A run that crashed after deleting but before saving its state retries the delete; the goal holds
      // (unless IAM still lists the key after every retry: then it is not gone).
      if (
        awsErrorCode(error) === "NoSuchEntity" &&
        (await this.#userExists()) &&
        !(await this.#isListed(accessKeyId))
      ) {
        return;
      }
      throw this.#keyFailure(error, "iam:DeleteAccessKey", accessKeyId);
    }
  }

  /** Sends a command about one key; NoSuchEntity for a key IAM still lists (created moments ago) is IAM lagging. */
  async #sendForKey(accessKeyId: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (awsErrorCode(error) === "NoSuchEntity" && (await this.#isListed(accessKeyId))) {
        throw new NotYetConsistent(error);
      }
      throw error;
    }
  }

  async #userExists(): Promise<boolean> {
    try {
      await this.#iam.send(new GetUserCommand({ UserName: this.#user.userName }));
      return true;
    } catch {
      return false;
    }
  }

  #keyFailure(error: unknown, action: string, accessKeyId?: string): AkmError {
    const { userName } = this.#user;
    const resource = accessKeyId
      ? `access key ${accessKeyId} of IAM user ${userName}`
      : `IAM user ${userName}`;
    if (awsErrorCode(error) === "NoSuchEntity") {
      return new IamStateError(
        `${action} failed: ${resource} does not exist.`,
        accessKeyId
          ? "Someone changed the user's keys while the rotation ran; re-run the runbook so it reads the keys again."
          : "Create the user, or update the stack so pIamUserName names an existing user.",
        error,
      );
    }
    return awsFailure(error, { action, resource });
  }
}
