/**
 * `npm run launch-link`: uploads the built template to S3 and prints the CloudFormation console's quick-create
 * link for it, with a Markdown "Launch Stack" button. It refuses a dist/ that is stale against the sources, a
 * parameter value the stack's form would refuse, and a link the console would not open; with --org-id it lets
 * an AWS Organization read the template. Not named `publish`, so that `npm publish` is never one typo away.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  GetBucketPolicyCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import * as v from "valibot";
import {
  AwsCallError,
  awsErrorName,
  type Partition,
  partitionOf,
  validateRegion,
  validateStackName,
} from "./shared/aws.ts";
import {
  type CliContext,
  type Command,
  ExitCode,
  exitCodeHelp,
  type KeyValue,
  parseKeyValues,
  parseOptions,
  requireOption,
  UsageError,
} from "./shared/cli.ts";
import {
  parameterSetProblems,
  parameterValueProblems,
  readDistTemplate,
  type TemplateParameter,
  templateParameters,
} from "./shared/template.ts";

const OPTIONS = {
  bucket: { type: "string" },
  region: { type: "string" },
  key: { type: "string" },
  "stack-name": { type: "string" },
  param: { type: "string", multiple: true },
  "org-id": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run launch-link -- --bucket BUCKET --region REGION [--key KEY] [--stack-name NAME]
                            [--param NAME=VALUE ...] [--org-id o-...]

Uploads dist/aws-github-akm.template.yaml to s3://BUCKET/KEY and prints the CloudFormation console
quick-create link for it, plus a Markdown "Launch Stack" button. It first checks that dist/ is exactly what
the sources produce (run \`npm run build\` after changing them), and that each --param is a value the
stack's form accepts.

The link creates a NEW stack. To upgrade an existing stack, update it instead (README, "Upgrading").

Options:
  --bucket BUCKET        existing S3 bucket in REGION to upload to
  --region REGION        region of the bucket and of the stack, e.g. eu-west-1
  --key KEY              object key (default: aws-github-akm/<package.json version>/aws-github-akm.template.yaml)
  --stack-name NAME      stack name the link proposes (default: aws-github-akm-<IAM user name> when
                         --param pIamUserName=... is given, one stack per user; otherwise none, and the
                         console asks for one)
  --param NAME=VALUE     prefill a template parameter in the link; repeatable. NoEcho parameters such as
                         pGitHubToken are refused: they are typed in the console, never put in a URL.
  --org-id o-...         let every principal of this AWS Organization read the uploaded template (a bucket
                         policy statement with aws:PrincipalOrgID), so a team can share the button without
                         a public bucket
  -h, --help             show this help

The link must stay within 1,024 characters; whoever opens it needs s3:GetObject on the uploaded object
(--org-id grants it to your organization). Needs AWS credentials with s3:PutObject on the key (and
s3:GetBucketPolicy and s3:PutBucketPolicy for --org-id), from the usual SDK settings (AWS_PROFILE,
AWS_ENDPOINT_URL, ...).

${exitCodeHelp({ runbookFailed: false })}`;

/** What the command needs from the outside world. */
export interface LaunchLinkDependencies {
  /** Throws a UsageError when dist/ is not what the sources produce. */
  readonly requireFreshDist: (projectRoot: string) => Promise<void>;
}

