/**
 * The REST API versions (`X-GitHub-Api-Version`) each emulated GitHub accepts. GitHub: "Requests without the
 * X-GitHub-Api-Version header will default to use the 2022-11-28 version. If you specify an API version that is no
 * longer supported, you will receive a 400 error."
 * https://docs.github.com/en/rest/about-the-rest-api/api-versions
 * - github.com and GHE.com (GitHub Enterprise Cloud): 2022-11-28, and 2026-03-10 since that date; 2022-11-28 stays
 *   supported for at least 24 months after it.
 *   https://github.blog/changelog/2026-03-12-rest-api-version-2026-03-10-is-now-available
 * - GitHub Enterprise Server versions its REST API from 3.9 on, and each release's "API Versions" page names
 *   2022-11-28 (e.g. https://docs.github.com/en/enterprise-server@3.15/rest/about-the-rest-api/api-versions). The
 *   releases whose descriptions @octokit/openapi ships (3.17 to 3.19) are given that one only.
 */
import type { GitHubDescription } from "./openapi.ts";

/** The version GitHub selects when a request names none. */
export const DEFAULT_API_VERSION = "2022-11-28";
const CLOUD_API_VERSIONS = [DEFAULT_API_VERSION, "2026-03-10"] as const;

/** The `X-GitHub-Api-Version` values a description's GitHub accepts. */
export function supportedApiVersions(description: GitHubDescription): readonly string[] {
  return description.startsWith("ghes-") ? [DEFAULT_API_VERSION] : CLOUD_API_VERSIONS;
}
