import { describe, expect, it } from "vitest";
import {
  LAUNCH_STACK_IMAGE,
  launchStackMarkdown,
  MAX_QUICK_CREATE_URL_LENGTH,
  type QuickCreateRequest,
  quickCreateUrl,
  s3ObjectUrl,
} from "../../scripts/lib/launch-link.ts";
import { UsageError } from "../../scripts/lib/shared/cli.ts";
import type { TemplateParameter } from "../../scripts/lib/shared/template.ts";
import { errorThrownBy } from "./cli-harness.ts";

const TEMPLATE_PARAMETERS: TemplateParameter[] = [
  { name: "pSnsEmailAddress", type: "String", noEcho: false },
  { name: "pGitHubToken", type: "String", noEcho: true },
  { name: "pIamUserName", type: "String", noEcho: false },
  {
    name: "pHoursToRotate",
    type: "Number",
    noEcho: false,
    constraints: { minValue: 2, maxValue: 2190, constraintDescription: "must be 2 to 2190 hours" },
  },
];

function request(overrides: Partial<QuickCreateRequest> = {}): QuickCreateRequest {
  return {
    region: "eu-west-1",
    templateUrl:
      "https://my-bucket.s3.eu-west-1.amazonaws.com/aws-github-akm/1.0.0/aws-github-akm.template.yaml",
    stackName: "aws-github-akm",
    parameters: [],
    templateParameters: TEMPLATE_PARAMETERS,
    ...overrides,
  };
}

/** The query the console reads from the URL's fragment (`#/stacks/create/review?...`). */
function consoleQuery(url: string): URLSearchParams {
  const fragment = new URL(url).hash;
  return new URLSearchParams(fragment.slice(fragment.indexOf("?") + 1));
}

