/**
 * Values a user can type into the CloudFormation form, at the edges of what each parameter accepts: shared by
 * the pattern tests (test/template/parameters.test.ts) and the cfn-lint dry runs (scanners.test.ts), so the
 * values the form accepts are the values shown to deploy.
 */

/** Parameter values by logical ID. */
export type FormValues = Readonly<Record<string, string>>;

/** One of IAM's user-name characters beyond letters and digits: `[\w+=,.@-]` (IAM API, CreateUser). */
export const IAM_NAME_SPECIALS = ["+", "=", ",", ".", "@", "_", "-"] as const;

/** The longest IAM user name the form accepts (see pIamUserName in templates/00-stack.yaml). */
export const MAX_USER_NAME = 49;

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

const longName = (filler: string) => `ci${filler.repeat(MAX_USER_NAME - 2)}`;

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
  { ...BASE, ...user("a"), pHoursToRotate: "2", pGraceMinutes: "0" },
  { ...BASE, ...user("x".repeat(MAX_USER_NAME)), pHoursToRotate: "2190", pGraceMinutes: "1440" },
  // The four characters IAM allows and resource names do not (the others are in BASE and the mixed name).
  ...["+", "=", ",", "@"].map((special) => ({ ...BASE, ...user(`ci${special}deployer`) })),
  { ...BASE, ...user(`ci${IAM_NAME_SPECIALS.join("")}mixed`) },
  { ...BASE, ...user(longName("@")) },
  { ...BASE, ...user(longName(","), "/team/ci/") },
  { ...BASE, pGitHubMachineUserName: "m".repeat(39), pSolutionName: `S${" x".repeat(31)}y` },
  { ...BASE, pRepoConfigBucketName: "b".repeat(63), pRepoConfigKey: `k/${"r".repeat(1017)}` },
];

/** Values a Number parameter or a looser pattern would let through, and that would fail late. */
export const FORM_VALUES_THAT_MUST_FAIL: readonly FormValues[] = [
  { ...BASE, ...user("x".repeat(MAX_USER_NAME + 1)) },
  { ...BASE, pHoursToRotate: "2.5" },
];