/** \`npm run launch-link\`: upload the built template and print its quick-create link. */
export function createLaunchLinkCommand(
  dependencies: LaunchLinkDependencies = { requireFreshDist },
): Command {
  return {
    name: "launch-link",
    help: HELP,
    async run(argv: readonly string[], context: CliContext) {
      const options = parseOptions(argv, OPTIONS);
      const bucket = validateBucketName(
        requireOption(options.bucket, "--bucket", "the S3 bucket to upload to"),
      );
      const region = validateRegion(
        requireOption(options.region, "--region", "the bucket's and stack's region"),
      );
      const parameters = parseKeyValues(options.param ?? [], "--param");
      const userName = parameters.find((parameter) => parameter.key === "pIamUserName")?.value;
      const stackName =
        options["stack-name"] !== undefined
          ? validateStackName(options["stack-name"])
          : userName === undefined || userName === ""
            ? undefined
            : defaultStackName(userName);
      const organizationId =
        options["org-id"] === undefined ? undefined : validateOrganizationId(options["org-id"]);
      const key = validateTemplateKey(
        options.key ?? defaultTemplateKey(await projectVersion(context.projectRoot)),
      );

      const dist = await readDistTemplate(context.projectRoot);
      checkTemplateSize(dist.bytes.length, dist.path);
      await dependencies.requireFreshDist(context.projectRoot);
      const templateUrl = s3ObjectUrl(bucket, region, key);
      // Built before uploading, so a bad --param or an over-long link uploads nothing.
      const url = quickCreateUrl({
        region,
        templateUrl,
        stackName,
        parameters,
        templateParameters: templateParameters(dist.template, dist.path),
      });

      const s3 = new S3Client({ region });
      await uploadTemplate(s3, { bucket, key, region, body: dist.bytes });
      context.stdout(
        `Uploaded ${relative(context.projectRoot, dist.path)} (${dist.bytes.length} bytes) to s3://${bucket}/${key}`,
      );
      if (organizationId !== undefined) {
        const objectArn = `arn:${publishPartition(region).name}:s3:::${bucket}/${key}`;
        await grantOrganizationRead(s3, { bucket, organizationId, objectArn });
        context.stdout(`Bucket policy: principals of organization ${organizationId} may read ${objectArn}`);
      }
      context.stdout(`Template URL: ${templateUrl}`);
      context.stdout(
        stackName === undefined
          ? "Stack name: none proposed (give --param pIamUserName=... or --stack-name); the console asks for one."
          : `Stack name: ${stackName} (one stack per IAM user; change it with --stack-name)`,
      );
      context.stdout("");
      context.stdout(`Quick-create link (CloudFormation console, ${region}; creates a new stack):`);
      context.stdout(url);
      context.stdout("");
      context.stdout('Markdown "Launch Stack" button:');
      context.stdout(launchStackMarkdown(url));
      context.stdout("");
      context.stdout(
        organizationId === undefined
          ? "Whoever opens the link needs s3:GetObject on the template object (a bucket policy, or --org-id for your organization)."
          : `Anyone signed in to an account of ${organizationId} can open the link; nobody else can read the template.`,
      );
      return ExitCode.Success;
    },
  };
}

/**
 * What is wrong with an S3 general purpose bucket name, or an empty list if nothing is.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63)
    problems.push(`it has ${name.length} character${name.length === 1 ? "" : "s"}, not 3 to 63`);
  if (!/^[a-z0-9.-]*$/.test(name))
    problems.push("it may only contain lowercase letters, digits, '.' and '-'");
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    problems.push("it must begin and end with a lowercase letter or digit");
  }
  if (name.includes("..")) problems.push("it must not contain two adjacent periods");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) problems.push("it must not look like an IP address");
  for (const prefix of ["xn--", "sthree-", "amzn-s3-demo-"]) {
    if (name.startsWith(prefix)) problems.push(`it must not start with '${prefix}'`);
  }
  for (const suffix of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) {
    if (name.endsWith(suffix)) problems.push(`it must not end with '${suffix}'`);
  }
  return problems;
}

/** Returns the bucket name if S3 would accept it; a UsageError listing every problem otherwise. */
export function validateBucketName(name: string): string {
  const problems = bucketNameProblems(name);
  if (problems.length > 0) {
    throw new UsageError(
      `--bucket '${name}' is not a valid S3 bucket name: ${problems.join("; ")}. ` +
        "Pass the name of an existing bucket (not an s3:// URL or ARN).",
    );
  }
  return name;
}

/** The statement this tool owns in a bucket policy; other statements are left as they are. */
export const ORGANIZATION_READ_SID = "AwsGithubAkmTemplateReadForOrganization";

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html (Id pattern)
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** Returns the organization ID if it is shaped like one (o-…); a UsageError otherwise. */
function validateOrganizationId(id: string): string {
  if (!ORGANIZATION_ID.test(id)) {
    throw new UsageError(
      `--org-id '${id}' is not an AWS Organizations ID: it looks like o-a1b2c3d4e5 (o- then 10 to 32 lowercase ` +
        "letters or digits). `aws organizations describe-organization --query Organization.Id` prints yours.",
    );
  }
  return id;
}

interface PolicyStatement {
  readonly Sid?: string;
  readonly Resource?: string | readonly string[];
  readonly Condition?: { readonly StringEquals?: Readonly<Record<string, unknown>> };
  readonly [field: string]: unknown;
}

interface BucketPolicy {
  readonly Version?: string;
  readonly Statement?: readonly PolicyStatement[];
  readonly [field: string]: unknown;
}

