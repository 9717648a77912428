/**
 * A local GitHub REST emulator for integration tests, the demo and benchmarks: Actions secrets endpoints,
 * validated against GitHub's OpenAPI description, with fault injection, rate limits and a write hook.
 *
 * @example
 * const github = await startGitHubEmulator();
 * github.addRepo("octo", "app");
 * github.addToken("ghp_test", { login: "machine-user", repos: ["octo/app"], permission: "write" });
 * // ... point the code under test at github.url ...
 * expect(github.violations).toEqual([]);
 * await github.close();
 */
export { peakConcurrency, type RequestLogEntry } from "./access-log.ts";
export type {
  AddAppOptions,
  AppPermissionSet,
  EmulatedAppHandle,
  GitHubAppsEmulation,
  InstallOptions,
  MintedTokenRecord,
} from "./apps.ts";
export {
  defaultFaultMessage,
  type FaultHandle,
  type FaultRule,
  type FaultStatus,
  primaryRateLimitFault,
  secondaryRateLimitFault,
} from "./faults.ts";
export { ARCHIVED, EMULATED_OPERATIONS, NOT_ADMIN, type SecretWrittenEvent } from "./handlers.ts";
export type { EmulatorLimits } from "./limits.ts";
export {
  type GitHubEmulator,
  type GitHubEmulatorOptions,
  type SecretWrittenHook,
  startGitHubEmulator,
} from "./server.ts";
export type { RepoPublicKey, RepoRole, SecretMeta, TokenGrant, TokenPermission } from "./state.ts";
