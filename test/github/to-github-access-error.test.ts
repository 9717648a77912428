/**
 * Every refusal GitHub documents gets its own message and fix. Each case is GitHub's answer as it sends it (status,
 * `message`, the headers that matter); the wording is GitHub's, from its documentation or from public reports
 * quoting the API (linked in src/github/forbidden-reason.ts).
 */
import { describe, expect, it } from "vitest";
import { GitHubRateLimitError } from "../../src/errors.ts";
import {
  detail,
  type GitHubCall,
  type HttpFailure,
  toGitHubAccessError,
} from "../../src/github/to-github-access-error.ts";

const CALL: GitHubCall = {
  action: "PUT secret AWS_ACCESS_KEY_ID",
  repo: "acme/app",
  tokenSecretName: "GHS-AKM-ci-GitHubToken-bot",
  machineUser: "acme-bot",
  apiUrl: "https://api.github.com",
};

function answer(status: number, message: string, headers: Record<string, string> = {}): HttpFailure {
  const body = { message, documentation_url: "https://docs.github.com/rest", status: String(status) };
  return Object.assign(new Error(message), { status, response: { headers, data: body } });
}

const SSO_URL =
  "https://github.com/orgs/acme/sso?authorization_request=A5TKEQ3QJBNSZ4OJCVCR2ZLNFJ5HA4TZK5CWKYLOMZUW4Z3FOJQXI2LPNZTGQ3DJORSWI4TPNB2WY4THGVXHIYLUNFXW4ZLEMFZWC3TKMFXGOZLTNBSXGY3PNVYGC4TZ";

