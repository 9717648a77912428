/**
 * True when `apiUrl` is the REST root of a GitHub Enterprise Server: `https://HOST/api/v3`
 * (https://docs.github.com/en/enterprise-server@latest/rest/quickstart; GitHub's own example requests use
 * `http(s)://HOSTNAME/api/v3`). api.github.com and GHE.com (`https://api.SUBDOMAIN.ghe.com`) serve the API at the
 * root of their host. Some products exist only on GitHub.com and GHE.com: Codespaces, whose REST pages are versioned
 * for them alone (https://docs.github.com/en/rest/codespaces/repository-secrets) and whose paths GitHub's
 * GHES descriptions in @octokit/openapi (ghes-3.x) do not have.
 */
export function isEnterpriseServer(apiUrl: string): boolean {
  let path: string;
  try {
    path = new URL(apiUrl).pathname;
  } catch {
    return false;
  }
  return /\/api\/v3\/?$/.test(path);
}
