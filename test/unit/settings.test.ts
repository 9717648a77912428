import { describe, expect, it } from "vitest";
import { SECRET_NAME_PATTERN, sameSecretName, secretNameProblem } from "../../src/config/secret-name.ts";
import { loadSettings, SETTINGS_ENV } from "../../src/config/settings.ts";
import { IamStateError, SettingsError } from "../../src/errors.ts";

/** The environment the template wires, with the defaults of every optional parameter. */
function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    [SETTINGS_ENV.iamUserName]: "ci-deployer",
    [SETTINGS_ENV.iamUserArn]: "arn:aws:iam::123456789012:user/ci-deployer",
    [SETTINGS_ENV.tokenSecretId]: "GHS-AKM-ci-deployer-GitHubToken-machine",
    [SETTINGS_ENV.stateSecretId]: "GHS-AKM-ci-deployer-RotationState",
    [SETTINGS_ENV.kmsKeyArn]: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    [SETTINGS_ENV.configBucket]: "my-config-bucket",
    [SETTINGS_ENV.configKey]: "repos.json",
    [SETTINGS_ENV.secretNameKeyId]: "AWS_ACCESS_KEY_ID",
    [SETTINGS_ENV.secretNameSecretKey]: "AWS_SECRET_ACCESS_KEY",
    ...overrides,
  };
}

function refusal(overrides: Record<string, string>): SettingsError {
  try {
    loadSettings(env(overrides));
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error("loadSettings accepted the environment");
}

describe("GitHub secret names in the settings", () => {
  it("accepts the default names", () => {
    // Act
    const settings = loadSettings(env());

    // Assess
    expect(settings.secretNameKeyId).toBe("AWS_ACCESS_KEY_ID");
    expect(settings.secretNameSecretKey).toBe("AWS_SECRET_ACCESS_KEY");
  });

  it.each([
    ["the key ID's default name for the secret key", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"],
    ["two names that differ only in letter case", "AWS_KEY", "aws_key"],
    ["the default key ID name in lower case", "AWS_ACCESS_KEY_ID", "aws_access_key_id"],
  ])("refuses %s as a user fault naming both parameters", (_, keyId, secretKey) => {
    // Act
    const error = refusal({
      [SETTINGS_ENV.secretNameKeyId]: keyId,
      [SETTINGS_ENV.secretNameSecretKey]: secretKey,
    });

    // Assess
    expect(error.fault).toBe("user");
    expect(error.message).toBe(
      `The stack parameters pGitHubSecretNameAwsKeyId ("${keyId}") and pGitHubSecretNameAwsKey ("${secretKey}") name the same GitHub Actions secret: GitHub compares secret names case-insensitively, so the secret access key would overwrite the key ID. Nothing was changed.`,
    );
    expect(error.fix).toContain("different secrets");
  });

  it.each([
    ["1KEY", "starts with a digit"],
    ["github_token", "starts with GITHUB_ (reserved by GitHub, in any letter case)"],
    ["Github_Key", "starts with GITHUB_ (reserved by GitHub, in any letter case)"],
    ["MY-KEY", 'contains "-"; only letters, digits and underscores are allowed'],
    ["MY KEY", 'contains " "; only letters, digits and underscores are allowed'],
    ["K".repeat(201), "is longer than 200 characters"],
  ])("refuses the secret name %j, naming the parameter and what is wrong", (name, problem) => {
    // Act
    const error = refusal({ [SETTINGS_ENV.secretNameSecretKey]: name });

    // Assess
    expect(error.fault).toBe("user");
    expect(error.message).toBe(
      `The GitHub secret name pGitHubSecretNameAwsKey (AKM_SECRET_NAME_SECRET_KEY = ${JSON.stringify(name)}) ${problem}.`,
    );
  });
});

describe("GitHub's secret naming rule", () => {
  it.each(["AWS_ACCESS_KEY_ID", "_PRIVATE", "a", "GITHUBX", "MY_GITHUB_KEY", "K".repeat(200)])(
    "accepts %j in the function and in the form's pattern",
    (name) => {
      expect(secretNameProblem(name)).toBeUndefined();
      expect(new RegExp(SECRET_NAME_PATTERN).test(name)).toBe(true);
    },
  );

  it.each(["", "1A", "GITHUB_A", "gitHub_a", "A-B", "A.B", "Ä", "K".repeat(201)])(
    "refuses %j in the function and in the form's pattern",
    (name) => {
      expect(secretNameProblem(name)).toBeDefined();
      expect(new RegExp(SECRET_NAME_PATTERN).test(name)).toBe(false);
    },
  );

  it("compares names ignoring letter case, as GitHub does", () => {
    expect(sameSecretName("AWS_KEY", "aws_key")).toBe(true);
    expect(sameSecretName("AWS_KEY", "AWS_KEYS")).toBe(false);
  });
});

function environment(overrides: Partial<Record<keyof typeof SETTINGS_ENV, string>> = {}): NodeJS.ProcessEnv {
  const values: Partial<Record<keyof typeof SETTINGS_ENV, string>> = {
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
    kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
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
