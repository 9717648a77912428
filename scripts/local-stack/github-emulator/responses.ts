/**
 * Builders for GitHub-shaped response bodies and headers. Field sets follow the documented schemas
 * (`private-user`, `full-repository`, `basic-error`), which the emulator validates every response against.
 */
import { createHash } from "node:crypto";
import { DEFAULT_API_VERSION } from "./api-versions.ts";
import {
  type EnvironmentRecord,
  isPrivate,
  type OrgRecord,
  type OwnerRecord,
  type RepoRecord,
  type RepoRole,
  type UserRecord,
} from "./state.ts";

/** A response the emulator will send; `body` undefined means no body (e.g. 204). */
export interface EmulatorResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** GitHub's error body: `{ message, documentation_url, status }` (status is a string). */
export function errorResponse(
  status: number,
  message: string,
  documentationUrl: string,
  headers: Readonly<Record<string, string>> = {},
): EmulatorResponse {
  return { status, body: { message, documentation_url: documentationUrl, status: String(status) }, headers };
}

/**
 * Headers GitHub sends on every REST response (rate-limit headers are added by the server), with the API version
 * the request asked for (GitHub's default when it named none, or named one this GitHub does not have).
 */
export function standardHeaders(requestId: string, apiVersion = DEFAULT_API_VERSION): Record<string, string> {
  return {
    "x-github-api-version-selected": apiVersion,
    "x-github-media-type": "github.v3; format=json",
    "x-github-request-id": requestId,
    "x-content-type-options": "nosniff",
    "x-frame-options": "deny",
    "x-xss-protection": "0",
    "access-control-allow-origin": "*",
    vary: "Accept, Authorization, Cookie, X-GitHub-OTP",
  };
}

/** A request id shaped like GitHub's (`C0DE:1A2B3C:4D5E6F:7A8B9C0:65F0A1B2`), unique per emulator. */
export function requestIdFor(sequence: number, startedAtMs: number): string {
  const hex = (value: number, width: number) =>
    value.toString(16).toUpperCase().padStart(width, "0").slice(-width);
  return [
    "E0E1",
    hex(sequence, 6),
    hex(sequence * 7 + 13, 6),
    hex(sequence * 31 + 101, 7),
    hex(Math.floor(startedAtMs / 1000), 8),
  ].join(":");
}

/** A user's URLs; the login percent-encoded, as GitHub does for bots (`dependabot%5Bbot%5D`). */
function userUrls(apiBase: string, webBase: string, rawLogin: string) {
  const login = encodeURIComponent(rawLogin);
  const api = `${apiBase}/users/${login}`;
  return {
    avatar_url: `${webBase}/avatars/${login}`,
    url: api,
    html_url: `${webBase}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
  };
}

function nodeId(prefix: string, id: number): string {
  return Buffer.from(`${prefix}${id}`).toString("base64");
}

/** A user or organization as GitHub's `simple-user` (an App's owner, an installation's account). */
export function simpleUserBody(
  user: UserRecord,
  type: "User" | "Organization" | "Bot",
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId("04:User", user.id),
    gravatar_id: "",
    ...userUrls(apiBase, webBase, user.login),
    type,
    user_view_type: "public",
    site_admin: false,
  };
}

/** `GET /user` body for the token owner (GitHub's `private-user`). */
export function authenticatedUserBody(
  user: UserRecord,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId("04:User", user.id),
    gravatar_id: "",
    ...userUrls(apiBase, webBase, user.login),
    type: "User",
    user_view_type: "private",
    site_admin: false,
    name: null,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    notification_email: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: user.createdAt,
    updated_at: user.createdAt,
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
    plan: { name: "free", space: 976_562_499, collaborators: 0, private_repos: 10_000 },
  };
}

/** What each role may do, as `permissions` reports it (each role includes the ones below it). */
const ROLE_PERMISSIONS: Readonly<Record<RepoRole, Record<string, boolean>>> = {
  admin: { admin: true, maintain: true, push: true, triage: true, pull: true },
  maintain: { admin: false, maintain: true, push: true, triage: true, pull: true },
  write: { admin: false, maintain: false, push: true, triage: true, pull: true },
  triage: { admin: false, maintain: false, push: false, triage: true, pull: true },
  read: { admin: false, maintain: false, push: false, triage: false, pull: true },
};

/** `GET /repos/{owner}/{repo}` body (GitHub's `full-repository`), with the caller's permissions. */
export function repositoryBody(
  repo: RepoRecord,
  owner: OwnerRecord,
  role: RepoRole,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  const api = `${apiBase}/repos/${repo.owner}/${repo.name}`;
  const html = `${webBase}/${repo.owner}/${repo.name}`;
  const host = new URL(webBase).host;
  return {
    id: repo.id,
    node_id: nodeId("010:Repository", repo.id),
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    private: isPrivate(repo),
    owner: {
      login: owner.login,
      id: owner.id,
      node_id: nodeId(owner.type === "User" ? "04:User" : "012:Organization", owner.id),
      gravatar_id: "",
      ...userUrls(apiBase, webBase, owner.login),
      type: owner.type,
      user_view_type: "public",
      site_admin: false,
    },
    html_url: html,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    hooks_url: `${api}/hooks`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    git_url: `git://${host}/${repo.owner}/${repo.name}.git`,
    ssh_url: `git@${host}:${repo.owner}/${repo.name}.git`,
    svn_url: html,
    mirror_url: null,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: "main",
    open_issues: 0,
    open_issues_count: 0,
    is_template: false,
    topics: [...repo.topics],
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: repo.archived,
    disabled: false,
    visibility: repo.visibility,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    permissions: ROLE_PERMISSIONS[role],
    allow_forking: false,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  };
}

