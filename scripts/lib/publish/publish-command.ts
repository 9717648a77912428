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
import { launchStackMarkdown } from "./launch-button.ts";
import { quickCreateUrl } from "./quick-create-url.ts";
import { s3ObjectUrl } from "./s3-object-url.ts";
import { DEFAULT_STACK_NAME, validateStackName } from "./stack-name.ts";
import { defaultTemplateKey, validateTemplateKey } from "./template-key.ts";
import { checkTemplateSize } from "./template-size.ts";
import { uploadTemplate } from "./upload-template.ts";

const OPTIONS = {
  bucket: { type: "string" },
  region: { type: "string" },
  key: { type: "string" },
  "stack-name": { type: "string" },
  param: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

const HELP = `Usage: npm run publish -- --bucket BUCKET --region REGION [--key KEY] [--stack-name NAME] [--param NAME=VALUE ...]

Uploads dist/aws-github-akm.template.yaml (run \`npm run build\` first) to s3://BUCKET/KEY and prints the
CloudFormation console quick-create link for it, plus a Markdown "Launch Stack" button.

Options:
  --bucket BUCKET        existing S3 bucket in REGION to upload to
  --region REGION        region of the bucket and of the stack, e.g. eu-west-1
  --key KEY              object key (default: aws-github-akm/<package.json version>/aws-github-akm.template.yaml)
  --stack-name NAME      stack name the link proposes (default: ${DEFAULT_STACK_NAME})
  --param NAME=VALUE     prefill a template parameter in the link; repeatable. NoEcho parameters such as
                         pGitHubToken are refused: they are typed in the console, never put in a URL.
  -h, --help             show this help

The link must stay within 1,024 characters; whoever opens it needs s3:GetObject on the uploaded object.
AWS credentials and endpoint come from the usual SDK settings (AWS_PROFILE, AWS_ENDPOINT_URL, ...).

${exitCodeHelp({ runbookFailed: false })}`;

/** `npm run publish`: upload the built template and print its quick-create link. */
export const publishCommand: Command = {
  name: "publish",
  help: HELP,
  async run(argv: readonly string[], context: CliContext) {
    const options = parseOptions(argv, OPTIONS);
    const bucket = validateBucketName(
      requireOption(options.bucket, "--bucket", "the S3 bucket to upload to"),
    );
    const region = validateRegion(
      requireOption(options.region, "--region", "the bucket's and stack's region"),
    );
    const stackName = validateStackName(options["stack-name"] ?? DEFAULT_STACK_NAME);
    const parameters = parseKeyValues(options.param ?? [], "--param");
    const key = validateTemplateKey(
      options.key ?? defaultTemplateKey(await projectVersion(context.projectRoot)),
    );

    const dist = await readDistTemplate(context.projectRoot);
    checkTemplateSize(dist.bytes.length, dist.path);
    const templateUrl = s3ObjectUrl(bucket, region, key);
    // Built before uploading, so a bad --param or an over-long link uploads nothing.
    const url = quickCreateUrl({
      region,
      templateUrl,
      stackName,
      parameters,
      templateParameters: templateParameters(dist.template, dist.path),
    });

    await uploadTemplate(new S3Client({ region }), { bucket, key, region, body: dist.bytes });

    context.stdout(
      `Uploaded ${relative(context.projectRoot, dist.path)} (${dist.bytes.length} bytes) to s3://${bucket}/${key}`,
    );
    context.stdout(`Template URL: ${templateUrl}`);
    context.stdout("");
    context.stdout(`Quick-create link (CloudFormation console, ${region}):`);
    context.stdout(url);
    context.stdout("");
    context.stdout('Markdown "Launch Stack" button:');
    context.stdout(launchStackMarkdown(url));
    context.stdout("");
    context.stdout(
      "Whoever opens the link needs s3:GetObject on the template object (a bucket policy, for a public button).",
    );
    return ExitCode.Success;
  },
};
