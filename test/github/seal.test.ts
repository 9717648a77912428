import sodium from "libsodium-wrappers";
import { beforeAll, describe, expect, it } from "vitest";
import { SecretValue } from "../../src/domain/secret-value.ts";
import { InvalidPublicKeyError, sealSecret } from "../../src/github/seal.ts";

beforeAll(async () => {
  await sodium.ready;
});

function keyPair() {
  const pair = sodium.crypto_box_keypair();
  return { ...pair, publicKeyBase64: sodium.to_base64(pair.publicKey, sodium.base64_variants.ORIGINAL) };
}

function open(sealedBase64: string, pair: ReturnType<typeof keyPair>): string {
  const sealed = sodium.from_base64(sealedBase64, sodium.base64_variants.ORIGINAL);
  return sodium.to_string(sodium.crypto_box_seal_open(sealed, pair.publicKey, pair.privateKey));
}

describe("sealSecret", () => {
  it("produces a sealed box that libsodium opens to the original value", () => {
    // Prepare
    const pair = keyPair();
    const value = "test-secret/with+base64=chars-ünïcødé";

    // Act
    const sealed = sealSecret(new SecretValue(value), pair.publicKeyBase64);

    // Assess
    expect(open(sealed, pair)).toBe(value);
  });

  it("encodes with the original base64 alphabet and padding, as GitHub expects", () => {
    // Prepare: sealing adds 48 bytes, so a 1-byte value gives 49 bytes, which base64 pads with "==".
    const pair = keyPair();
    const samples = Array.from({ length: 40 }, (_, i) =>
      sealSecret(new SecretValue(`v${i}`), pair.publicKeyBase64),
    );

    // Act
    const oneByte = sealSecret(new SecretValue("x"), pair.publicKeyBase64);

    // Assess
    expect(oneByte).toMatch(/==$/);
    for (const sample of [oneByte, ...samples]) expect(sample).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(samples.join("")).toMatch(/[+/]/);
  });

  it("seals the same value differently every time (a fresh ephemeral key per box)", () => {
    // Prepare
    const pair = keyPair();
    const value = new SecretValue("same value");

    // Act
    const first = sealSecret(value, pair.publicKeyBase64);
    const second = sealSecret(value, pair.publicKeyBase64);

    // Assess
    expect(first).not.toBe(second);
    expect(open(first, pair)).toBe(open(second, pair));
  });

  it.each([
    ["a 31-byte key", Buffer.alloc(31, 1).toString("base64")],
    ["a 33-byte key", Buffer.alloc(33, 1).toString("base64")],
    ["an empty key", ""],
    ["URL-safe base64", sodium.to_base64(new Uint8Array(32).fill(251), sodium.base64_variants.URLSAFE)],
    ["text that is not base64", "not a key at all!"],
  ])("rejects %s with an error that says what a key must be", (_label, key) => {
    // Prepare
    const value = new SecretValue("never sealed");

    // Act
    const act = () => sealSecret(value, key);

    // Assess
    expect(act).toThrow(InvalidPublicKeyError);
    expect(act).toThrow(/base64-encoded 32-byte X25519 key/);
  });
});
