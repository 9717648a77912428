/**
 * The bench's pure parts for organization secrets: the layouts it compares (where N repositories read the key from)
 * and the lower bound of a rotation that resolves an organization secret's selected repositories.
 */
import { describe, expect, it } from "vitest";
import {
  ENFORCED_RULES,
  endpointMinutePeak,
  GITHUB_RULES,
  layoutLowerBoundSeconds,
  lowerBoundSeconds,
  readRules,
} from "../../bench/lib/bounds.ts";
import { plannedLayoutRuns } from "../../bench/lib/org-scenarios.ts";
import { layoutListDocument, layoutWork, secretLayout } from "../../bench/lib/secret-layout.ts";
import { parseReposConfig } from "../../src/config/repos-config.ts";

const LATENCY_MS = 150;

describe("bench layouts", () => {
  it("lists every repository's own secrets in a version 1 list for the per-repository layout", () => {
    // Act
    const layout = secretLayout("repository", 3, "acme");

    // Assess
    expect(layoutListDocument(layout)).toEqual({
      Repos: [
        { Owner: "acme", Name: "repo-1" },
        { Owner: "acme", Name: "repo-2" },
        { Owner: "acme", Name: "repo-3" },
      ],
    });
    expect(layoutWork(layout)).toEqual({ writes: 6, selectedRepositories: 0, shadowReads: 3 });
  });

  it("shares one organization secret with all N repositories selected", () => {
    // Act
    const layout = secretLayout("organization", 1_000, "acme");

    // Assess
    expect(layout.entries).toHaveLength(1);
    expect(layout.entries[0]).toMatchObject({ Type: "organization", Visibility: "selected" });
    expect(layoutWork(layout)).toEqual({ writes: 2, selectedRepositories: 1_000, shadowReads: 2_000 });
    expect(layout.jobs).toHaveLength(1_000);
  });

  it("gives every repository of the mixed layout exactly one place its default job reads, and lists each environment copy", () => {
    // Act
    const layout = secretLayout("mixed", 100, "acme");

    // Assess
    const organization = layout.places.find((place) => place.kind === "organization");
    const own = layout.places.filter((place) => place.kind === "repository").map((place) => place.repo);
    const environments = layout.places.filter((place) => place.kind === "environment");
    expect(own).toHaveLength(10);
    expect(organization?.kind === "organization" ? organization.selected : []).toHaveLength(90);
    const selected = new Set(organization?.kind === "organization" ? organization.selected : []);
    expect(layout.repos.every((repo) => selected.has(repo) !== own.includes(repo))).toBe(true);
    expect(environments).toHaveLength(4);
    expect(environments.every((place) => selected.has(place.repo))).toBe(true);
    expect(layout.jobs).toHaveLength(104);
    expect(layoutWork(layout)).toEqual({
      writes: 2 + 20 + 8,
      selectedRepositories: 90,
      shadowReads: 100 + 90 + 4,
    });
  });

  it("writes lists the product's parser accepts, for every layout", () => {
    for (const kind of ["repository", "organization", "mixed"] as const) {
      // Prepare
      const layout = secretLayout(kind, 40, "acme");

      // Act
      const config = parseReposConfig(JSON.stringify(layoutListDocument(layout)), "s3://bench/repos.json");

      // Assess
      expect(config.targets).toHaveLength(layout.places.length);
    }
  });
});

