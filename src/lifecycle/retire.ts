import { repoLabel } from "../domain/repo.ts";
import { toAkmError } from "../errors.ts";
import type { HandlerResult } from "../handler-contract.ts";
import { holdersOf } from "./holders.ts";
import { loadReposConfig } from "./preflight.ts";
import type { RotationDeps } from "./rotation-context.ts";
import { RunReport } from "./run-report.ts";
import { withRunLock } from "./with-run-lock.ts";

/**
 * R2: after the grace period, deactivates the previous key — only if no listed repository can still hold
 * it (R1). The key is deleted by the next rotation, so an inactive key can be re-activated by hand meanwhile.
 */
export async function retire(deps: RotationDeps, owner: string): Promise<HandlerResult> {
  return withRunLock(deps, owner, "retire", () => retireOnce(deps));
}

async function retireOnce(deps: RotationDeps): Promise<HandlerResult> {
  const report = new RunReport("retire", false);
  try {
    const state = await deps.state.load();
    const previous = state?.previous;
    report.newAccessKeyId = state?.current?.accessKeyId ?? "";
    if (!state || !previous) {
      return report.finish("Succeeded", "Nothing to retire: there is no previous key.");
    }
    report.oldAccessKeyId = previous.accessKeyId;
    report.retireAfter = previous.retireAfter;
    const now = deps.clock.now();
    if (now.getTime() < Date.parse(previous.retireAfter)) {
      return report.finish(
        "Succeeded",
        `The previous key ${previous.accessKeyId} stays active until ${previous.retireAfter} (grace period); the next rotation retires it.`,
      );
    }
    const { config } = await loadReposConfig(deps.config);
    const holders = holdersOf(previous, config.repos, state.holdings);
    if (holders.length > 0) {
      return report.finish(
        "Failed",
        `Retire Failed: the previous key ${previous.accessKeyId} may still be used by ${holders.map(repoLabel).join(", ")}, so it stays active. Run Rotate: it writes the current key to these repositories first.`,
      );
    }
    const keys = await deps.iam.list();
    const key = keys.find((k) => k.accessKeyId === previous.accessKeyId);
    if (!key) {
      return report.finish(
        "Succeeded",
        `The previous key ${previous.accessKeyId} no longer exists; nothing to do.`,
      );
    }
    if (key.status === "Active") await deps.iam.deactivate(previous.accessKeyId);
    return report.finish(
      "Succeeded",
      `Deactivated the previous key ${previous.accessKeyId}; every listed repository holds ${report.newAccessKeyId}. The next rotation deletes it.`,
    );
  } catch (error) {
    const akm = toAkmError(error, "Retire");
    deps.log(`retire failed: ${akm.name}: ${akm.message}`);
    return report.finish("Failed", `Retire Failed (${akm.fault} fault).`, akm);
  }
}
