import { type FormatStream, formatDifferences, type TemplateDiff } from "@aws-cdk/cloudformation-diff";

/** Width of the IAM and security group tables when the output is not a terminal. */
const DEFAULT_COLUMNS = 120;

/** cloudformation-diff's full rendering of a diff, as text (colored only when chalk sees a terminal). */
export function renderTemplateDiff(diff: TemplateDiff, columns = DEFAULT_COLUMNS): string {
  const chunks: string[] = [];
  // formatDifferences only calls write() and reads columns, so a collector stands in for a stream.
  const collector = {
    columns,
    write(chunk: string | Uint8Array): boolean {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    },
  };
  formatDifferences(collector as unknown as FormatStream, diff);
  return chunks.join("");
}
