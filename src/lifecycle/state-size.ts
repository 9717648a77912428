import type { ReposConfig } from "../config/repos-config.ts";
import { repoSlug } from "../domain/repo.ts";
import { ConfigError } from "../errors.ts";

/** Secrets Manager's limit for one secret value. https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html */
export const SECRET_VALUE_LIMIT_BYTES = 65_536;
/** Room for everything in the state besides the holdings: keys, secrets, the write log, the current batch. */
const STATE_HEADROOM_BYTES = 12_000;

/**
 * The rotation state records which key every listed repository holds, so its size grows with the list.
 * It must always fit in one Secrets Manager secret — a save that fails after CreateAccessKey would lose
 * the new key's secret (R3) — so a list that could not fit is refused in preflight, before any change.
 */
export function assertStateFits(config: ReposConfig, location: string): void {
  const holdings: Record<string, { accessKeyId: string; writtenAt: string }> = {};
  for (const repo of config.repos) {
    holdings[repoSlug(repo)] = { accessKeyId: "A".repeat(20), writtenAt: "2026-01-01T00:00:00.000Z" };
  }
  const projected = Buffer.byteLength(JSON.stringify({ holdings }), "utf8") + STATE_HEADROOM_BYTES;
  if (projected > SECRET_VALUE_LIMIT_BYTES) {
    throw new ConfigError(
      location,
      [
        `the ${config.repos.length} repositories listed need about ${projected} bytes of rotation state, more than the ${SECRET_VALUE_LIMIT_BYTES} bytes a Secrets Manager secret holds`,
      ],
      "List fewer repositories (a few hundred fit), or split them over several stacks, each with its own IAM user.",
    );
  }
}
