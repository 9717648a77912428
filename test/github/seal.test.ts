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

/** The X25519 points of small order (RFC 7748; cr.yp.to/ecdh.html#validate), as little-endian u-coordinates. */
const P = 2n ** 255n - 19n;
const SMALL_ORDER_U = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
  P,
  P + 1n,
];

function encodeU(u: bigint, topBit = false): string {
  const bytes = new Uint8Array(32);
  let rest = u;
  for (let i = 0; i < 32; i++) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (topBit) bytes[31] = (bytes[31] as number) | 0x80;
  return Buffer.from(bytes).toString("base64");
}

/** Whether libsodium's crypto_box_seal accepts the key (it fails for keys it refuses). */
function libsodiumAccepts(publicKeyBase64: string): boolean {
  try {
    sodium.crypto_box_seal("x", sodium.from_base64(publicKeyBase64, sodium.base64_variants.ORIGINAL));
    return true;
  } catch {
    return false;
  }
}

function weAccept(publicKeyBase64: string): boolean {
  try {
    sealSecret(new SecretValue("x"), publicKeyBase64);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPublicKeyError);
    expect(String(error)).not.toContain(publicKeyBase64);
    return false;
  }
}

describe("public keys that must not be sealed for", () => {
  it("refuses every small-order point, with and without the top bit set, as libsodium does", () => {
    for (const u of SMALL_ORDER_U) {
      for (const topBit of [false, true]) {
        const key = encodeU(u, topBit);

        expect(libsodiumAccepts(key), `libsodium, u=${u} top=${topBit}`).toBe(false);
        expect(weAccept(key), `sealSecret, u=${u} top=${topBit}`).toBe(false);
      }
    }
  });

  it("agrees with libsodium on random and real keys", () => {
    const keys = [
      ...Array.from({ length: 50 }, () => keyPair().publicKeyBase64),
      ...Array.from({ length: 50 }, () => Buffer.from(sodium.randombytes_buf(32)).toString("base64")),
    ];

    for (const key of keys) expect(weAccept(key), key).toBe(libsodiumAccepts(key));
  });
});
