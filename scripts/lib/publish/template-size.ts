import { UsageError } from "../cli/errors.ts";

/** CloudFormation reads templates of at most 1 MB from S3 (TemplateURL). */
export const MAX_TEMPLATE_URL_BYTES = 1_048_576;

/** Refuses a template CloudFormation would refuse, before uploading it. */
export function checkTemplateSize(bytes: number, path: string): void {
  if (bytes > MAX_TEMPLATE_URL_BYTES) {
    throw new UsageError(
      `${path} is ${bytes} bytes; CloudFormation accepts at most ${MAX_TEMPLATE_URL_BYTES} bytes from S3. ` +
        "Make the build output smaller (the inline Lambda bundle is usually the largest part).",
    );
  }
}
