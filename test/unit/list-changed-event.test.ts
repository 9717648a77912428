import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { s3ObjectEvent } from "../../scripts/local-stack/eventbridge-pattern.ts";
import { isS3Event, ListChangedEvent } from "../../src/handler-contract.ts";

const CHANGE = {
  bucket: "akm-config",
  key: "repos.json",
  versionId: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
  region: "eu-west-1",
  accountId: "111122223333",
  time: new Date("2021-11-12T00:00:00Z"),
};

describe("S3's events for the repository list, as EventBridge passes them on", () => {
  it.each([false, true])("reads S3's documented event (deleted: %s), extra fields included", (deleted) => {
    // Prepare
    const event = { ...s3ObjectEvent({ ...CHANGE, deleted }), "replay-name": "ignored" };

    // Act
    const parsed = v.safeParse(ListChangedEvent, event);

    // Assess
    expect(isS3Event(event)).toBe(true);
    expect(parsed.success).toBe(true);
    expect(parsed.output).toMatchObject({
      "detail-type": deleted ? "Object Deleted" : "Object Created",
      detail: {
        bucket: { name: "akm-config" },
        object: { key: "repos.json", "version-id": CHANGE.versionId },
      },
    });
  });

  it("refuses another kind of S3 event", () => {
    // Prepare
    const event = {
      ...s3ObjectEvent({ ...CHANGE, deleted: false }),
      "detail-type": "Object Restore Completed",
    };

    // Act
    const parsed = v.safeParse(ListChangedEvent, event);

    // Assess
    expect(parsed.success).toBe(false);
  });

  it("tells a runbook's event from S3's", () => {
    expect(isS3Event({ action: "rotate" })).toBe(false);
    expect(isS3Event(null)).toBe(false);
  });
});
