import { publishPartition } from "./publish-partition.ts";
import { encodeComponent } from "./url-encode.ts";

/**
 * The virtual-hosted HTTPS URL of an object in its region, as CloudFormation's TemplateURL expects:
 * `https://<bucket>.s3.<region>.amazonaws.com/<key>` (each key segment encoded, `/` kept).
 */
export function s3ObjectUrl(bucket: string, region: string, key: string): string {
  const path = key.split("/").map(encodeComponent).join("/");
  return `https://${bucket}.s3.${region}.${publishPartition(region).s3Domain}/${path}`;
}