/**
 * The bucket policy with read access to `objectArn` for every principal of one AWS Organization added: the
 * one statement with ORGANIZATION_READ_SID (created, or extended with the object when it already names the
 * same organization). A grant limited to a fixed aws:PrincipalOrgID is not "public" to S3 Block Public Access,
 * so the bucket stays private to everyone else
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status).
 * Pure.
 */
export function withOrganizationRead(
  policy: BucketPolicy | undefined,
  organizationId: string,
  objectArn: string,
): BucketPolicy {
  const statements = [...(policy?.Statement ?? [])];
  const index = statements.findIndex((statement) => statement.Sid === ORGANIZATION_READ_SID);
  const existing = index >= 0 ? statements[index] : undefined;
  const sameOrganization = existing?.Condition?.StringEquals?.["aws:PrincipalOrgID"] === organizationId;
  const resources = sameOrganization ? [existing?.Resource ?? []].flat() : [];
  const statement: PolicyStatement = {
    Sid: ORGANIZATION_READ_SID,
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: [...new Set([...resources, objectArn])],
    Condition: { StringEquals: { "aws:PrincipalOrgID": organizationId } },
  };
  if (index >= 0) statements[index] = statement;
  else statements.push(statement);
  return { ...policy, Version: policy?.Version ?? "2012-10-17", Statement: statements };
}

/** Reads the bucket's policy, adds the organization's read access to the object, and writes it back. */
async function grantOrganizationRead(
  s3: Pick<S3Client, "send">,
  grant: { readonly bucket: string; readonly organizationId: string; readonly objectArn: string },
): Promise<void> {
  let current: BucketPolicy | undefined;
  try {
    const { Policy } = await s3.send(new GetBucketPolicyCommand({ Bucket: grant.bucket }));
    current = Policy === undefined ? undefined : (JSON.parse(Policy) as BucketPolicy);
  } catch (error) {
    if (awsErrorName(error) !== "NoSuchBucketPolicy") {
      throw new AwsCallError(
        `read the bucket policy of ${grant.bucket}`,
        error,
        "Your credentials need s3:GetBucketPolicy and s3:PutBucketPolicy on the bucket for --org-id.",
      );
    }
  }
  const policy = withOrganizationRead(current, grant.organizationId, grant.objectArn);
  try {
    await s3.send(new PutBucketPolicyCommand({ Bucket: grant.bucket, Policy: JSON.stringify(policy) }));
  } catch (error) {
    throw new AwsCallError(
      `let organization ${grant.organizationId} read the template in ${grant.bucket}`,
      error,
      "Your credentials need s3:PutBucketPolicy on the bucket for --org-id.",
    );
  }
}

/** What every proposed stack name starts with. */
const STACK_NAME_PREFIX = "aws-github-akm";

/**
 * The stack name a link proposes for an IAM user: one stack per user (each stack rotates one user's key),
 * so a second user's stack does not collide with the first. Characters a stack name cannot have (IAM
 * allows + = , . @ _ in user names) become '-'; the result stays within 128 characters.
 */
function defaultStackName(iamUserName: string): string {
  return `${STACK_NAME_PREFIX}-${iamUserName.replace(/[^A-Za-z0-9-]/g, "-")}`.slice(0, 128);
}

/** Where a version's template goes by default: one folder per release, so published links never change. */
export function defaultTemplateKey(version: string): string {
  return `aws-github-akm/${version}/aws-github-akm.template.yaml`;
}

/** Returns the object key if S3 accepts it and it is not an obvious mistake; a UsageError otherwise. */
export function validateTemplateKey(key: string): string {
  if (key === "") throw new UsageError("--key is empty: give an object key such as templates/akm.yaml.");
  if (key.startsWith("/") || key.startsWith("s3://")) {
    throw new UsageError(
      `--key '${key}' must be an object key inside the bucket, without a leading '/' or s3:// (e.g. templates/akm.yaml).`,
    );
  }
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > 1024) throw new UsageError(`--key is ${bytes} bytes long; S3 allows at most 1,024.`);
  return key;
}

const PackageSchema = v.object({
  version: v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/)),
});

/** The `version` of the project's package.json (it names the published template's S3 folder). */
async function projectVersion(projectRoot: string): Promise<string> {
  const path = join(projectRoot, "package.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: run the script from the project (npm run ...).`, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: fix it, or pass --key.`, { cause: error });
  }
  const parsed = v.safeParse(PackageSchema, data);
  if (!parsed.success) {
    throw new UsageError(`${path} has no semantic "version" (like "1.2.3"): set one, or pass --key.`);
  }
  return parsed.output.version;
}

