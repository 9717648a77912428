import type { ReposConfig } from "../config/repos-config.ts";
import { repositoryTarget, type Target } from "../domain/target.ts";

/**
 * The targets a parsed list names, in list order: where the rotation writes the key.
 * Bridge until the list parser returns targets itself (issue 10, list format): every entry of today's list is a
 * repository's Actions secrets.
 */
export function listedTargets(config: ReposConfig): readonly Target[] {
  return config.repos.map(repositoryTarget);
}
