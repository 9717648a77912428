import { UsageError } from "../cli/errors.ts";

// A document name (letters, digits, _ - .), or a document ARN, which SSM also accepts.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html
const NAME = /^[a-zA-Z0-9_.-]{3,128}$/;
const ARN = /^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:(automation-definition|document)\/[a-zA-Z0-9_.:$-]{3,160}$/;

/** Returns the runbook name if SSM could accept it; a UsageError otherwise. */
export function validateDocumentName(name: string): string {
  if (!NAME.test(name) && !ARN.test(name)) {
    throw new UsageError(
      `--document '${name}' is not a runbook name: use 3 to 128 letters, digits, '_', '-' or '.', ` +
        "such as GHS-AKM-ci-deployer-Rotate (or the document's ARN).",
    );
  }
  return name;
}