describe("GitHub's 403 answers, each with its own message and fix", () => {
  it("SAML SSO: says the token is not authorized for the organization and gives GitHub's link whole", () => {
    const error = toGitHubAccessError(
      answer(
        403,
        "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.",
        { "x-github-sso": `required; url=${SSO_URL}` },
      ),
      CALL,
    );

    expect(error.message).toBe(
      "GitHub refused PUT secret AWS_ACCESS_KEY_ID on acme/app (403 Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.): acme enforces SAML single sign-on and the token is not authorized for it.",
    );
    expect(error.fix).toContain(`open ${SSO_URL} signed in as the machine user`);
    expect(error.fix).toContain("Configure SSO");
    expect(error).toMatchObject({ status: 403, fault: "user", repo: "acme/app" });
  });

  it("IP allow list: names the allow list, not the token, and offers fixed egress", () => {
    const error = toGitHubAccessError(
      answer(
        403,
        "Although you appear to have the correct authorization credentials, the `acme` organization has an IP allow list enabled, and your IP address is not permitted to access this resource.",
      ),
      CALL,
    );

    expect(error.message).toMatch(
      /: acme has an IP allow list and the function's IP address is not on it\.$/,
    );
    expect(error.message).not.toContain("lacks permission");
    expect(error.fix).toContain("pVpcSubnetIds");
    expect(error.fix).toContain("NAT gateway with an Elastic IP");
    expect(error.fix).toContain("acme's IP allow list");
  });

  it("classic tokens forbidden: says to use a fine-grained token for the organization", () => {
    const error = toGitHubAccessError(
      answer(
        403,
        "`acme` forbids access via a personal access token (classic). Please use a GitHub App, OAuth App, or a personal access token with fine-grained permissions.",
      ),
      CALL,
    );

    expect(error.message).toMatch(/: acme does not accept classic personal access tokens\.$/);
    expect(error.fix).toContain("fine-grained personal access token");
    expect(error.fix).toContain('"Secrets: Read and write"');
    expect(error.fix).toContain(CALL.tokenSecretName);
  });

  it.each([
    "The 'acme' organization forbids access via a personal access tokens (classic) if the token's lifetime is greater than 90 days.",
    "The 'acme' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 90 days.",
  ])("token lifetime policy: names the limit (%s)", (message) => {
    const error = toGitHubAccessError(answer(403, message), CALL);

    expect(error.message).toMatch(
      /: acme refuses tokens that live longer than 90 days, and this token does\.$/,
    );
    expect(error.fix).toContain("expires within 90 days");
  });

  it("fine-grained tokens forbidden: says to use a classic token with the repo scope", () => {
    const error = toGitHubAccessError(
      answer(
        403,
        "`acme` forbids access via a fine-grained personal access tokens. Please use a GitHub App, OAuth App, or a personal access token (classic).",
      ),
      CALL,
    );

    expect(error.message).toMatch(/: acme does not accept fine-grained personal access tokens\.$/);
    expect(error.fix).toContain('"repo" scope');
  });

  it("archived repository: says unarchive it or remove it from the list", () => {
    const error = toGitHubAccessError(answer(403, "Repository was archived so is read-only."), CALL);

    expect(error.message).toBe(
      "GitHub refused PUT secret AWS_ACCESS_KEY_ID on acme/app (403 Repository was archived so is read-only.): the repository is archived, so it is read-only.",
    );
    expect(error.fix).toMatch(/^Unarchive acme\/app .* or remove it from the list/);
  });

  it("no admin rights: names the machine user and the admin role it needs, for both token types", () => {
    const error = toGitHubAccessError(answer(403, "Must have admin rights to Repository."), CALL);

    expect(error.message).toMatch(/: the machine user acme-bot is not an admin of the repository\.$/);
    expect(error.fix).toContain("Give the machine user acme-bot the admin role on acme/app");
    expect(error.fix).toContain('"Secrets: Read and write"');
    expect(error.fix).toContain('"repo" scope');
  });

  it("fine-grained token without the permission: quotes the permission GitHub asks for", () => {
    const error = toGitHubAccessError(
      answer(403, "Resource not accessible by personal access token", {
        "x-accepted-github-permissions": "secrets=write",
      }),
      CALL,
    );

    expect(error.message).toMatch(
      /: the fine-grained token lacks a permission the request needs \(GitHub asks for secrets=write\)\.$/,
    );
    expect(error.fix).toContain('set "Secrets" to "Read and write"');
    expect(error.fix).toContain("include acme/app");
  });

  it("OAuth app restrictions: keeps GitHub's link at the end of a long message whole", () => {
    const message =
      "Although you appear to have the correct authorization credentials, the `acme` organization has enabled OAuth App access restrictions, meaning that data access to third-parties is limited. For more information on these restrictions, including how to enable this app, visit https://docs.github.com/articles/restricting-access-to-your-organization-s-data/";

    const error = toGitHubAccessError(answer(403, message), CALL);

    expect(error.message).toContain(
      "https://docs.github.com/articles/restricting-access-to-your-organization-s-data/)",
    );
    expect(error.message).toMatch(
      /: acme restricts OAuth app access and the token belongs to an OAuth app\.$/,
    );
    expect(error.fix).toContain("personal access token");
  });

  it("a blocked repository and a suspended account each say what happened", () => {
    const blocked = toGitHubAccessError(answer(403, "Repository access blocked"), CALL);
    const suspended = toGitHubAccessError(answer(403, "Sorry. Your account was suspended."), CALL);

    expect(blocked.message).toMatch(/: GitHub has blocked access to the repository\.$/);
    expect(blocked.fix).toContain("Delete-RepoConfig");
    expect(suspended.message).toMatch(/: the machine user's account is suspended\.$/);
  });

  it("any other 403: says the token lacks permission and what each token type needs", () => {
    const error = toGitHubAccessError(answer(403, "Forbidden"), CALL);

    expect(error.message).toBe(
      "GitHub refused PUT secret AWS_ACCESS_KEY_ID on acme/app (403 Forbidden): the token lacks permission.",
    );
    expect(error.fix).toContain("admin role on acme/app");
  });

  it("a 404 that carries GitHub's SSO link adds it whole to the fix", () => {
    const error = toGitHubAccessError(
      answer(404, "Not Found", { "x-github-sso": `required; url=${SSO_URL}` }),
      CALL,
    );

    expect(error.message).toMatch(/: the repository does not exist or the token cannot see it\.$/);
    expect(error.fix).toContain(`opening ${SSO_URL} signed in as the machine user`);
  });

  it("GitHub's primary rate limit says until when, from x-ratelimit-reset, so the run can wait for it", () => {
    const error = toGitHubAccessError(
      answer(403, "API rate limit exceeded for user ID 1.", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1767229200",
      }),
      CALL,
    );

    expect(error).toBeInstanceOf(GitHubRateLimitError);
    expect((error as GitHubRateLimitError).resetAt.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    expect(error.fault).toBe("transient");
    expect(error.message).toContain("primary rate limit");
    expect(error.message).toContain("2026-01-01T01:00:00.000Z");
    expect(error.fix).toContain("waits until that time");
  });

  it("a 429 with x-ratelimit-remaining 0 is the primary limit too", () => {
    const error = toGitHubAccessError(
      answer(429, "API rate limit exceeded.", {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1767229200",
      }),
      CALL,
    );

    expect(error).toBeInstanceOf(GitHubRateLimitError);
  });

  it("a secondary rate limit is not the primary one, though it may say x-ratelimit-remaining", () => {
    const error = toGitHubAccessError(
      answer(403, "You have exceeded a secondary rate limit.", {
        "retry-after": "60",
        "x-ratelimit-remaining": "4000",
        "x-ratelimit-reset": "1767229200",
      }),
      CALL,
    );

    expect(error).not.toBeInstanceOf(GitHubRateLimitError);
    expect(error.fault).toBe("transient");
  });

  it("a rate limit stays a transient fault, whatever the message", () => {
    const error = toGitHubAccessError(
      answer(403, "API rate limit exceeded for user ID 1.", { "x-ratelimit-remaining": "0" }),
      CALL,
    );

    expect(error.fault).toBe("transient");
    expect(error.message).toContain("rate-limited");
  });
});

describe("TLS certificate failures", () => {
  /** Octokit's RequestError for a fetch that failed in the TLS handshake: status 500, no response. */
  function handshakeFailure(code: string, reason: string): HttpFailure {
    const socketError = Object.assign(new Error(reason), { code });
    const fetchError = new TypeError("fetch failed", { cause: socketError });
    return Object.assign(new Error(reason), { status: 500, cause: fetchError });
  }

  it.each([
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate", "pGitHubCaBundleKey"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain", "pGitHubCaBundleKey"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", "pGitHubCaBundleKey"],
    ["CERT_HAS_EXPIRED", "certificate has expired", "renew it"],
    [
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "Hostname/IP does not match certificate's altnames",
      "host name the certificate was issued for",
    ],
  ])("%s is a configuration fault that says so, with its own fix", (code, reason, fix) => {
    const error = toGitHubAccessError(handshakeFailure(code, reason), {
      ...CALL,
      apiUrl: "https://ghe.example.com/api/v3",
    });

    expect(error.fault).toBe("user");
    expect(error.message).toBe(
      `Could not verify the TLS certificate of https://ghe.example.com/api/v3 for PUT secret AWS_ACCESS_KEY_ID on acme/app (${code}: ${reason}). This is a configuration problem, not an outage, so the request was not retried.`,
    );
    expect(error.fix).toContain(fix);
  });

  it("a connection that is refused stays a transient fault", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), {
      status: 500,
      cause: new TypeError("fetch failed", {
        cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }),
      }),
    });

    const error = toGitHubAccessError(refused, CALL);

    expect(error.fault).toBe("transient");
    expect(error.message).toContain("Could not reach GitHub");
  });
});