/** CloudFormation reads templates of at most 1 MB from S3 (TemplateURL). */
const MAX_TEMPLATE_URL_BYTES = 1_048_576;

/** Refuses a template CloudFormation would refuse, before uploading it. */
function checkTemplateSize(bytes: number, path: string): void {
  if (bytes > MAX_TEMPLATE_URL_BYTES) {
    throw new UsageError(
      `${path} is ${bytes} bytes; CloudFormation accepts at most ${MAX_TEMPLATE_URL_BYTES} bytes from S3. ` +
        "Make the build output smaller (the inline Lambda bundle is usually the largest part).",
    );
  }
}

/**
 * Refuses a dist/ that is not what the sources produce: runs `scripts/build.mjs --check` (the build in
 * memory, compared byte for byte) and turns its complaint into a UsageError. A link to a stale template
 * would launch code nobody reviewed in this state of the sources.
 */
async function requireFreshDist(projectRoot: string): Promise<void> {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot, "scripts", "build.mjs"), "--check"], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    child.once("error", (error) => resolve({ code: null, output: error.message }));
    child.once("close", (exitCode) => resolve({ code: exitCode, output: text }));
  });
  if (code === 0) return;
  throw new UsageError(
    `dist/ is not what the sources produce, so the link would launch a stale template:\n${output.trim()}\n` +
      "Run `npm run build` (and commit dist/ with the sources), then run this again.",
  );
}

/** The partition of the region to publish in; a UsageError for partitions without a known public console. */
function publishPartition(region: string): Partition {
  const partition = partitionOf(region);
  if (partition === undefined) {
    throw new UsageError(
      `--region ${region} is in a partition without a public CloudFormation console link this tool knows; ` +
        "upload the template with your partition's tools and create the stack there.",
    );
  }
  return partition;
}

/**
 * Percent-encodes a URL component strictly (RFC 3986): also `!'()*`, which encodeURIComponent leaves,
 * so a URL can sit inside a Markdown link `[...](url)` without its parentheses ending the link.
 */
function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The virtual-hosted HTTPS URL of an object in its region, as CloudFormation's TemplateURL expects:
 * `https://<bucket>.s3.<region>.amazonaws.com/<key>` (each key segment encoded, `/` kept).
 */
export function s3ObjectUrl(bucket: string, region: string, key: string): string {
  const path = key.split("/").map(encodeComponent).join("/");
  return `https://${bucket}.s3.${region}.${publishPartition(region).s3Domain}/${path}`;
}

/** The console refuses longer quick-create links (AWS CloudFormation user guide, "quick-create links"). */
export const MAX_QUICK_CREATE_URL_LENGTH = 1024;

export interface QuickCreateRequest {
  /** Validated region code; the console opens there, and the template must be in the same region. */
  readonly region: string;
  /** HTTPS URL of the template object in S3. */
  readonly templateUrl: string;
  /** Validated stack name; undefined leaves the console's field empty, for the user to fill. */
  readonly stackName?: string | undefined;
  /** Values to prefill, in the order given. */
  readonly parameters: readonly KeyValue[];
  /** The template's declared parameters: only these can be prefilled, and never the NoEcho ones. */
  readonly templateParameters: readonly TemplateParameter[];
}

/** A piece of the URL and what the user can do to shorten it. */
interface UrlPart {
  readonly label: string;
  readonly text: string;
  readonly howToShorten: string;
}

/**
 * Builds the CloudFormation console "quick-create" link that opens the stack creation review page with the
 * template and the given values filled in. Pure: validates the parameters against the template (known,
 * not NoEcho, values within the declared constraints) and the URL length, and throws a UsageError
 * saying what to change.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-console-create-stacks-quick-create-links.html
 */
