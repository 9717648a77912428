/**
 * README ("GitHub Enterprise Server and GHE.com") supports GitHub Enterprise Server 3.17 and later: every REST
 * operation the function calls — each one the GitHub emulator implements, since every test runs against it — must
 * be in GitHub's descriptions of those versions, Codespaces excepted (GitHub Enterprise Server has none).
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { APP_OPERATIONS, EMULATED_OPERATIONS } from "../../scripts/local-stack/github-emulator/index.ts";

const SUPPORTED_GHES = ["ghes-3.17", "ghes-3.18", "ghes-3.19"] as const;

interface Description {
  readonly paths: Readonly<Record<string, Readonly<Record<string, { readonly operationId?: string }>>>>;
}

function operationIds(version: string): Set<string> {
  const description = createRequire(import.meta.url)(
    `@octokit/openapi/generated/${version}.json`,
  ) as Description;
  return new Set(
    Object.values(description.paths).flatMap((methods) =>
      Object.values(methods).flatMap((operation) => (operation.operationId ? [operation.operationId] : [])),
    ),
  );
}

describe("GitHub Enterprise Server versions the README names as supported", () => {
  it.each(SUPPORTED_GHES)(
    "%s describes every operation the function calls, Codespaces excepted",
    (version) => {
      // Prepare
      const described = operationIds(version);

      // Act
      const missing = [...EMULATED_OPERATIONS, ...APP_OPERATIONS].filter(
        (id) => !id.startsWith("codespaces/") && !described.has(id),
      );

      // Assess
      expect(missing).toEqual([]);
    },
  );
});
