import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { UsageError } from "../cli/errors.ts";

const PackageSchema = v.object({
  version: v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/)),
});

/** The `version` of the project's package.json (it names the published template's S3 folder). */
export async function projectVersion(projectRoot: string): Promise<string> {
  const path = join(projectRoot, "package.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: run the script from the project (npm run ...).`, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: fix it, or pass --key.`, { cause: error });
  }
  const parsed = v.safeParse(PackageSchema, data);
  if (!parsed.success) {
    throw new UsageError(`${path} has no semantic "version" (like "1.2.3"): set one, or pass --key.`);
  }
  return parsed.output.version;
}
