import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AlertSink } from "../ports.ts";
import { awsFailure } from "./aws-failure.ts";

/** SNS limits a subject to 100 printable ASCII characters. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html */
const MAX_SUBJECT_CHARS = 100;

/**
 * AlertSink publishing to the stack's SNS topic, which e-mails the stack's alert address. The topic is encrypted
 * with the stack's KMS key, so publishing needs kms:GenerateDataKey and kms:Decrypt on it through SNS
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse).
 */
export class SnsAlertSink implements AlertSink {
  readonly #sns: SNSClient;
  readonly #topicArn: string;

  constructor(sns: SNSClient, topicArn: string) {
    this.#sns = sns;
    this.#topicArn = topicArn;
  }

  async send(subject: string, message: string): Promise<void> {
    const printable = subject.replace(/[^\x20-\x7e]/g, "?");
    const clipped =
      printable.length > MAX_SUBJECT_CHARS ? `${printable.slice(0, MAX_SUBJECT_CHARS - 3)}...` : printable;
    try {
      await this.#sns.send(
        new PublishCommand({ TopicArn: this.#topicArn, Subject: clipped, Message: message }),
      );
    } catch (error) {
      throw awsFailure(error, { action: "sns:Publish", resource: `topic ${this.#topicArn}` });
    }
  }
}
