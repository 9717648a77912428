/**
 * The names the stack's `Custom::ResourceNames` resource answers (src/cfn/resource-names.ts), as pure logic; the
 * function's answer through CloudFormation's protocol is in test/e2e/resource-names.test.ts, and the names of the
 * rendered template for every IAM user name in test/template/resource-names.test.ts.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fitName, resourceNames } from "../../src/cfn/resource-names.ts";
import { AkmError } from "../../src/errors.ts";

describe("fitName", () => {
  it.each([1, 10, 63, 64])("returns a name of %d characters unchanged within 64", (length) => {
    // Prepare
    const name = "n".repeat(length);

    // Act
    const fitted = fitName(name, 64);

    // Assess
    expect(fitted).toBe(name);
  });

  it("cuts a longer name to exactly the limit: its beginning, '-' and the first 8 hex digits of its SHA-256", () => {
    // Prepare
    const name = `GHS-AKM-SSM-${"a".repeat(53)}`;
    const digest = createHash("sha256").update(name, "utf8").digest("hex");

    // Act
    const fitted = fitName(name, 64);

    // Assess
    expect(fitted).toBe(`${name.slice(0, 55)}-${digest.slice(0, 8)}`);
  });

  it("gives every name within the limit, the same result each time, and different results for different names", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[\w+=,.@-]{1,90}$/),
        fc.stringMatching(/^[\w+=,.@-]{1,90}$/),
        (a, b) => {
          // Act
          const [fa, fb] = [fitName(a, 64), fitName(a, 64)];

          // Assess
          expect(fa).toBe(fb);
          expect(fa.length).toBeLessThanOrEqual(64);
          expect(fa).toMatch(/^[\w+=,.@-]+$/);
          if (a !== b && a.length > 64 && b.length > 64) expect(fitName(a, 64)).not.toBe(fitName(b, 64));
        },
      ),
    );
  });

  it("refuses a limit too small to hold a digest", () => {
    expect(() => fitName("name", 9)).toThrow(RangeError);
  });
});

describe("resourceNames", () => {
  it("answers each name by its attribute, MaxLength given as CloudFormation sends it (a string)", () => {
    // Act
    const names = resourceNames({
      ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:f",
      MaxLength: "64",
      Names: { SsmRoleName: "GHS-AKM-SSM-ci-deployer", RotateRuleName: `GHS-AKM-Rotate-${"x".repeat(64)}` },
    });

    // Assess
    expect(names.SsmRoleName).toBe("GHS-AKM-SSM-ci-deployer");
    expect(names.RotateRuleName).toHaveLength(64);
    expect(names.RotateRuleName?.startsWith("GHS-AKM-Rotate-xxx")).toBe(true);
  });

  it.each([
    [{ MaxLength: "64" }, "Names"],
    [{ MaxLength: "64", Names: {} }, "at least one name"],
    [{ MaxLength: "64", Names: { SsmRoleName: "has space" } }, "Names.SsmRoleName"],
    [{ MaxLength: "sixty-four", Names: { A: "a" } }, "MaxLength"],
    [{ MaxLength: "9", Names: { A: "a" } }, "at least 10"],
  ])("refuses properties the template never gives (%j) as a tool fault naming %s", (properties, where) => {
    // Act
    const refuse = () => resourceNames(properties, "rResourceNames");

    // Assess
    expect(refuse).toThrow(AkmError);
    expect(refuse).toThrow(where);
    try {
      refuse();
    } catch (error) {
      expect((error as AkmError).fault).toBe("tool");
      expect((error as AkmError).message).toContain("rResourceNames");
    }
  });
});
