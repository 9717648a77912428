import { relative } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { validateRegion } from "../aws/region.ts";
import type { CliContext } from "../cli/cli-context.ts";
import type { Command } from "../cli/command.ts";
import { ExitCode, exitCodeHelp } from "../cli/exit-code.ts";
import { parseKeyValues } from "../cli/key-value.ts";
import { parseOptions, requireOption } from "../cli/parse-options.ts";
import { projectVersion } from "../project/project-version.ts";
import { readDistTemplate } from "../template/dist-template.ts";
import { templateParameters } from "../template/template-parameters.ts";
import { validateBucketName } from "./bucket-name.ts";
import { requireFreshDist } from "./dist-freshness.ts";
import { launchStackMarkdown } from "./launch-button.ts";
import { grantOrganizationRead, validateOrganizationId } from "./organization-read.ts";
import { publishPartition } from "./publish-partition.ts";
import { quickCreateUrl } from "./quick-create-url.ts";
import { s3ObjectUrl } from "./s3-object-url.ts";
import { defaultStackName, validateStackName } from "./stack-name.ts";
import { defaultTemplateKey, validateTemplateKey } from "./template-key.ts";
import { checkTemplateSize } from "./template-size.ts";
import { uploadTemplate } from "./upload-template.ts";

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
