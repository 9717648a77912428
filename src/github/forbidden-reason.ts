/**
 * Why GitHub answered 403 (rate limits aside, which the caller handles first), told apart by the message GitHub
 * sends and its headers, each with what it means and how to fix it. GitHub: "If you observe an error that is not
 * addressed here, you should refer to the error message that the API gives you."
 * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
import { type AccessNeed, PERMISSIONS_DOC } from "./access-need.ts";

/** What the caller knows about the refused request, for messages. */
export interface ForbiddenContext {
  /** `owner/name` (or how messages name the target), when the request concerned one target. */
  readonly repo: string | undefined;
  /** What writing that target needs (src/github/access-need.ts); a repository's Actions secrets when absent. */
  readonly need?: AccessNeed | undefined;
  /** Login of the token's owner (the machine user), once known. */
  readonly machineUser: string | undefined;
  /** Display name of the Secrets Manager secret that holds the token. */
  readonly tokenSecretName: string;
}

/** GitHub's answer, reduced to what tells the reasons apart. */
export interface ForbiddenAnswer {
  /** GitHub's `message`, whole. */
  readonly message: string;
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, unknown>>;
}

export interface ForbiddenReason {
  /** A short id, for tests and logs: `saml-sso`, `ip-allow-list`, ... */
  readonly kind: string;
  /** What the refusal means, as the end of a sentence ("the repository is archived (read-only)"). */
  readonly what: string;
  readonly fix: string;
}

/**
 * What a machine user and its token need to write Actions secrets. GitHub answers a user without admin rights
 * "Must have admin rights to Repository." (the settings page for secrets is an admin's too:
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#creating-secrets-for-a-repository);
 * the endpoint needs the "Secrets" repository permission (write) for fine-grained tokens and the `repo` scope for
 * classic ones (https://docs.github.com/en/rest/actions/secrets#create-or-update-a-repository-secret).
 */
export function tokenNeeds(repo: string | undefined, machineUser: string | undefined): string {
  const target = repo ?? "every repository in repos.json";
  const who = machineUser === undefined ? "The machine user" : `The machine user ${machineUser}`;
  return `${who} needs the admin role on ${target} (for a repository of a personal account: be its owner). A fine-grained token also needs access to ${target} and the repository permission "Secrets: Read and write"; a classic token needs the "repo" scope (see ${PERMISSIONS_DOC}).`;
}

/** What the target of `context` needs, as a sentence for fixes. */
function needsOf(context: ForbiddenContext): string {
  return context.need?.needs(context.machineUser) ?? tokenNeeds(context.repo, context.machineUser);
}

/**
 * The owner in a target's label (`targetLabel`): `acme` in `acme/app`, `acme/app (environment prod)` and
 * `organization acme (Actions)`.
 */
export function ownerOfLabel(label: string): string {
  const organization = /^organization (\S+)/.exec(label)?.[1];
  return organization ?? label.split("/")[0] ?? label;
}

