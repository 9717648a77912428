import { redactSecrets } from "../cli/redact-secrets.ts";
import type { Finding } from "./finding.ts";

/**
 * The runbook outputs of a DryRun checked against the handler contract (contract v2): the values a branch,
 * a sleep or a person reads must be well formed, never "" and never a secret.
 *   Next / Outcome          one of the contract's enums, and not "failed" in a run that succeeded
 *   RetireAfter / ResumeAt  YYYY-MM-DDThh:mm:ssZ (aws:sleep's Timestamp form,
 *                           https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-sleep.html)
 *   *AccessKeyId            an access key ID (IAM: 16-128 word characters) or the literal "none"
 *   Summary                 non-empty, at most 4,000 bytes
 *   every output            resolved (no "{{ ... }}" left) and nothing shaped like a secret
 */
export const NEXT_VALUES = ["again", "done", "failed", "retire", "continues"] as const;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html: AccessKeyId, 16-128 [\w]+;
// AWS issues them in upper case.
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SUMMARY_MAX_BYTES = 4000;
// An AWS secret access key is a run of exactly 40 base64 characters; requiring upper and lower case and a
// digit keeps hex digests, key IDs and words out.
const BASE64_RUN = /[A-Za-z0-9/+=]+/g;

/** Findings about the outputs (`Step.Output` -> values, as GetAutomationExecution returns them). */
export function outputFindings(
  outputs: Readonly<Record<string, readonly string[]>>,
  where: string,
): Finding[] {
  const findings: Finding[] = [];
  const add = (output: string, what: string, fix: string) =>
    findings.push({ what: `output ${output} ${what}`, where: `${where}, output ${output}`, fix });
  const contractFix =
    "the Rotate runbook and the function must follow the handler contract (deploy the current build)";
  const names = Object.keys(outputs);
  if (!names.some((output) => /\.(Next|Outcome)$/.test(output))) {
    findings.push({
      what: "the execution has no Next (or Outcome) output, which a contract runbook always has",
      where,
      fix: contractFix,
    });
  }
  for (const [output, values] of Object.entries(outputs)) {
    const value = values.join("\n");
    const field = output.slice(output.lastIndexOf(".") + 1);
    if (value.includes("{{")) {
      add(output, `was never set (it reads ${JSON.stringify(value)})`, contractFix);
      continue;
    }
    if (looksSecret(value)) {
      add(
        output,
        "holds a value shaped like a secret",
        "report this as a bug at once: outputs must never hold a secret; rotate the exposed credential",
      );
      continue;
    }
    if (field === "Next" || field === "Outcome") {
      if (!(NEXT_VALUES as readonly string[]).includes(value)) {
        add(output, `is ${JSON.stringify(value)}, not one of ${NEXT_VALUES.join(", ")}`, contractFix);
      } else if (value === "failed") {
        add(output, `is "failed" although the execution succeeded`, contractFix);
      }
    } else if (field === "RetireAfter" || field === "ResumeAt") {
      if (!TIMESTAMP.test(value) || Number.isNaN(Date.parse(value))) {
        add(output, `is ${JSON.stringify(value)}, not a time in the form YYYY-MM-DDThh:mm:ssZ`, contractFix);
      }
    } else if (field.endsWith("AccessKeyId")) {
      if (value !== "none" && !ACCESS_KEY_ID.test(value)) {
        add(output, `is ${JSON.stringify(value)}, neither an access key ID nor "none"`, contractFix);
      }
    } else if (field === "Summary") {
      if (value.trim() === "") add(output, "is empty", contractFix);
      else if (Buffer.byteLength(value, "utf8") > SUMMARY_MAX_BYTES) {
        add(
          output,
          `is ${Buffer.byteLength(value, "utf8")} bytes, more than ${SUMMARY_MAX_BYTES}`,
          contractFix,
        );
      }
    }
  }
  return findings;
}

function looksSecret(value: string): boolean {
  return redactOutput(value) !== value;
}

/** The value with everything shaped like a secret replaced by `[redacted]`, for printing. */
export function redactOutput(value: string): string {
  return redactSecrets(value).replace(BASE64_RUN, (run) =>
    run.length === 40 && /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run) ? "[redacted]" : run,
  );
}
