import { type Partition, partitionOf } from "../aws/partition.ts";
import { UsageError } from "../cli/errors.ts";

/** The partition of the region to publish in; a UsageError for partitions without a known public console. */
export function publishPartition(region: string): Partition {
  const partition = partitionOf(region);
  if (partition === undefined) {
    throw new UsageError(
      `--region ${region} is in a partition without a public CloudFormation console link this tool knows; ` +
        "upload the template with your partition's tools and create the stack there.",
    );
  }
  return partition;
}
