/**
 * Values a user can type into the CloudFormation form, at the edges of what each parameter accepts: shared by
 * the pattern tests (test/template/parameters.test.ts) and the cfn-lint dry runs (scanners.test.ts), so the
 * values the form accepts are the values shown to deploy.
 */

/** Parameter values by logical ID. */
export type FormValues = Readonly<Record<string, string>>;

/** One of IAM's user-name characters beyond letters and digits: `[\w+=,.@-]` (IAM API, CreateUser). */
export const IAM_NAME_SPECIALS = ["+", "=", ",", ".", "@", "_", "-"] as const;

/**
 * The longest IAM user name, which the form accepts (pIamUserName in templates/00-stack.yaml): IAM's own limit,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
 */
export const MAX_USER_NAME = 64;

/**
 * An IAM user name of `length` characters; from 9 characters on it holds every one of IAM's special characters
 * (`ci+=,.@_-` repeated), the ones resource names allow and the ones they do not.
 */
export function userNameOf(length: number): string {
  const unit = `ci${IAM_NAME_SPECIALS.join("")}`;
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/**
 * The user-name lengths at the edges: 1; 49, the longest the stack took before its names were computed (and the
 * longest GHS-AKM-Rotate-<name> fits EventBridge's 64); 50, the first that did not; 64, IAM's longest.
 */
export const USER_NAME_EDGES = [1, 49, 50, MAX_USER_NAME] as const;

function user(name: string, path = "/"): FormValues {
  return { pIamUserName: name, pIamUserArn: `arn:aws:iam::123456789012:user${path}${name}` };
}

/** A complete, valid form: every parameter without a default has a value. */
const BASE: FormValues = {
  pGitHubToken: "fake_token_for_tests_0123456789",
  pGitHubMachineUserName: "akm-bot",
  pRepoConfigBucketName: "akm-repo-config-123456789012",
  pSnsEmailAddress: "ops@example.com",
  ...user("ci-deployer"),
};

/** Each is a whole form; together they reach every boundary of every constrained parameter. */
export const BOUNDARY_VALUES: readonly FormValues[] = [
  // With a GitHub App: its ID, and its private key as the console's password field leaves it (no line breaks).
  {
    ...BASE,
    pHoursToRotate: "168",
    pGraceMinutes: "30",
    pGitHubAppId: "99999999999999999999",
    pGitHubToken: `-----BEGIN RSA PRIVATE KEY-----${"A".repeat(3900)}-----END RSA PRIVATE KEY-----`,
  },
  // The user names at USER_NAME_EDGES, with every special character IAM allows from 9 characters on.
  { ...BASE, ...user(userNameOf(1)), pHoursToRotate: "2", pGraceMinutes: "0" },
  { ...BASE, ...user(userNameOf(49)) },
  { ...BASE, ...user(userNameOf(50), "/team/ci/") },
  { ...BASE, ...user(userNameOf(MAX_USER_NAME)), pHoursToRotate: "2190", pGraceMinutes: "1440" },
  // The four characters IAM allows and resource names do not (the others are in BASE and the mixed name).
  ...["+", "=", ",", "@"].map((special) => ({ ...BASE, ...user(`ci${special}deployer`) })),
  { ...BASE, ...user(`ci${IAM_NAME_SPECIALS.join("")}mixed`) },
  { ...BASE, pGitHubMachineUserName: "m".repeat(39), pSolutionName: `S${" x".repeat(31)}y` },
  { ...BASE, pRepoConfigBucketName: "b".repeat(63), pRepoConfigKey: `k/${"r".repeat(1017)}` },
];

/** Values a Number parameter or a looser pattern would let through, and that would fail late. */
export const FORM_VALUES_THAT_MUST_FAIL: readonly FormValues[] = [
  // A character IAM's user names do not have (the runbook names would refuse it).
  { ...BASE, ...user("ci deployer") },
  { ...BASE, pHoursToRotate: "2.5" },
];
