import { describe, expect, inject, it } from "vitest";
import { useStacks } from "../../scripts/local-stack/stack-fixture.ts";
import { SETTINGS_ENV } from "../../src/config/settings.ts";

const endpoint = inject("motoEndpoint");
const createStack = useStacks(endpoint);

describe("Rotate runbook preflight", () => {
  it("fails naming a listed repository that does not exist, and changes no key", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      repos: ["octo-org/api", "octo-org/gone"],
      githubRepos: ["octo-org/api"],
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/gone");
    expect(execution.failureMessage).toContain("Fix:");
    expect(execution.failureMessage).toContain("Nothing was changed");
    expect(execution.failureMessage).not.toContain("octo-org/api:");
    expect(await stack.keys()).toEqual(before);
    expect(stack.secretPuts("octo-org/api")).toBe(0);
  });

  it("fails naming a repository the token cannot reach, and changes no key", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      repos: ["octo-org/api", "octo-org/private"],
      tokenRepos: ["octo-org/api"],
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/private");
    expect(execution.failureMessage).toMatch(/token/i);
    expect(await stack.keys()).toEqual(before);
    expect(stack.secretPuts("octo-org/api")).toBe(0);
  });

  it("fails when the token may read but not write secrets, before any key changes", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"], tokenPermission: "read" });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/api");
    expect(execution.failureMessage).toMatch(/secrets/i);
    expect(await stack.keys()).toEqual([]);
  });
});

describe("Rotate runbook preflight: everything that would make a write fail", () => {
  it("fails naming an archived repository, with unarchive it or remove it from the list, before any key exists", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      repos: ["octo-org/api", "octo-org/legacy"],
      archivedRepos: ["octo-org/legacy"],
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/legacy is archived");
    expect(execution.failureMessage).toContain("Unarchive it or remove it from the list");
    expect(execution.failureMessage).not.toContain("octo-org/api:");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests.filter((r) => r.method === "PUT")).toEqual([]);
  });

  it("rotates once the archived repository is removed from the list", async () => {
    // Prepare
    const stack = await createStack({
      repos: ["octo-org/api", "octo-org/legacy"],
      archivedRepos: ["octo-org/legacy"],
    });
    await stack.runRunbook("Rotate");
    await stack.runRunbook("Delete-RepoConfig", { GITHUBOWNER: "octo-org", GITHUBREPO: "legacy" });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Success");
    expect(await stack.keys()).toHaveLength(1);
  });

  it("fails naming the role a classic token's machine user lacks, before any key exists", async () => {
    // Prepare
    const stack = await createStack({
      repos: ["octo-org/api"],
      tokenGrant: { kind: "classic", scopes: ["repo"], role: "write" },
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("has the write role on octo-org/api");
    expect(execution.failureMessage).toContain("needs the admin role");
    expect(await stack.keys()).toEqual([]);
  });
});

describe("Rotate runbook preflight: organization policies GitHub enforces with 403", () => {
  it("says it is the organization's IP allow list, and how to get a fixed address, before any key exists", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    stack.github.addFault({
      route: "repos/get",
      status: 403,
      times: Number.POSITIVE_INFINITY,
      message:
        "Although you appear to have the correct authorization credentials, the `octo-org` organization has an IP allow list enabled, and your IP address is not permitted to access this resource.",
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(
      "octo-org has an IP allow list and the function's IP address is not on it",
    );
    expect(execution.failureMessage).toContain("pVpcSubnetIds");
    expect(execution.failureMessage).not.toContain("lacks permission");
    expect(await stack.keys()).toEqual([]);
  });

  it("says the token is not authorized for SAML single sign-on and gives GitHub's whole link", async () => {
    // Prepare
    const stack = await createStack({ repos: ["octo-org/api"] });
    const link = `https://github.com/orgs/octo-org/sso?authorization_request=${"A1B2C3D4".repeat(16)}`;
    stack.github.addFault({
      route: "repos/get",
      status: 403,
      times: Number.POSITIVE_INFINITY,
      headers: { "x-github-sso": `required; url=${link}` },
      message:
        "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.",
    });

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org enforces SAML single sign-on");
    expect(execution.failureMessage).toContain(`open ${link} signed in as the machine user`);
    expect(await stack.keys()).toEqual([]);
  });
});

describe("Rotate runbook with secret names GitHub takes for one secret", () => {
  it.each([
    ["AWS_ACCESS_KEY_ID", "aws_access_key_id"],
    ["AWS_KEY", "aws_key"],
  ])(
    "fails naming both parameters when they are %s and %s, before any key or secret changes",
    async (keyId, secretKey) => {
      // Prepare
      const stack = await createStack({
        existingKeys: 1,
        lambdaEnv: { [SETTINGS_ENV.secretNameKeyId]: keyId, [SETTINGS_ENV.secretNameSecretKey]: secretKey },
      });
      const before = await stack.keys();

      // Act
      const { execution } = await stack.runRunbook("Rotate");

      // Assess
      expect(execution.status).toBe("Failed");
      expect(execution.failureMessage).toContain("pGitHubSecretNameAwsKeyId");
      expect(execution.failureMessage).toContain("pGitHubSecretNameAwsKey ");
      expect(execution.failureMessage).toContain("case-insensitively");
      expect(await stack.keys()).toEqual(before);
      expect(stack.github.requests).toEqual([]);
    },
  );
});

describe("Rotate runbook with a broken repos.json", () => {
  it("fails before any IAM change when repos.json does not exist", async () => {
    // Prepare
    const stack = await createStack({ existingKeys: 1, reposJson: null });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain(`s3://${stack.bucket}/${stack.configKey}`);
    expect(execution.failureMessage).toContain("does not exist");
    expect(execution.failureMessage).toContain("Add-RepoConfig");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests).toEqual([]);
  });

  it("fails before any IAM change when repos.json is not JSON (missing comma), saying where", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      reposJson:
        '{\n  "Repos": [\n    { "Owner": "octo-org", "Name": "api" }\n    { "Owner": "octo-org", "Name": "web" }\n  ]\n}\n',
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toMatch(/not valid JSON at line 4, column 5/);
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests).toEqual([]);
  });

  it("fails before any IAM change when repos.json is not JSON (trailing comma), saying where", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      reposJson: '{\n  "Repos": [\n    { "Owner": "octo-org", "Name": "api" },\n  ]\n}\n',
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toMatch(/not valid JSON at line 4, column \d+/);
    expect(await stack.keys()).toEqual(before);
  });

  it("fails before any IAM change when repos.json lists a repository twice", async () => {
    // Prepare
    const stack = await createStack({
      existingKeys: 1,
      reposJson: JSON.stringify({
        Repos: [
          { Owner: "octo-org", Name: "api" },
          { Owner: "Octo-Org", Name: "API" },
        ],
      }),
    });
    const before = await stack.keys();

    // Act
    const { execution } = await stack.runRunbook("Rotate");

    // Assess
    expect(execution.status).toBe("Failed");
    expect(execution.failureMessage).toContain("octo-org/api is listed more than once");
    expect(await stack.keys()).toEqual(before);
    expect(stack.github.requests).toEqual([]);
  });
});
