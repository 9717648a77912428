import { readFile } from "node:fs/promises";
import { UsageError } from "../cli/errors.ts";
import type { CfnTemplate } from "./cfn-template.ts";
import { parseCfnYaml } from "./parse-cfn-yaml.ts";

/** A template file's exact bytes (for upload) and its parsed content. */
export interface TemplateFile {
  readonly path: string;
  readonly bytes: Buffer;
  readonly template: CfnTemplate;
}

/**
 * Reads and parses a template file.
 * @param missingHint what to do when the file does not exist
 */
export async function readTemplateFile(path: string, missingHint: string): Promise<TemplateFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new UsageError(`${path} does not exist: ${missingHint}`, { cause: error });
    throw new UsageError(`Cannot read ${path} (${code ?? String(error)}): check its permissions.`, {
      cause: error,
    });
  }
  return { path, bytes, template: parseCfnYaml(bytes.toString("utf8"), path) };
}