/** An environment as `GET …/environments[/{name}]` returns it (GitHub's `environment`). */
export function environmentBody(
  repo: RepoRecord,
  environment: EnvironmentRecord,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  const name = encodeURIComponent(environment.name);
  return {
    id: environment.id,
    node_id: nodeId("011:Environment", environment.id),
    name: environment.name,
    url: `${apiBase}/repos/${repo.owner}/${repo.name}/environments/${name}`,
    html_url: `${webBase}/${repo.owner}/${repo.name}/deployments/activity_log?environments_filter=${name}`,
    created_at: environment.createdAt,
    updated_at: environment.createdAt,
    protection_rules: [],
    deployment_branch_policy: null,
  };
}

/** The short organization shape (`organization-simple`). */
function organizationSimpleBody(org: OrgRecord, apiBase: string, webBase: string): Record<string, unknown> {
  const api = `${apiBase}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId("012:Organization", org.id),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${webBase}/avatars/${org.login}`,
    description: null,
  };
}

/** `GET /orgs/{org}` body (GitHub's `organization-full`, the fields every caller sees). */
export function organizationBody(
  org: OrgRecord,
  publicRepos: number,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  return {
    ...organizationSimpleBody(org, apiBase, webBase),
    html_url: `${webBase}/${org.login}`,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: publicRepos,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: "Organization",
    created_at: org.createdAt,
    updated_at: org.createdAt,
    archived_at: null,
  };
}

/** `GET /user/memberships/orgs/{org}` body (GitHub's `org-membership`); owners have role `admin`. */
export function orgMembershipBody(
  org: OrgRecord,
  user: UserRecord,
  role: "admin" | "member",
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  return {
    url: `${apiBase}/orgs/${org.login}/memberships/${user.login}`,
    state: "active",
    role,
    organization_url: `${apiBase}/orgs/${org.login}`,
    organization: organizationSimpleBody(org, apiBase, webBase),
    user: {
      login: user.login,
      id: user.id,
      node_id: nodeId("04:User", user.id),
      gravatar_id: "",
      ...userUrls(apiBase, webBase, user.login),
      type: "User",
      site_admin: false,
    },
  };
}

/** Git's blob id of a file's content: SHA-1 of `blob <size>\0<content>`. */
function blobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest("hex");
}

/** A directory's id for listings: stable per path (the emulator keeps no trees). */
function treeSha(path: string): string {
  return createHash("sha1").update(`tree ${path}`).digest("hex");
}

function contentLinks(
  repo: RepoRecord,
  path: string,
  type: "file" | "dir",
  sha: string,
  apiBase: string,
  webBase: string,
) {
  const self = `${apiBase}/repos/${repo.owner}/${repo.name}/contents/${path}?ref=main`;
  const git = `${apiBase}/repos/${repo.owner}/${repo.name}/git/${type === "file" ? "blobs" : "trees"}/${sha}`;
  const html = `${webBase}/${repo.owner}/${repo.name}/${type === "file" ? "blob" : "tree"}/main/${path}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

/** One entry of a directory listing (`content-directory` item). */
export function contentEntryBody(
  repo: RepoRecord,
  path: string,
  content: string | undefined,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  const type = content === undefined ? "dir" : "file";
  const sha = content === undefined ? treeSha(path) : blobSha(content);
  return {
    type,
    size: content === undefined ? 0 : Buffer.byteLength(content, "utf8"),
    name: path.split("/").at(-1) ?? path,
    path,
    sha,
    ...contentLinks(repo, path, type, sha, apiBase, webBase),
    download_url: content === undefined ? null : `${webBase}/raw/${repo.owner}/${repo.name}/main/${path}`,
  };
}

/**
 * A file (`content-file`): its content base64-encoded with a line break every 60 characters, as GitHub sends it.
 * https://docs.github.com/en/rest/repos/contents#get-repository-content
 */
export function contentFileBody(
  repo: RepoRecord,
  path: string,
  content: string,
  apiBase: string,
  webBase: string,
): Record<string, unknown> {
  const encoded = Buffer.from(content, "utf8").toString("base64");
  return {
    ...contentEntryBody(repo, path, content, apiBase, webBase),
    type: "file",
    encoding: "base64",
    content: `${encoded.replace(/.{60}/g, "$&\n")}\n`,
  };
}