export function quickCreateUrl(request: QuickCreateRequest): string {
  checkParameters(request.parameters, request.templateParameters);
  const base = `${publishPartition(request.region).consoleOrigin(request.region)}/cloudformation/home?region=${request.region}#/stacks/create/review`;
  const parts: UrlPart[] = [
    { label: "console address", text: base, howToShorten: "fixed" },
    {
      label: "templateURL",
      text: `?templateURL=${encodeComponent(request.templateUrl)}`,
      howToShorten: "use a shorter --key or --bucket",
    },
    ...(request.stackName === undefined
      ? []
      : [
          {
            label: "stackName",
            text: `&stackName=${encodeComponent(request.stackName)}`,
            howToShorten: "use a shorter --stack-name",
          },
        ]),
    ...request.parameters.map(({ key, value }) => ({
      label: `param_${key}`,
      text: `&param_${key}=${encodeComponent(value)}`,
      howToShorten: "shorten the value, or leave it out and type it in the console",
    })),
  ];
  const url = parts.map((part) => part.text).join("");
  if (url.length > MAX_QUICK_CREATE_URL_LENGTH) throw tooLong(url.length, parts);
  return url;
}

function checkParameters(given: readonly KeyValue[], declared: readonly TemplateParameter[]): void {
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  const prefillable = declared.filter((parameter) => !parameter.noEcho).map((parameter) => parameter.name);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { key, value } of given) {
    const parameter = byName.get(key);
    if (seen.has(key)) problems.push(`${key} is given more than once; give it once.`);
    else if (parameter === undefined) {
      problems.push(
        `${key} is not a parameter of the template. Prefillable parameters: ${prefillable.join(", ")}.`,
      );
    } else if (parameter.noEcho) {
      problems.push(
        `${key} is a NoEcho (secret) parameter: the console does not prefill those, and a link would leak it ` +
          "into browser history and logs. Leave it out; whoever creates the stack types it in the console.",
      );
    } else {
      const valueProblems = parameterValueProblems(parameter, value);
      if (valueProblems.length > 0) {
        problems.push(`${key}: CloudFormation would refuse the value: ${valueProblems.join("; ")}.`);
      }
    }
    seen.add(key);
  }
  problems.push(...parameterSetProblems(Object.fromEntries(given.map(({ key, value }) => [key, value]))));
  if (problems.length > 0) {
    throw new UsageError(`--param cannot be used as given:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

function tooLong(length: number, parts: readonly UrlPart[]): UsageError {
  const longestFirst = [...parts].sort((a, b) => b.text.length - a.text.length);
  const listing = longestFirst.map((part) => `  - ${part.label}: ${part.text.length} (${part.howToShorten})`);
  return new UsageError(
    `The quick-create URL would be ${length} characters, but the console accepts at most ` +
      `${MAX_QUICK_CREATE_URL_LENGTH}: shorten it by at least ${length - MAX_QUICK_CREATE_URL_LENGTH}. ` +
      `Characters per part, longest first:\n${listing.join("\n")}`,
  );
}

/** AWS's own "Launch Stack" button image, used by AWS samples and docs. */
export const LAUNCH_STACK_IMAGE =
  "https://s3.amazonaws.com/cloudformation-examples/cloudformation-launch-stack.png";

/**
 * A Markdown "Launch Stack" button linking to a quick-create URL. The URL must be strictly encoded
 * (no parentheses), as `quickCreateUrl` makes it, so the Markdown link cannot break.
 */
export function launchStackMarkdown(quickCreateUrl: string): string {
  return `[![Launch Stack](${LAUNCH_STACK_IMAGE})](${quickCreateUrl})`;
}

/** YAML's media type (RFC 9512 registers application/yaml; browsers and S3 consoles show text/yaml inline). */
const TEMPLATE_CONTENT_TYPE = "text/yaml";

interface TemplateUpload {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  readonly body: Uint8Array;
}

/** Puts the template bytes at s3://bucket/key; AWS failures become AwsCallErrors with a fix for the usual causes. */
async function uploadTemplate(s3: Pick<S3Client, "send">, upload: TemplateUpload): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: upload.bucket,
        Key: upload.key,
        Body: upload.body,
        ContentType: TEMPLATE_CONTENT_TYPE,
      }),
    );
  } catch (error) {
    throw new AwsCallError(
      `upload the template to s3://${upload.bucket}/${upload.key}`,
      error,
      hintFor(error, upload),
    );
  }
}

function hintFor(error: unknown, upload: TemplateUpload): string | undefined {
  switch (awsErrorName(error)) {
    case "NoSuchBucket":
      return `Create the bucket in ${upload.region} first, or check --bucket.`;
    case "AccessDenied":
    case "Forbidden":
      return `Your credentials need s3:PutObject on s3://${upload.bucket}/${upload.key} (check the bucket policy too).`;
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      return `The bucket is not in ${upload.region}: pass its region with --region (CloudFormation needs the template in the stack's region).`;
    default:
      return undefined;
  }
}