describe("quoting GitHub's message", () => {
  it("keeps a URL that crosses the length limit whole", () => {
    const url = "https://docs.github.com/en/some/long/path/that/explains/the/fix#with-an-anchor";
    const text = `${"word ".repeat(38)}see ${url} and more words after it.`;

    const quoted = detail(text);

    expect(quoted).toContain(url);
    expect(quoted.endsWith(`${url}…`)).toBe(true);
  });

  it("keeps a URL that starts after the limit, and leaves short messages alone", () => {
    const url = "https://docs.github.com/articles/restricting-access-to-your-organization-s-data/";
    const text = `${"word ".repeat(50)}visit ${url}`;

    expect(detail(text)).toContain(` ${url}`);
    expect(detail("Bad credentials")).toBe("Bad credentials");
  });
});

describe("GitHub's answers to a GitHub App's installation token", () => {
  const { machineUser: _machineUser, ...withoutUser } = CALL;
  const APP_CALL: GitHubCall = { ...withoutUser, appSlug: "key-rotator" };

  it("a 404 says the App's installation may not include the repository, and where to add it", () => {
    // Act
    const error = toGitHubAccessError(answer(404, "Not Found"), APP_CALL);

    // Assess
    expect(error.message).toBe(
      "GitHub refused PUT secret AWS_ACCESS_KEY_ID on acme/app (404 Not Found): the repository does not exist or the GitHub App key-rotator's installation on acme does not include it.",
    );
    expect(error.fix).toContain(
      "acme's Settings → GitHub Apps → key-rotator → Configure → Repository access",
    );
    expect(error.fix).not.toContain("machine user");
  });

  it("a 404 on an organization says the App may lack the organization permission, never a machine user", () => {
    // Act
    const error = toGitHubAccessError(answer(404, "Not Found"), {
      ...APP_CALL,
      repo: "organization acme (Actions)",
      scope: "organization",
    });

    // Assess
    expect(error.message).toContain(
      "the organization does not exist, or the GitHub App key-rotator's installation on acme cannot see its secrets.",
    );
    expect(error.fix).toContain('README, section "GitHub App instead of a machine user"');
    expect(error.fix).not.toContain("machine user ");
  });

  it("a 404 on an environment names the environment as a possible cause", () => {
    // Act
    const error = toGitHubAccessError(answer(404, "Not Found"), {
      ...APP_CALL,
      repo: "acme/app (environment prod)",
      scope: "environment",
    });

    // Assess
    expect(error.message).toContain(
      "the repository or its environment does not exist, or the GitHub App key-rotator's installation on acme does not include the repository.",
    );
    expect(error.fix).toContain("Check Owner, Name and Environment of acme/app (environment prod)");
  });

  it("a 403 Resource not accessible by integration names the permission GitHub asks for", () => {
    // Act
    const error = toGitHubAccessError(
      answer(403, "Resource not accessible by integration", {
        "x-accepted-github-permissions": "secrets=write",
      }),
      APP_CALL,
    );

    // Assess
    expect(error.message).toContain(
      "the GitHub App's installation token lacks a permission the request needs (GitHub asks for secrets=write)",
    );
    expect(error.fix).toContain("have an owner of acme accept it");
  });
});
