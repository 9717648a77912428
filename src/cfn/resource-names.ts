/**
 * The stack's `Custom::ResourceNames` resource (templates/35-resource-names.yaml): the names of the stack's
 * resources that carry the IAM user name but allow fewer characters than an IAM user name may have. IAM user
 * names have up to 64 characters (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html);
 * an IAM role name (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html) and an
 * EventBridge rule name (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html) have up
 * to 64 in all, so `GHS-AKM-SSM-<user>` does not fit for every user. CloudFormation has no function to measure,
 * cut or hash a string
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html),
 * so the function computes these names and the template reads them with `Fn::GetAtt`.
 *
 * A name that fits is returned unchanged (the original stack's names stay what they were, so an upgrade updates
 * those resources in place); a longer one keeps its beginning and ends with `-` and 8 hexadecimal digits of the
 * SHA-256 of the whole name, so two users whose names share a long beginning still get two names. The result
 * uses only characters of the name given, `-` and `0-9a-f`: each name keeps the character rules of its kind.
 *
 * Properties (validated here; CloudFormation sends every value as a string, numbers included:
 * https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1037):
 *   Names       the wanted names, by attribute name (`SsmRoleName: GHS-AKM-SSM-<user>`, ...)
 *   MaxLength   the most characters each returned name may have
 * Data: the same attribute names, each with its name as it fits. Pure: no AWS call, nothing to undo on Delete.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { AkmError } from "../errors.ts";
import type { CustomResourceProvider, CustomResourceRequest } from "./custom-resource.ts";

/** The resource type in the template. */
export const RESOURCE_NAMES_TYPE = "Custom::ResourceNames";

/** How many hexadecimal digits of the SHA-256 end a shortened name (32 bits: a clash needs ~65,000 users). */
const DIGEST_CHARACTERS = 8;

/**
 * `name` if it has at most `maxLength` characters; otherwise its first `maxLength - 9` characters, `-` and
 * the first 8 hexadecimal digits of the SHA-256 of the whole `name` (exactly `maxLength` characters). The
 * same name always gives the same result. `maxLength` must be at least 10.
 */
export function fitName(name: string, maxLength: number): string {
  if (maxLength <= DIGEST_CHARACTERS + 1) {
    throw new RangeError(`fitName: maxLength must be at least ${DIGEST_CHARACTERS + 2}, not ${maxLength}.`);
  }
  if (name.length <= maxLength) return name;
  const digest = createHash("sha256").update(name, "utf8").digest("hex").slice(0, DIGEST_CHARACTERS);
  return `${name.slice(0, maxLength - DIGEST_CHARACTERS - 1)}-${digest}`;
}

// The characters of IAM names ([\w+=,.@-]), a superset of EventBridge rule names' ([.\-_A-Za-z0-9]): the
// template gives each name in its own kind's characters, and a shortened name adds only "-" and hex digits.
const NAME = /^[\w+=,.@-]{1,512}$/;

const Properties = v.object({
  Names: v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/, "each attribute must be a plain word")),
      v.pipe(
        v.string("each name must be a string"),
        v.regex(NAME, "each name must be 1 to 512 letters, digits or + = , . @ _ - characters"),
      ),
      "Names must map attribute names to names",
    ),
    v.check((names) => Object.keys(names).length > 0, "Names must hold at least one name"),
  ),
  MaxLength: v.pipe(
    v.union([v.string(), v.number()], "MaxLength must be a number"),
    v.transform(Number),
    v.integer("MaxLength must be a whole number"),
    v.minValue(DIGEST_CHARACTERS + 2, `MaxLength must be at least ${DIGEST_CHARACTERS + 2}`),
    v.maxValue(512, "MaxLength must be at most 512"),
  ),
});

/**
 * The names a `Custom::ResourceNames` resource returns for its (resolved) properties, by attribute: the
 * function's answer, and what the diff and the tests compute for a template without deploying it. Throws an
 * AkmError (a tool fault) naming the property when the properties are not what the template gives.
 */
export function resourceNames(properties: unknown, where = "the resource names"): Record<string, string> {
  const parsed = v.safeParse(Properties, properties);
  if (!parsed.success) {
    const problems = parsed.issues.map((issue) => `${v.getDotPath(issue) ?? "Properties"}: ${issue.message}`);
    throw new AkmError(
      `The properties of ${where} are not what this function expects (${problems.join("; ")}).`,
      {
        fix: "Deploy the template this function was built with (npm run build); do not edit the custom resource.",
        fault: "tool",
      },
    );
  }
  const { Names, MaxLength } = parsed.output;
  return Object.fromEntries(Object.entries(Names).map(([key, name]) => [key, fitName(name, MaxLength)]));
}

/** The provider: Create and Update answer the names; Delete has nothing to undo. */
export function resourceNamesProvider(log: (line: string) => void): CustomResourceProvider {
  return {
    async apply(request: CustomResourceRequest) {
      const names = resourceNames(request.ResourceProperties, request.LogicalResourceId);
      log(
        `${request.LogicalResourceId}: ${Object.entries(names)
          .map(([key, name]) => `${key}=${name}`)
          .join(", ")}`,
      );
      return names;
    },
    async remove() {
      // Names only: the resources named with them go with the stack.
    },
  };
}
