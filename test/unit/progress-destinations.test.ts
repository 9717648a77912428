/** Where the key goes, as the progress object keeps it: repository IDs, the last promotion, the last token alert. */
import { describe, expect, it } from "vitest";
import { parseProgressDocument, serializeProgressDocument } from "../../src/lifecycle/progress-document.ts";
import { emptyProgress } from "../../src/lifecycle/state-parts.ts";

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:GHS-AKM-ci-RotationState-AbCdEf";

describe("the progress object's record of where the key goes", () => {
  it("keeps repository IDs with their first sighting, the last promotion and the last token alert", () => {
    // Prepare
    const progress = {
      ...emptyProgress("2026-01-01T00:00:00.000Z"),
      repoIds: {
        "octo-org/api": { id: 123456, seenAt: "2026-01-01T00:00:00.000Z" },
        "octo-org/web": { id: 98765, seenAt: "2026-01-02T03:04:05.000Z" },
        "alice_acme/app": { id: 42, seenAt: "2026-01-03T00:00:00.000Z" },
      },
      promotedAt: "2026-01-02T00:00:00Z",
      tokenExpiryAlertedAt: "2026-01-03T00:00:00Z",
    };

    // Act
    const text = serializeProgressDocument(progress, SECRET);
    const loaded = parseProgressDocument(text, "s3://bucket/repos.json.progress").progress;

    // Assess
    expect(loaded.repoIds).toEqual(progress.repoIds);
    expect(loaded.promotedAt).toBe(progress.promotedAt);
    expect(loaded.tokenExpiryAlertedAt).toBe(progress.tokenExpiryAlertedAt);
    expect(JSON.parse(text).repoIds).toEqual({
      alice_acme: { app: [42, 1767398400] },
      "octo-org": { api: [123456, 1767225600], web: [98765, 1767323045] },
    });
  });

  it("reads progress written before it kept them (an earlier release) as knowing none", () => {
    // Act
    const loaded = parseProgressDocument(
      serializeProgressDocument(emptyProgress("2026-01-01T00:00:00.000Z"), SECRET),
      "s3://bucket/repos.json.progress",
    ).progress;

    // Assess
    expect(loaded.repoIds).toBeUndefined();
    expect(loaded.promotedAt).toBeUndefined();
  });
});
