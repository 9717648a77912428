import { describe, expect, it } from "vitest";
import { loadSettings, SETTINGS_ENV } from "../../src/config/settings.ts";
import { IamStateError } from "../../src/errors.ts";

function environment(overrides: Partial<Record<keyof typeof SETTINGS_ENV, string>> = {}): NodeJS.ProcessEnv {
  const values: Record<keyof typeof SETTINGS_ENV, string> = {
    iamUserName: "ci-deployer",
    iamUserArn: "arn:aws:iam::123456789012:user/ci-deployer",
    tokenSecretId: "token-secret",
    stateSecretId: "state-secret",
    configBucket: "akm-config",
    configKey: "repos.json",
    secretNameKeyId: "AWS_ACCESS_KEY_ID",
    secretNameSecretKey: "AWS_SECRET_ACCESS_KEY",
    githubApiUrl: "https://api.github.com",
    graceMinutes: "60",
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(values).map(([field, value]) => [SETTINGS_ENV[field as keyof typeof SETTINGS_ENV], value]),
  );
}

describe("loadSettings", () => {
  it.each(["ci+deployer", "ci=deployer", "ci,deployer", "ci@example.com", "first.last_2-x"])(
    "accepts the IAM user name %s when the ARN names the same user",
    (name) => {
      // Act
      const settings = loadSettings(
        environment({ iamUserName: name, iamUserArn: `arn:aws:iam::123456789012:user/team/${name}` }),
      );

      // Assess
      expect(settings.iamUserName).toBe(name);
    },
  );

  it("refuses an ARN and a name of two different users before anything else, naming both", () => {
    // Act
    const act = () =>
      loadSettings(
        environment({ iamUserName: "ci-deployer", iamUserArn: "arn:aws:iam::123456789012:user/ci-other" }),
      );

    // Assess
    expect(act).toThrow(IamStateError);
    expect(act).toThrow(
      "pIamUserArn arn:aws:iam::123456789012:user/ci-other is user ci-other, pIamUserName is ci-deployer",
    );
  });

  it("tells names apart by case, as the ARN spells them", () => {
    // Act
    let error: unknown;
    try {
      loadSettings(environment({ iamUserName: "CI-Deployer" }));
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect((error as IamStateError).fix).toMatch(/same spelling and case/);
  });
});
