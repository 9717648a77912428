import { describe, expect, it } from "vitest";
import type { AccessKeyPair } from "../../src/domain/access-key.ts";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { AkmError, KeyNotAcceptedError, VerificationError } from "../../src/errors.ts";
import { VERIFY_DEFAULTS, verifyKey } from "../../src/lifecycle/verify-key.ts";
import type { IdentityProbe } from "../../src/ports.ts";
import { FakeClock } from "../support/fakes.ts";

const USER_ARN = "arn:aws:iam::123456789012:user/deploy-bot";
const KEY: AccessKeyPair = {
  accessKeyId: "FAKEKEY000000001",
  secretAccessKey: new SecretValue("fake-secret"),
};

/** STS as IAM propagation makes it look: the key is refused (with `code`) until `propagatedAfterMs` has passed. */
function propagatingSts(
  clock: FakeClock,
  propagatedAfterMs: number,
  code = "InvalidClientTokenId",
): IdentityProbe & { calls: number } {
  const createdAt = clock.now().getTime();
  return {
    calls: 0,
    async callerArn(key) {
      this.calls++;
      if (clock.now().getTime() - createdAt < propagatedAfterMs)
        throw new KeyNotAcceptedError(key.accessKeyId, code);
      return USER_ARN;
    },
  };
}

describe("verifying a new key while IAM propagates it", () => {
  it.each(["InvalidClientTokenId", "SignatureDoesNotMatch"])(
    "retries STS's %s with doubling waits until the key is accepted",
    async (code) => {
      // Prepare
      const clock = new FakeClock();
      const sts = propagatingSts(clock, 5_000, code);

      // Act
      await verifyKey(sts, KEY, USER_ARN, clock);

      // Assess
      expect(clock.sleeps).toEqual([1000, 2000, 4000]);
      expect(sts.calls).toBe(4);
    },
  );

  it("waits up to about a minute by default, so a key that takes 55 s to propagate is verified", async () => {
    // Prepare
    const clock = new FakeClock();
    const sts = propagatingSts(clock, 55_000);

    // Act
    await verifyKey(sts, KEY, USER_ARN, clock);

    // Assess
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(sts.calls).toBe(VERIFY_DEFAULTS.attempts);
  });

  it("gives up after about a minute with a VerificationError naming the key, the attempts and STS's answer", async () => {
    // Prepare
    const clock = new FakeClock();
    const sts = propagatingSts(clock, 600_000);

    // Act
    const error = await verifyKey(sts, KEY, USER_ARN, clock).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).message).toBe(
      `The new key ${KEY.accessKeyId} was not accepted by STS after 8 attempts over 60 s (last: STS answered InvalidClientTokenId); IAM had not propagated it yet.`,
    );
    expect((error as VerificationError).fault).toBe("transient");
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });

  it("never retries a key that authenticates as another user", async () => {
    // Prepare
    const clock = new FakeClock();
    const otherUser: IdentityProbe = { callerArn: async () => "arn:aws:iam::123456789012:user/someone-else" };

    // Act
    const error = await verifyKey(otherUser, KEY, USER_ARN, clock).catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toContain(
      "authenticates as arn:aws:iam::123456789012:user/someone-else",
    );
    expect(clock.sleeps).toEqual([]);
  });

  it("retries a passing outage but throws a fault that would repeat at once", async () => {
    // Prepare
    const clock = new FakeClock();
    const answers: AkmError[] = [
      new AkmError("sts:GetCallerIdentity could not reach AWS.", { fix: "Re-run.", fault: "transient" }),
    ];
    const flaky: IdentityProbe = {
      async callerArn() {
        const next = answers.shift();
        if (next) throw next;
        return USER_ARN;
      },
    };
    const broken: IdentityProbe = {
      async callerArn() {
        throw new AkmError("sts:GetCallerIdentity returned no ARN.", {
          fix: "Open an issue.",
          fault: "tool",
        });
      },
    };

    // Act
    await verifyKey(flaky, KEY, USER_ARN, clock);
    const error = await verifyKey(broken, KEY, USER_ARN, clock).catch((caught: unknown) => caught);

    // Assess
    expect(clock.sleeps).toEqual([1000]);
    expect((error as AkmError).message).toBe("sts:GetCallerIdentity returned no ARN.");
  });
});
