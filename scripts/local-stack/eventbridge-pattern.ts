/**
 * EventBridge event patterns, as far as the template uses them: every field named in the pattern must be in the
 * event, a list of values matches when the event's value equals one of them, and nested objects match field by
 * field. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * Content filters (prefix, anything-but, ...) are not used by the template and are refused here.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isRecord(pattern)) throw new Error("eventbridge-pattern: a pattern is an object of fields");
  if (!isRecord(event)) return false;
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) {
      if (expected.some((value) => typeof value === "object" && value !== null)) {
        throw new Error(`eventbridge-pattern: content filters (in ${field}) are not supported`);
      }
      return expected.some((value) => value === actual);
    }
    return matchesEventPattern(expected, actual);
  });
}

/**
 * The event S3 sends to EventBridge for a change of an object in a bucket with EventBridge notifications on, as
 * documented (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html).
 */
export function s3ObjectEvent(change: {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly deleted: boolean;
  readonly region: string;
  readonly accountId: string;
  readonly time: Date;
}): Record<string, unknown> {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": change.deleted ? "Object Deleted" : "Object Created",
    source: "aws.s3",
    account: change.accountId,
    time: `${change.time.toISOString().slice(0, 19)}Z`,
    region: change.region,
    resources: [`arn:aws:s3:::${change.bucket}`],
    detail: {
      version: "0",
      bucket: { name: change.bucket },
      object: change.deleted
        ? { key: change.key, "version-id": change.versionId, sequencer: "617f08299329d189" }
        : {
            key: change.key,
            size: 5,
            etag: "b1946ac92492d2347c6235b4d2611184",
            "version-id": change.versionId,
            sequencer: "617f08299329d189",
          },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: change.accountId,
      "source-ip-address": "203.0.113.9",
      reason: change.deleted ? "DeleteObject" : "PutObject",
      ...(change.deleted ? { "deletion-type": "Delete Marker Created" } : {}),
    },
  };
}

/**
 * The event Systems Manager sends to EventBridge when an Automation execution changes status, as documented (the
 * "Automation Execution Status-change Notification" example of
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html):
 * `detail.Status` is the execution's status and `detail.Definition` the runbook's name.
 */
export function automationExecutionEvent(execution: {
  readonly executionId: string;
  readonly definition: string;
  readonly status: string;
  readonly region: string;
  readonly accountId: string;
  readonly time: Date;
  readonly executedBy?: string;
}): Record<string, unknown> {
  const time = `${execution.time.toISOString().slice(0, 19)}Z`;
  return {
    version: "0",
    id: "d290ece9-1088-4383-9df6-cd5b4ac42b99",
    "detail-type": "EC2 Automation Execution Status-change Notification",
    source: "aws.ssm",
    account: execution.accountId,
    time,
    region: execution.region,
    resources: [
      `arn:aws:ssm:${execution.region}:${execution.accountId}:automation-execution/${execution.executionId}`,
      `arn:aws:ssm:${execution.region}:${execution.accountId}:automation-definition/${execution.definition}:1`,
    ],
    detail: {
      ExecutionId: execution.executionId,
      Definition: execution.definition,
      DefinitionVersion: 1.0,
      Status: execution.status,
      StartTime: time,
      EndTime: time,
      Time: 5753.0,
      ExecutedBy: execution.executedBy ?? `arn:aws:iam::${execution.accountId}:user/userName`,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
