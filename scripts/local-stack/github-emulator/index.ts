/**
 * A local GitHub REST emulator for integration tests, the demo and benchmarks: secrets (Actions, Dependabot,
 * Codespaces; repository, environment, organization) and Actions variables, environments, organization inventory
 * (repositories with topics, custom properties, workflow files), validated against GitHub's OpenAPI description
 * (github.com, GHE Cloud or GHES), with fault injection, rate limits, a write hook and the R1 view of what a job
 * would read.
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
export { APP_OPERATIONS } from "./apps.ts";
export type { EmulatorExtension, ExtensionAuthentication } from "./extension.ts";
export {
  defaultFaultMessage,
  type FaultHandle,
  type FaultRule,
  type FaultStatus,
  primaryRateLimitFault,
  secondaryRateLimitFault,
} from "./faults.ts";
export type { Handler, HandlerContext, HandlerResult } from "./handler-kit.ts";
export {
  ARCHIVED,
  EMULATED_OPERATIONS,
  NOT_ADMIN,
  NOT_ORG_ADMIN,
  type SecretWrittenEvent,
} from "./handlers.ts";
export type { EmulatorLimits } from "./limits.ts";
export type { GitHubDescription } from "./openapi.ts";
export { type EffectiveValue, effectiveSecret, effectiveVariable, type JobContext } from "./precedence.ts";
export { errorResponse } from "./responses.ts";
export type { OrgVisibility, SecretScope, SecretStore } from "./scopes.ts";
export type { RepoPublicKey, SecretMeta } from "./secret-box.ts";
export {
  type GitHubEmulator,
  type GitHubEmulatorOptions,
  type SecretWrittenHook,
  type ServedHook,
  type ServedRequest,
  startGitHubEmulator,
} from "./server.ts";
export type {
  EmulatorState,
  OrgRole,
  PropertyValue,
  RepoOptions,
  RepoRole,
  RepoVisibility,
  TokenGrant,
  TokenPermission,
} from "./state.ts";
export type {
  GitHubStateApi,
  Holding,
  OrgAccessSpec,
  OrgAccessView,
  OrgRepositoryView,
} from "./state-api.ts";