/** The organization or enterprise a policy message names (`acme` in "the `acme` organization ..."). */
function namedOwner(message: string, context: ForbiddenContext): string {
  const quoted = /[`'‘’"]([^`'‘’"]{1,100})[`'‘’"]/.exec(message)?.[1];
  return quoted ?? (context.repo === undefined ? "the organization" : ownerOfLabel(context.repo));
}

/** `url=…` of an `X-GitHub-SSO: required; url=https://github.com/orgs/ORG/sso?authorization_request=…` header. */
export function ssoUrl(headers: Readonly<Record<string, unknown>>): string | undefined {
  const value = headers["x-github-sso"];
  if (typeof value !== "string") return undefined;
  return /(?:^|;)\s*url=(\S+)/.exec(value)?.[1];
}

interface Rule {
  readonly kind: string;
  readonly matches: (answer: ForbiddenAnswer) => boolean;
  readonly explain: (answer: ForbiddenAnswer, context: ForbiddenContext) => Omit<ForbiddenReason, "kind">;
}

const RULES: readonly Rule[] = [
  {
    // https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api#using-personal-access-tokens:
    // "If you receive a 403 Forbidden error, the X-GitHub-SSO header will include a URL that you can follow to
    // authorize your token. The URL expires after one hour."
    kind: "saml-sso",
    matches: ({ message, headers }) =>
      /SAML enforcement/i.test(message) || String(headers["x-github-sso"] ?? "").startsWith("required"),
    explain: (answer, context) => {
      const owner = namedOwner(answer.message, context);
      const url = ssoUrl(answer.headers);
      const open =
        url === undefined
          ? "on GitHub, Settings → Developer settings → Personal access tokens, choose Configure SSO next to the token and Authorize"
          : `open ${url} signed in as the machine user (GitHub's link; it expires after an hour), or on GitHub, Settings → Developer settings → Personal access tokens, choose Configure SSO next to the token and Authorize`;
      return {
        what: `${owner} enforces SAML single sign-on and the token is not authorized for it`,
        fix: `Authorize the token in ${context.tokenSecretName} for ${owner}'s single sign-on: ${open}. Then run Rotate again. https://docs.github.com/en/enterprise-cloud@latest/authentication/authenticating-with-saml-single-sign-on/authorizing-a-personal-access-token-for-use-with-saml-single-sign-on`,
      };
    },
  },
  {
    // "Although you appear to have the correct authorization credentials, the `ORG` organization has an IP allow
    // list enabled, and your IP address is not permitted to access this resource."
    // https://docs.github.com/en/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/managing-allowed-ip-addresses-for-your-organization
    kind: "ip-allow-list",
    matches: ({ message }) => /IP allow ?list/i.test(message),
    explain: (answer, context) => {
      const owner = namedOwner(answer.message, context);
      return {
        what: `${owner} has an IP allow list and the function's IP address is not on it`,
        fix: `Give the function a fixed address and allow it: update the stack with pVpcSubnetIds (private subnets whose internet route goes through a NAT gateway with an Elastic IP) and pVpcSecurityGroupIds, then add that Elastic IP to ${owner}'s IP allow list (organization Settings → Authentication security → IP allow list). See README, section Fixed egress for an IP allow list.`,
      };
    },
  },
  {
    // "The 'ORG' organization forbids access via a personal access tokens (classic) if the token's lifetime is
    // greater than N days." Organization and enterprise owners may cap token lifetimes:
    // https://docs.github.com/en/organizations/managing-programmatic-access-to-your-organization/setting-a-personal-access-token-policy-for-your-organization#enforcing-a-maximum-lifetime-policy-for-personal-access-tokens
    kind: "token-lifetime",
    matches: ({ message }) => /forbids access/i.test(message) && /lifetime/i.test(message),
    explain: (answer, context) => {
      const owner = namedOwner(answer.message, context);
      const days = /greater than (\d+) days?/i.exec(answer.message)?.[1];
      const limit = days === undefined ? "the lifetime it allows" : `${days} days`;
      return {
        what: `${owner} refuses tokens that live longer than ${limit}, and this token does`,
        fix: `Create a token for the machine user that expires within ${limit} and store it in the secret ${context.tokenSecretName} (Secrets Manager); put a reminder to renew it before it expires. Then run Rotate again.`,
      };
    },
  },
  {
    // "`ORG` forbids access via a personal access token (classic). Please use a GitHub App, OAuth App, or a
    // personal access token with fine-grained permissions." (same documentation page as above)
    kind: "classic-token-forbidden",
    matches: ({ message }) => /forbids access via a personal access tokens? \(classic\)/i.test(message),
    explain: (answer, context) => {
      const owner = namedOwner(answer.message, context);
      return {
        what: `${owner} does not accept classic personal access tokens`,
        fix: `Create a fine-grained personal access token for the machine user with resource owner ${owner}, access to the listed repositories and the repository permission "Secrets: Read and write", and store it in the secret ${context.tokenSecretName} (Secrets Manager). Then run Rotate again.`,
      };
    },
  },
  {
    kind: "fine-grained-token-forbidden",
    matches: ({ message }) => /forbids access via a fine-grained personal access tokens?/i.test(message),
    explain: (answer, context) => {
      const owner = namedOwner(answer.message, context);
      return {
        what: `${owner} does not accept fine-grained personal access tokens`,
        fix: `Create a classic personal access token for the machine user with the "repo" scope (authorize it for ${owner}'s single sign-on if it has one) and store it in the secret ${context.tokenSecretName} (Secrets Manager). Then run Rotate again.`,
      };
    },
  },
  {
    // An archived repository is read-only: "Repository was archived so is read-only."
    // https://docs.github.com/en/repositories/archiving-a-github-repository/archiving-repositories
    kind: "archived",
    matches: ({ message }) => /archived/i.test(message),
    explain: (_answer, context) => ({
      what: "the repository is archived, so it is read-only",
      fix: `Unarchive ${context.repo ?? "the repository"} (its Settings → Danger Zone → Unarchive this repository) or remove it from the list (Delete-RepoConfig runbook), then run Rotate again.`,
    }),
  },
  {
    // "Must have admin rights to Repository."
    kind: "not-admin",
    matches: ({ message }) => /must have admin rights/i.test(message),
    explain: (_answer, context) => ({
      what: `the machine user${context.machineUser === undefined ? "" : ` ${context.machineUser}`} is not an admin of the repository`,
      fix:
        context.need === undefined
          ? `Give the machine user${context.machineUser === undefined ? "" : ` ${context.machineUser}`} the admin role on ${context.repo ?? "the repository"} (repository Settings → Collaborators and teams, or a team with the admin role); a collaborator with write access cannot write Actions secrets. ${needsOf(context)}`
          : `${context.need.role(context.machineUser)}. ${needsOf(context)}`,
    }),
  },
  {
    // An organization secret written by a user who is not an owner of the organization: "You must be an org admin or
    // have the actions secrets fine-grained permission." (reported in https://github.com/cli/cli/issues/8810;
    // creating organization secrets is an owner's:
    // https://docs.github.com/en/actions/security-for-github-actions/security-guides/using-secrets-in-github-actions#creating-secrets-for-an-organization)
    kind: "not-org-owner",
    matches: ({ message }) => /must be an org admin/i.test(message),
    explain: (_answer, context) => {
      const user =
        context.machineUser === undefined ? "the machine user" : `the machine user ${context.machineUser}`;
      return {
        what: `${user} is not an owner of the organization, and organization secrets are an owner's to write`,
        fix: `${context.need?.role(context.machineUser) ?? `Make ${user} an owner of the organization (organization Settings → People → Change role → Owner)`}. ${needsOf(context)}`,
      };
    },
  },
  {
    // A GitHub App's installation token: "Resource not accessible by integration". The run mints tokens with the
    // permissions it needs, after checking the installation grants them (src/github/app-connection.ts), so this
    // means a permission the check does not know of. `X-Accepted-GitHub-Permissions` names what the endpoint takes.
    // https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible
    kind: "app-permission",
    matches: ({ message }) => /resource not accessible by integration/i.test(message),
    explain: (answer, context) => {
      const accepted = answer.headers["x-accepted-github-permissions"];
      const needs = typeof accepted === "string" && accepted !== "" ? ` (GitHub asks for ${accepted})` : "";
      return {
        what: `the GitHub App's installation token lacks a permission the request needs${needs}`,
        fix: `Give the GitHub App the permission GitHub names (the App's settings → Permissions & events) and have an owner of ${context.repo === undefined ? "each listed owner" : ownerOfLabel(context.repo)} accept it on the App's installation (README, section "GitHub App instead of a machine user"). Then run Rotate again.`,
      };
    },
  },
  {
    // "Resource not accessible by personal access token" (fine-grained token), "... by integration" (GitHub App);
    // `X-Accepted-GitHub-Permissions` names the permission the endpoint needs.
    // https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible
    kind: "fine-grained-permission",
    matches: ({ message }) => /resource not accessible by/i.test(message),
    explain: (answer, context) => {
      const accepted = answer.headers["x-accepted-github-permissions"];
      const needs = typeof accepted === "string" && accepted !== "" ? ` (GitHub asks for ${accepted})` : "";
      const repo = context.repo ?? "every repository in repos.json";
      return {
        what: `the fine-grained token lacks a permission the request needs${needs}`,
        fix: `Edit the fine-grained token in ${context.tokenSecretName}: ${context.need?.fineGrained ?? `under Repository access include ${repo}, and under Repository permissions set "Secrets" to "Read and write"`}. If the organization requires approval of fine-grained tokens, an owner must approve it. ${needsOf(context)}`,
      };
    },
  },
  {
    // "Although you appear to have the correct authorization credentials, the `ORG` organization has enabled OAuth
    // App access restrictions, ..." applies to OAuth app tokens, never to personal access tokens.
    kind: "oauth-app-restrictions",
    matches: ({ message }) => /OAuth App access restrictions/i.test(message),
    explain: (answer, context) => ({
      what: `${namedOwner(answer.message, context)} restricts OAuth app access and the token belongs to an OAuth app`,
      fix: `Store a personal access token of the machine user in the secret ${context.tokenSecretName} instead of an OAuth app token. ${needsOf(context)}`,
    }),
  },
  {
    // GitHub blocks repositories for legal or terms-of-service reasons: "Repository access blocked".
    kind: "repository-blocked",
    matches: ({ message }) => /repository access blocked/i.test(message),
    explain: (_answer, context) => ({
      what: "GitHub has blocked access to the repository",
      fix: `Remove ${context.repo ?? "the repository"} from the list (Delete-RepoConfig runbook), or ask GitHub Support why it is blocked.`,
    }),
  },
  {
    // "Sorry. Your account was suspended."
    kind: "account-suspended",
    matches: ({ message }) => /account (?:was|is|has been) suspended/i.test(message),
    explain: () => ({
      what: "the machine user's account is suspended",
      fix: "Ask your enterprise or GitHub Support to unsuspend the machine user, or store a token of another machine user, then run Rotate again.",
    }),
  },
];

/** The documented 403 reason GitHub's answer matches, or the generic "lacks permission" one. */
export function forbiddenReason(answer: ForbiddenAnswer, context: ForbiddenContext): ForbiddenReason {
  for (const rule of RULES) {
    if (rule.matches(answer)) return { kind: rule.kind, ...rule.explain(answer, context) };
  }
  return {
    kind: "no-permission",
    what: "the token lacks permission",
    fix: `Give the token in ${context.tokenSecretName} access to ${context.repo ?? "the repositories"}. ${needsOf(context)} If the organization enforces SAML single sign-on, also authorize the token for it.`,
  };
}
