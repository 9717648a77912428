/**
 * README's Troubleshooting tables quote messages; each must be one the product really prints. A quote's `…`
 * stands for a value; every piece between them must appear in a real message: one the product's code
 * produces here (for messages assembled from several strings), the fixed text of a string literal in
 * src/ or scripts/ (read with the TypeScript parser, the parts around each `${…}`), or a runbook's own text
 * (its check step raises the function's errors).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/shared/cli.ts";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import { parseReposConfig } from "../../src/config/repos-config.ts";
import { loadSettings, SETTINGS_ENV } from "../../src/config/settings.ts";
import type { RepositorySelection } from "../../src/domain/selection.ts";
import type { GitHubClient } from "../../src/github/client.ts";
import { GitHubRepositoryFinder } from "../../src/github/repository-finder.ts";
import { toGitHubAccessError } from "../../src/github/to-github-access-error.ts";
import { mergeSelections } from "../../src/lifecycle/selection.ts";
import { selectionNotes } from "../../src/lifecycle/selection-note.ts";
import { tokenExpiryWarning } from "../../src/lifecycle/token-check.ts";

/** The first cell's quoted message of each row of the tables in README's Troubleshooting section. */
function quotedMessages(): string[] {
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Troubleshooting\n");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => /^\| `([^`]+)`/.exec(line)?.[1] ?? "");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.mts") ? [path] : [];
  });
}

/** The fixed text of every string and template literal in the product's sources. */
function literalTexts(): string[] {
  const texts: string[] = [];
  for (const path of [
    ...sourceFiles(join(PROJECT_ROOT, "src")),
    ...sourceFiles(join(PROJECT_ROOT, "scripts")),
  ]) {
    const file = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) texts.push(node.text);
      else if (ts.isTemplateExpression(node)) {
        texts.push(node.head.text, ...node.templateSpans.map((span) => span.literal.text));
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return texts;
}

/** The runbooks' own texts: their check step raises some messages itself (runbook/*.yaml). */
function runbookTexts(): string[] {
  const dir = join(PROJECT_ROOT, "runbook");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .map((name) => readFileSync(join(dir, name), "utf8"));
}

/** Messages the code assembles from several strings, produced by the code itself. */
async function producedMessages(): Promise<string[]> {
  const messages: string[] = [];
  try {
    parseReposConfig('{"Repos": [', "s3://akm-config/repos.json");
  } catch (error) {
    messages.push((error as Error).message);
  }
  try {
    parseReposConfig(
      '{"Repos":[{"Owner":"acme","Name":"api","Visibility":"all"}]}',
      "s3://akm-config/repos.json",
    );
  } catch (error) {
    messages.push((error as Error).message);
  }
  const call = { action: "GET public key", repo: "acme/api", tokenSecretName: "GHS-AKM-ci-GitHubToken-bot" };
  for (const status of [401, 403, 404]) {
    const failure = { status, message: "refused", response: { headers: {}, data: { message: "Refused" } } };
    messages.push(toGitHubAccessError(failure, call).message);
    for (const scope of ["environment", "organization"] as const) {
      messages.push(toGitHubAccessError(failure, { ...call, scope }).message);
    }
  }
  try {
    parseReposConfig(
      '{"Repos":[{"Owner":"acme","Name":"api"},{"Owner":"evil","Name":"x"}]}',
      "s3://akm-config/repos.json",
      OwnerAllowList.of("acme"),
    );
  } catch (error) {
    messages.push((error as Error).message);
  }
  const moved = (status: number, location: string, at: typeof call | Omit<typeof call, "repo">) =>
    toGitHubAccessError(
      { status, message: "moved", response: { headers: { location }, data: { message: "Moved" } } },
      at,
    ).message;
  messages.push(
    moved(301, "https://api.github.com/repositories/42", { ...call, action: "GET repository" }),
    moved(302, "https://github.example.net/user", {
      action: "GET /user",
      tokenSecretName: call.tokenSecretName,
    }),
  );
  try {
    loadSettings({ [SETTINGS_ENV.githubApiUrl]: "http://api.github.com" });
  } catch (error) {
    messages.push((error as Error).message);
  }
  const now = new Date("2026-01-01T00:00:00Z");
  const expiresAt = new Date("2026-01-06T00:00:00Z");
  messages.push(tokenExpiryWarning({ login: "bot", expiresAt }, "GHS-AKM-ci-GitHubToken-bot", now) ?? "");
  return [...messages, ...(await selectionMessages())];
}

/** Dynamic selection's messages: a selection that found nothing, too many found, an owner that is no organization. */
async function selectionMessages(): Promise<string[]> {
  const messages: string[] = [];
  const byTopic: RepositorySelection = { owner: "acme", by: { topic: "aws" }, store: "actions" };
  const byProperty: RepositorySelection = { ...byTopic, by: { property: "team", value: "ops" } };
  const nothing = [byTopic, byProperty].map((selection) => ({ selection, repositories: [], archived: [] }));
  const limits = { max: 10_000, location: "s3://akm-config/repos.json" };
  messages.push(...selectionNotes(mergeSelections([], nothing, limits).selections, undefined));
  const many = Array.from({ length: 10_001 }, (_, i) => ({ name: `r${i}`, id: i + 1 }));
  try {
    mergeSelections([], [{ selection: byTopic, repositories: many, archived: [] }], limits);
  } catch (error) {
    messages.push((error as Error).message);
  }
  const notFound = Object.assign(new Error("Not Found"), {
    status: 404,
    response: { headers: {}, data: {} },
  });
  const client = { request: async () => Promise.reject(notFound) } as unknown as GitHubClient;
  const finder = new GitHubRepositoryFinder({
    clientFor: async () => client,
    tokenSecretName: "GHS-AKM-ci-GitHubToken-bot",
  });
  messages.push(
    await finder.withTopic("acme", "aws").then(
      () => "",
      (error: Error) => error.message,
    ),
  );
  return messages;
}

describe("README's Troubleshooting", () => {
  const quotes = quotedMessages();
  const corpus = [...literalTexts(), ...runbookTexts()];

  beforeAll(async () => {
    corpus.push(...(await producedMessages()));
  });

  it("quotes messages", () => {
    // Assess
    expect(quotes.length).toBeGreaterThanOrEqual(10);
  });

  it.each(quotes)("quotes a message the product prints: %s", (quote) => {
    // Prepare
    const pieces = quote
      .split("…")
      .map((piece) => piece.trim())
      .filter((piece) => piece.length >= 3);

    // Act
    const missing = pieces.filter((piece) => !corpus.some((text) => text.includes(piece)));

    // Assess
    expect(pieces.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});