function usageErrorOf(action: () => unknown): UsageError {
  const error = errorThrownBy(action);
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe("quickCreateUrl", () => {
  it("opens the stack review page of the region's CloudFormation console", () => {
    // Act
    const url = new URL(quickCreateUrl(request()));

    // Assess
    expect(url.origin).toBe("https://eu-west-1.console.aws.amazon.com");
    expect(url.pathname).toBe("/cloudformation/home");
    expect(url.searchParams.get("region")).toBe("eu-west-1");
    expect(url.hash.startsWith("#/stacks/create/review?")).toBe(true);
  });

  it("carries the template URL and stack name so that the console decodes them unchanged", () => {
    // Prepare
    const templateUrl = "https://b.s3.eu-west-1.amazonaws.com/dir/a%20b.yaml";

    // Act
    const query = consoleQuery(quickCreateUrl(request({ templateUrl, stackName: "akm-ci" })));

    // Assess
    expect(query.get("templateURL")).toBe(templateUrl);
    expect(query.get("stackName")).toBe("akm-ci");
  });

  it("prefills the given parameters as param_NAME in the order given", () => {
    // Prepare
    const parameters = [
      { key: "pIamUserName", value: "ci-deployer" },
      { key: "pSnsEmailAddress", value: "ops+akm@example.com" },
    ];

    // Act
    const query = consoleQuery(quickCreateUrl(request({ parameters })));

    // Assess
    expect([...query.entries()].filter(([name]) => name.startsWith("param_"))).toEqual([
      ["param_pIamUserName", "ci-deployer"],
      ["param_pSnsEmailAddress", "ops+akm@example.com"],
    ]);
  });

  it("encodes parentheses so the URL can sit inside a Markdown link", () => {
    // Prepare
    const parameters = [{ key: "pIamUserName", value: "name (test)" }];

    // Act
    const url = quickCreateUrl(request({ parameters }));

    // Assess
    expect(url).not.toMatch(/[()]/);
    expect(consoleQuery(url).get("param_pIamUserName")).toBe("name (test)");
  });

  it("refuses to prefill a NoEcho parameter and does not repeat its value", () => {
    // Prepare
    const value = `token-${"x".repeat(30)}`;

    // Act
    const error = usageErrorOf(() =>
      quickCreateUrl(request({ parameters: [{ key: "pGitHubToken", value }] })),
    );

    // Assess
    expect(error.message).toContain("pGitHubToken is a NoEcho (secret) parameter");
    expect(error.message).not.toContain(value);
  });

  it("refuses an unknown parameter and names the ones that can be prefilled", () => {
    // Act
    const error = usageErrorOf(() =>
      quickCreateUrl(request({ parameters: [{ key: "pIamUser", value: "ci" }] })),
    );

    // Assess
    expect(error.message).toContain("pIamUser is not a parameter of the template");
    expect(error.message).toContain("pSnsEmailAddress, pIamUserName, pHoursToRotate");
    expect(error.message).not.toContain("pGitHubToken");
  });

  it("refuses a value CloudFormation would reject, quoting the template's constraint description", () => {
    // Act
    const error = usageErrorOf(() =>
      quickCreateUrl(request({ parameters: [{ key: "pHoursToRotate", value: "1" }] })),
    );

    // Assess
    expect(error.message).toContain(
      "pHoursToRotate: CloudFormation would refuse the value: must be 2 to 2190 hours (it must be at least 2).",
    );
  });

  it("refuses a parameter given twice", () => {
    // Prepare
    const parameters = [
      { key: "pIamUserName", value: "a" },
      { key: "pIamUserName", value: "b" },
    ];

    // Act
    const error = usageErrorOf(() => quickCreateUrl(request({ parameters })));

    // Assess
    expect(error.message).toContain("pIamUserName is given more than once");
  });

  it("accepts a URL of exactly 1,024 characters", () => {
    // Prepare: pad one value until the whole URL is at the limit.
    const base = quickCreateUrl(request({ parameters: [{ key: "pIamUserName", value: "" }] }));
    const value = "a".repeat(MAX_QUICK_CREATE_URL_LENGTH - base.length);

    // Act
    const url = quickCreateUrl(request({ parameters: [{ key: "pIamUserName", value }] }));

    // Assess
    expect(url).toHaveLength(MAX_QUICK_CREATE_URL_LENGTH);
  });

  it("refuses a longer URL, saying by how much and which part is longest", () => {
    // Prepare
    const base = quickCreateUrl(request({ parameters: [{ key: "pSnsEmailAddress", value: "" }] }));
    const value = "a".repeat(MAX_QUICK_CREATE_URL_LENGTH - base.length + 7);

    // Act
    const error = usageErrorOf(() =>
      quickCreateUrl(request({ parameters: [{ key: "pSnsEmailAddress", value }] })),
    );

    // Assess
    expect(error.message).toContain("shorten it by at least 7");
    const parts = error.message.split("\n").filter((line) => line.startsWith("  - "));
    expect(parts[0]).toMatch(/^ {2}- param_pSnsEmailAddress: \d+ \(shorten the value/);
    expect(parts.some((line) => line.includes("templateURL") && line.includes("--key or --bucket"))).toBe(
      true,
    );
  });

  it("uses the China console for China regions", () => {
    // Act
    const url = new URL(quickCreateUrl(request({ region: "cn-north-1" })));

    // Assess
    expect(url.origin).toBe("https://console.amazonaws.cn");
    expect(url.searchParams.get("region")).toBe("cn-north-1");
  });

  it("refuses regions of partitions without a public console", () => {
    // Act
    const error = usageErrorOf(() => quickCreateUrl(request({ region: "us-iso-east-1" })));

    // Assess
    expect(error.message).toContain("us-iso-east-1");
  });
});

describe("s3ObjectUrl", () => {
  it("addresses the object in its own region, as CloudFormation requires", () => {
    // Act
    const url = s3ObjectUrl(
      "my-bucket",
      "ap-southeast-2",
      "aws-github-akm/1.0.0/aws-github-akm.template.yaml",
    );

    // Assess
    expect(url).toBe(
      "https://my-bucket.s3.ap-southeast-2.amazonaws.com/aws-github-akm/1.0.0/aws-github-akm.template.yaml",
    );
  });

  it("uses the amazonaws.com.cn domain in China regions", () => {
    // Act
    const url = s3ObjectUrl("my-bucket", "cn-northwest-1", "t.yaml");

    // Assess
    expect(url).toBe("https://my-bucket.s3.cn-northwest-1.amazonaws.com.cn/t.yaml");
  });

  it("encodes each key segment and keeps the slashes", () => {
    // Act
    const url = s3ObjectUrl("b", "us-east-1", "my templates/v1 (rc)/t.yaml");

    // Assess
    expect(new URL(url).pathname).toBe("/my%20templates/v1%20%28rc%29/t.yaml");
  });
});

describe("launchStackMarkdown", () => {
  it("is an image link to the quick-create URL", () => {
    // Prepare
    const url = quickCreateUrl(request());

    // Act
    const markdown = launchStackMarkdown(url);

    // Assess
    expect(markdown).toBe(`[![Launch Stack](${LAUNCH_STACK_IMAGE})](${url})`);
  });
});
