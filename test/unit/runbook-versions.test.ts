/**
 * The runbook default versions decision, and the SSM adapter's handling of IAM's eventual consistency, with a
 * fake SSM sender (pure logic; test/aws/runbook-versions.test.ts runs the adapter against moto).
 */
import {
  type DescribeDocumentCommand,
  type DescribeDocumentCommandOutput,
  UpdateDocumentDefaultVersionCommand,
  type UpdateDocumentDefaultVersionCommandOutput,
} from "@aws-sdk/client-ssm";
import { describe, expect, it } from "vitest";
import {
  ACCESS_DENIED_RETRY,
  describeDefaultVersions,
  ensureLatestDefaults,
  type SsmDocumentSender,
  SsmDocumentVersions,
  staleDefaults,
} from "../../src/aws/runbook-versions.ts";
import { AkmError } from "../../src/errors.ts";
import { FakeClock } from "../support/fakes.ts";

/** An SDK service error as the SDK v3 throws it (name and $metadata). */
function serviceError(name: string): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 400 } });
}

class FakeSsm implements SsmDocumentSender {
  readonly calls: string[] = [];
  readonly #documents: Map<string, { defaultVersion: string; latestVersion: string }>;
  readonly #failures: Error[];

  constructor(documents: Record<string, [string, string]>, failures: Error[] = []) {
    this.#documents = new Map(
      Object.entries(documents).map(([name, [d, l]]) => [name, { defaultVersion: d, latestVersion: l }]),
    );
    this.#failures = failures;
  }

  send(command: DescribeDocumentCommand): Promise<DescribeDocumentCommandOutput>;
  send(command: UpdateDocumentDefaultVersionCommand): Promise<UpdateDocumentDefaultVersionCommandOutput>;
  async send(
    command: DescribeDocumentCommand | UpdateDocumentDefaultVersionCommand,
  ): Promise<DescribeDocumentCommandOutput | UpdateDocumentDefaultVersionCommandOutput> {
    const name = command.input.Name ?? "";
    this.calls.push(`${command.constructor.name.replace("Command", "")} ${name}`);
    const failure = this.#failures.shift();
    if (failure) throw failure;
    const document = this.#documents.get(name);
    if (!document) throw serviceError("InvalidDocument");
    if (command instanceof UpdateDocumentDefaultVersionCommand) {
      document.defaultVersion = command.input.DocumentVersion ?? "";
      return { $metadata: {} };
    }
    return {
      Document: {
        Name: name,
        DefaultVersion: document.defaultVersion,
        LatestVersion: document.latestVersion,
      },
      $metadata: {},
    };
  }
}

describe("which runbooks need their default moved", () => {
  it("are exactly those whose default is not their latest version", () => {
    expect(
      staleDefaults([
        { name: "a", defaultVersion: "1", latestVersion: "1" },
        { name: "b", defaultVersion: "1", latestVersion: "3" },
        { name: "c", defaultVersion: "4", latestVersion: "5" },
      ]),
    ).toEqual([
      { name: "b", from: "1", to: "3" },
      { name: "c", from: "4", to: "5" },
    ]);
  });
});

describe("ensureLatestDefaults", () => {
  it("repairs: sets each stale default to the latest version and says which", async () => {
    // Prepare
    const ssm = new FakeSsm({ "R-Rotate": ["1", "2"], "R-List": ["1", "1"] });

    // Act
    const report = await ensureLatestDefaults(
      new SsmDocumentVersions(ssm, new FakeClock()),
      ["R-Rotate", "R-List"],
      {
        repair: true,
      },
    );

    // Assess
    expect(report).toMatchObject({ repaired: true, changes: [{ name: "R-Rotate", from: "1", to: "2" }] });
    expect(ssm.calls).toEqual([
      "DescribeDocument R-Rotate",
      "DescribeDocument R-List",
      "UpdateDocumentDefaultVersion R-Rotate",
    ]);
    expect(describeDefaultVersions(report)).toBe(
      "Set the default version of runbook R-Rotate (default 1, latest 2) to the latest, so the schedule and the console run the content the stack deployed.",
    );
  });

  it("only checks when told not to repair (a dry run), and says how to fix it", async () => {
    // Prepare
    const ssm = new FakeSsm({ "R-Rotate": ["1", "2"] });

    // Act
    const report = await ensureLatestDefaults(new SsmDocumentVersions(ssm, new FakeClock()), ["R-Rotate"], {
      repair: false,
    });

    // Assess
    expect(report.repaired).toBe(false);
    expect(ssm.calls).toEqual(["DescribeDocument R-Rotate"]);
    expect(describeDefaultVersions(report)).toMatch(/is not the latest: .* update-document-default-version/);
  });

  it("has nothing to say when every default is the latest", async () => {
    const ssm = new FakeSsm({ "R-Rotate": ["3", "3"] });

    const report = await ensureLatestDefaults(new SsmDocumentVersions(ssm, new FakeClock()), ["R-Rotate"], {
      repair: true,
    });

    expect(describeDefaultVersions(report)).toBeUndefined();
  });
});

describe("the SSM adapter", () => {
  it("retries a call denied right after a stack update, with doubling waits, until IAM applies the grant", async () => {
    // Prepare
    const clock = new FakeClock();
    const ssm = new FakeSsm({ "R-Rotate": ["1", "1"] }, [
      serviceError("AccessDeniedException"),
      serviceError("AccessDeniedException"),
    ]);

    // Act
    const versions = await new SsmDocumentVersions(ssm, clock).versions("R-Rotate");

    // Assess
    expect(versions).toEqual({ name: "R-Rotate", defaultVersion: "1", latestVersion: "1" });
    expect(clock.sleeps).toEqual([1_000, 2_000]);
  });

  it("gives up after a bounded time and names the missing grant", async () => {
    // Prepare
    const clock = new FakeClock();
    const denied = Array.from({ length: ACCESS_DENIED_RETRY.attempts }, () =>
      serviceError("AccessDeniedException"),
    );
    const ssm = new FakeSsm({ "R-Rotate": ["1", "2"] }, denied);

    // Act
    const error = await new SsmDocumentVersions(ssm, clock).versions("R-Rotate").catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AkmError);
    expect((error as AkmError).message).toBe(
      "ssm:DescribeDocument on runbook R-Rotate was denied (AccessDeniedException).",
    );
    expect((error as AkmError).fix).toContain("SetRunbookDefaultVersions");
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(31_000);
  });

  it("does not wait at all when told not to retry (a rotation's own check)", async () => {
    const clock = new FakeClock();
    const ssm = new FakeSsm({ "R-Rotate": ["1", "1"] }, [serviceError("AccessDeniedException")]);

    const error = await new SsmDocumentVersions(ssm, clock, { attempts: 1, firstWaitMs: 0 })
      .versions("R-Rotate")
      .catch((e: unknown) => e);

    expect((error as AkmError).message).toContain("was denied");
    expect(clock.sleeps).toEqual([]);
  });

  it("says which runbook does not exist, without retrying", async () => {
    const clock = new FakeClock();
    const ssm = new FakeSsm({});

    const error = await new SsmDocumentVersions(ssm, clock).versions("R-Gone").catch((e: unknown) => e);

    expect((error as AkmError).message).toBe(
      "Runbook R-Gone does not exist (ssm:DescribeDocument answered InvalidDocument).",
    );
    expect(clock.sleeps).toEqual([]);
  });
});
