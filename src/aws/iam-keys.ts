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
import { SecretValue } from "../domain/secret-value.ts";
import { AkmError, IamStateError } from "../errors.ts";
import type { IamKeys } from "../ports.ts";
import { awsErrorCode } from "./aws-error-code.ts";
import { awsFailure } from "./aws-failure.ts";

/** The IAM user whose keys are rotated, as the stack parameters pIamUserName and pIamUserArn name it. */
export interface IamUserRef {
  readonly userName: string;
  readonly userArn: string;
}

/** IamKeys over the IAM API, for the one user the stack manages. */
export class AwsIamKeys implements IamKeys {
  readonly #iam: IAMClient;
  readonly #user: IamUserRef;

  constructor(iam: IAMClient, user: IamUserRef) {
    this.#iam = iam;
    this.#user = user;
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

  async list(): Promise<AccessKeyInfo[]> {
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
      const { AccessKey: key } = await this.#iam.send(new CreateAccessKeyCommand({ UserName: userName }));
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
      await this.#iam.send(
        new UpdateAccessKeyCommand({
          UserName: this.#user.userName,
          AccessKeyId: accessKeyId,
          Status: "Inactive",
        }),
      );
    } catch (error) {
      throw this.#keyFailure(error, "iam:UpdateAccessKey", accessKeyId);
    }
  }

  async delete(accessKeyId: string): Promise<void> {
    try {
      await this.#iam.send(
        new DeleteAccessKeyCommand({ UserName: this.#user.userName, AccessKeyId: accessKeyId }),
      );
    } catch (error) {
      // A run that crashed after deleting but before saving its state retries the delete; the goal holds.
      if (awsErrorCode(error) === "NoSuchEntity" && (await this.#userExists())) return;
      throw this.#keyFailure(error, "iam:DeleteAccessKey", accessKeyId);
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