describe("bench lower bound with selected repositories", () => {
  it("equals the per-repository bound when nothing is selected", () => {
    // Act
    const bound = layoutLowerBoundSeconds(
      { writes: 200, selectedRepositories: 0 },
      GITHUB_RULES,
      readRules(LATENCY_MS),
      LATENCY_MS,
    );

    // Assess
    expect(bound).toBe(lowerBoundSeconds(100, GITHUB_RULES, LATENCY_MS));
  });

  it("reads the organization's repositories 100 a page, one read for 100 selected, then writes the organization secret", () => {
    // Act
    const bound = layoutLowerBoundSeconds(
      { writes: 2, selectedRepositories: 100 },
      ENFORCED_RULES,
      readRules(LATENCY_MS),
      LATENCY_MS,
    );

    // Assess: one read's round trip, then the two writes back to back and their round trip
    expect(bound).toBeCloseTo(0.3, 6);
  });

  it("resolves 10,000 selected repositories with 100 reads, all in one round trip", () => {
    // Act
    const bound = layoutLowerBoundSeconds(
      { writes: 2, selectedRepositories: 10_000 },
      GITHUB_RULES,
      readRules(LATENCY_MS),
      LATENCY_MS,
    );

    // Assess
    expect(bound).toBeCloseTo(0.3, 6);
  });

  it("waits a minute for each 900 of the shadowing check's reads beyond the first minute's, before any write", () => {
    // Act
    const bound = layoutLowerBoundSeconds(
      { writes: 2, selectedRepositories: 0, shadowReads: 1_000 },
      GITHUB_RULES,
      readRules(LATENCY_MS),
      LATENCY_MS,
    );

    // Assess: reads 901–1,000 start a minute after the first 100 started
    expect(bound).toBeCloseTo(60 + 0.3, 6);
  });

  it("waits for the primary limit's hour for each 5,000 reads the shadowing check needs", () => {
    // Act
    const hourly = layoutLowerBoundSeconds(
      { writes: 2, selectedRepositories: 10_000, shadowReads: 19_900 },
      GITHUB_RULES,
      readRules(LATENCY_MS),
      LATENCY_MS,
    );
    const withoutHourly = layoutLowerBoundSeconds(
      { writes: 2, selectedRepositories: 10_000, shadowReads: 19_900 },
      GITHUB_RULES,
      readRules(LATENCY_MS, { hourly: false }),
      LATENCY_MS,
    );

    // Assess: 20,000 reads; read 20,000 starts three hours after read 5,000 did (300.6 s: 900 a minute, 100 at once);
    // without the hourly limit, reads 19,901–20,000 start one round trip after the 23rd minute begins
    expect(hourly).toBeCloseTo(3 * 3_600 + 300.6 + 0.3, 6);
    expect(withoutHourly).toBeCloseTo(22 * 60 + 0.45, 6);
  });
});

describe("bench per-endpoint limit", () => {
  it("counts reads beyond 900 a minute on one endpoint, and writes at five points each", () => {
    // Prepare
    const reads = Array.from({ length: 1_000 }, (_, i) => ({
      method: "GET",
      route: "/repos/{owner}/{repo}",
      startedAt: i * 10,
    }));
    const otherEndpoint = Array.from({ length: 500 }, (_, i) => ({
      method: "GET",
      route: "/repos/{owner}/{repo}/actions/secrets/public-key",
      startedAt: i * 10,
    }));
    const writes = Array.from({ length: 80 }, (_, i) => ({
      method: "PUT",
      route: "/repos/{owner}/{repo}/actions/secrets/{secret_name}",
      startedAt: i * 100,
    }));

    // Act
    const figures = endpointMinutePeak([...reads, ...otherEndpoint, ...writes]);

    // Assess
    expect(figures).toEqual({ peakPoints: 1_000, excess: 100 });
    expect(endpointMinutePeak(writes)).toEqual({ peakPoints: 400, excess: 0 });
  });
});

describe("bench organization comparison plan", () => {
  it("runs the organization secret at every N, and the mix at 10,000 only when the main sizes list it", () => {
    // Act
    const byDefault = plannedLayoutRuns([100, 1_000, 10_000], [1, 10, 100, 500, 1_000]);
    const withLarge = plannedLayoutRuns([10_000], [100, 10_000]);

    // Assess
    expect(byDefault).toEqual([
      { repos: 100, layout: "organization" },
      { repos: 100, layout: "mixed" },
      { repos: 1_000, layout: "organization" },
      { repos: 1_000, layout: "mixed" },
      { repos: 10_000, layout: "organization" },
    ]);
    expect(withLarge).toEqual([
      { repos: 10_000, layout: "organization" },
      { repos: 10_000, layout: "mixed" },
    ]);
  });
});
