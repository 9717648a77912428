import { join } from "node:path";
import { readTemplateFile, type TemplateFile } from "./read-template-file.ts";

/** The product: the one template `npm run build` writes. */
export const DIST_TEMPLATE = join("dist", "aws-github-akm.template.yaml");

/** Reads the built template; if it is missing, the error says to run the build. */
export function readDistTemplate(projectRoot: string): Promise<TemplateFile> {
  return readTemplateFile(join(projectRoot, DIST_TEMPLATE), "run `npm run build` first, then try again.");
}
