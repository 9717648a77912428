import { describe, expect, it } from "vitest";
import { OwnerAllowList } from "../../src/config/owner-allow-list.ts";
import type { ConfigHistory, ConfigVersion } from "../../src/ports.ts";
import { renderAnswer } from "../../src/render-answer.ts";
import { announceListChange, type ListChange } from "../../src/repos/list-changed.ts";

const ALLOWED = OwnerAllowList.of("octo-org");
const LOCATION = "s3://akm-config/repos.json";

/** The list's versions, oldest first (undefined text: a delete marker). */
class MemoryHistory implements ConfigHistory {
  readonly location = LOCATION;
  readonly versions: ConfigVersion[] = [];

  add(text: string | undefined): string {
    const versionId = `v${this.versions.length + 1}`;
    this.versions.push({ versionId, text });
    return versionId;
  }

  async versionAndPrevious(versionId: string) {
    const at = this.versions.findIndex((v) => v.versionId === versionId);
    if (at === -1) return undefined;
    return { version: this.versions[at] as ConfigVersion, previous: this.versions[at - 1] };
  }
}

function list(...repos: string[]): string {
  return JSON.stringify({
    Repos: repos.map((full) => ({ Owner: full.split("/")[0], Name: full.split("/")[1] })),
  });
}

function change(versionId: string | undefined, deleted = false): ListChange {
  return {
    versionId,
    deleted,
    time: "2026-03-01T12:00:00Z",
    requester: "123456789012",
    sourceIp: "203.0.113.9",
    reason: deleted ? "DeleteObject" : "PutObject",
  };
}

describe("announcing a change of the repository list", () => {
  it("names the repositories added and removed since the version before, and who changed it", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api", "octo-org/web"));
    const version = history.add(list("octo-org/api", "octo-org/docs"));

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Succeeded");
    expect(outcome.alerts).toEqual([
      [
        `The repository list ${LOCATION} changed (version v2, PutObject at 2026-03-01T12:00:00Z by 123456789012 from 203.0.113.9).`,
        "Added (1): octo-org/docs.",
        "Removed (1): octo-org/web.",
      ].join("\n"),
    ]);
  });

  it("announces the first version as adding every repository", async () => {
    // Prepare
    const history = new MemoryHistory();
    const version = history.add(list("octo-org/api"));

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.alerts[0]).toContain("Added (1): octo-org/api.\nRemoved (0): none.");
  });

  it("names an added repository of an owner the stack does not allow as refused, and fails", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api"));
    const version = history.add(list("octo-org/api", "evil-corp/harvest"));

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Failed");
    expect(outcome.alerts[0]).toContain("Added (1): evil-corp/harvest.");
    expect(outcome.alerts[0]).toContain(
      "Refused: evil-corp/harvest — its owner is not in pAllowedGitHubOwners (octo-org). No rotation runs while the list names it",
    );
  });

  it("announces a deletion as removing every repository", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api", "octo-org/web"));
    const marker = history.add(undefined);

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(marker, true));

    // Assess
    expect(outcome.alerts[0]).toContain(
      `The repository list ${LOCATION} was deleted (version v2, DeleteObject`,
    );
    expect(outcome.alerts[0]).toContain("Removed (2): octo-org/api, octo-org/web.");
    expect(outcome.alerts[0]).toContain("no rotation runs until it is uploaded again");
  });

  it("says a version that is not a valid list is not valid, without claiming everything was removed", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api"));
    const version = history.add('{"Repos": [');

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Failed");
    expect(outcome.alerts[0]).toContain("The list is not valid now: Invalid repository list");
    expect(outcome.alerts[0]).not.toContain("Removed");
  });

  it("announces nothing when the repositories did not change (the same list uploaded again)", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api"));
    const version = history.add(`${list("octo-org/api")}\n`);

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Succeeded");
    expect(outcome.alerts).toEqual([]);
    expect(renderAnswer(outcome, new Date()).summary).toContain("no repository added or removed");
  });

  it("fails saying why when S3 no longer has the version", async () => {
    // Act
    const outcome = await announceListChange(new MemoryHistory(), ALLOWED, change("gone"));

    // Assess
    expect(outcome.status).toBe("Failed");
    expect(outcome.error?.message).toContain(
      "Version gone of s3://akm-config/repos.json is not in the bucket",
    );
  });
});

describe("announcing a change of a list with every kind of entry", () => {
  const v2 = (...entries: unknown[]) => JSON.stringify({ Version: 2, Repos: entries });
  const api = { Owner: "octo-org", Name: "api" };

  it("names the environments, organization secrets and selections added and removed, with what each says", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(v2(api, { Owner: "octo-org", Topic: "deploys-to-aws" }));
    const version = history.add(
      v2(
        api,
        { Type: "environment", Owner: "octo-org", Name: "api", Environment: "production" },
        {
          Type: "organization",
          Owner: "octo-org",
          Secrets: "dependabot",
          Visibility: "selected",
          Repositories: ["api"],
        },
        { Owner: "octo-org", Name: "web", Unmanaged: true },
      ),
    );

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Succeeded");
    expect(outcome.alerts[0]).toContain(
      [
        "Added (3): octo-org/api (environment production), organization octo-org (Dependabot) (visibility selected: api), octo-org/web (Unmanaged: never written, its copy holds another key on purpose).",
        "Removed (1): repositories of octo-org with topic deploys-to-aws (selected at each run).",
      ].join("\n"),
    );
    expect(outcome.repos.map((r) => r.repo)).toEqual([
      "octo-org/api (environment production)",
      "organization octo-org (Dependabot)",
      "octo-org/web",
    ]);
  });

  it("announces an entry whose settings changed: visibility, names, Unmanaged", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(
      v2(
        api,
        { Type: "organization", Owner: "octo-org", Visibility: "all" },
        { Owner: "octo-org", Name: "web" },
      ),
    );
    const version = history.add(
      v2(
        api,
        { Type: "organization", Owner: "octo-org", Visibility: "private" },
        { Owner: "octo-org", Name: "web", Unmanaged: true },
      ),
    );

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.alerts[0]).toContain(
      [
        "Added (0): none.",
        "Removed (0): none.",
        "Changed (2): organization octo-org (Actions) (visibility private), octo-org/web (Unmanaged: never written, its copy holds another key on purpose).",
      ].join("\n"),
    );
  });

  it("names the repositories added to and removed from an organization secret's Repositories, however many it lists", async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `app-${String(i + 1).padStart(2, "0")}`);
    const selected = (repositories: string[]) => ({
      Type: "organization",
      Owner: "octo-org",
      Visibility: "selected",
      Repositories: repositories,
    });
    const history = new MemoryHistory();
    history.add(v2(api, selected(names)));
    const version = history.add(v2(api, selected([...names.filter((n) => n !== "app-05"), "zz-takeover"])));

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.alerts[0]).toContain(
      "Changed (1): organization octo-org (Actions) (visibility selected: app-01, app-02, app-03, app-04, app-06, app-07, app-08, app-09, app-10, app-11 and 2 more; Repositories added (1): zz-takeover; removed (1): app-05).",
    );
  });

  it("announces nothing when only the spelling changed: letter case, field order, the format's version", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api", "octo-org/web"));
    const version = history.add(
      v2({ Name: "API", Owner: "Octo-Org" }, { Owner: "octo-org", Name: "web", Secrets: "actions" }),
    );

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.alerts).toEqual([]);
  });

  it("names an added organization secret of an owner the stack does not allow as refused, and fails", async () => {
    // Prepare
    const history = new MemoryHistory();
    history.add(list("octo-org/api"));
    const version = history.add(v2(api, { Type: "organization", Owner: "evil-corp", Visibility: "all" }));

    // Act
    const outcome = await announceListChange(history, ALLOWED, change(version));

    // Assess
    expect(outcome.status).toBe("Failed");
    expect(outcome.alerts[0]).toContain(
      "Refused: organization evil-corp (Actions) — its owner is not in pAllowedGitHubOwners",
    );
    expect(outcome.repos).toContainEqual(
      expect.objectContaining({ repo: "organization evil-corp (Actions)", result: "failed" }),
    );
  });
});
