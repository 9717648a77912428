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
    [SETTINGS_ENV.allowedOwners]: "octo-org,alice_acme",
    [SETTINGS_ENV.machineUserName]: "machine",
    [SETTINGS_ENV.alertTopicArn]: "arn:aws:sns:eu-west-1:123456789012:akm-alerts",
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

describe("the allowed owners in the settings", () => {
  it("reads the comma-separated list the template joins from pAllowedGitHubOwners", () => {
    // Act
    const settings = loadSettings(env());

    // Assess
    expect(settings.allowedOwners.describe()).toBe("octo-org, alice_acme");
    expect(settings.allowedOwners.allows("Octo-Org")).toBe(true);
  });

  it.each(["", "octo-org,not a login"])("refuses %j, naming the variable", (value) => {
    // Act
    const error = refusal({ [SETTINGS_ENV.allowedOwners]: value });

    // Assess
    expect(error.message).toContain(SETTINGS_ENV.allowedOwners);
  });

  it("refuses an environment without the list (a function not deployed from the template)", () => {
    // Act
    const variables = env();
    delete variables[SETTINGS_ENV.allowedOwners];
    let error: unknown;
    try {
      loadSettings(variables);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).message).toContain(SETTINGS_ENV.allowedOwners);
  });
});

describe("the GitHub API URL in the settings", () => {
  it.each([
    "https://api.github.com",
    "https://github.example.com/api/v3",
    "http://127.0.0.1:4321",
    "http://localhost:8080/api/v3",
  ])("accepts %s (plain http only on loopback, where nothing leaves the machine)", (url) => {
    expect(loadSettings(env({ [SETTINGS_ENV.githubApiUrl]: url })).githubApiUrl).toBe(url);
  });

  it.each([
    "http://api.github.com",
    "http://github.example.com/api/v3",
    "http://10.0.0.1",
    "ftp://example.com",
  ])("refuses %s as a user fault: the token would travel unencrypted", (url) => {
    // Act
    const error = refusal({ [SETTINGS_ENV.githubApiUrl]: url });

    // Assess
    expect(error.fault).toBe("user");
    expect(error.message).toBe(
      `The GitHub API URL (AKM_GITHUB_API_URL = ${JSON.stringify(url)}) is not an https:// URL, so the GitHub token would travel unencrypted. Nothing was changed.`,
    );
    expect(error.fix).toContain("pGitHubApiUrl");
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

describe("loadSettings", () => {
  it.each(["ci+deployer", "ci=deployer", "ci,deployer", "ci@example.com", "first.last_2-x"])(
    "accepts the IAM user name %s when the ARN names the same user",
    (name) => {
      // Act
      const settings = loadSettings(
        env({
          [SETTINGS_ENV.iamUserName]: name,
          [SETTINGS_ENV.iamUserArn]: `arn:aws:iam::123456789012:user/team/${name}`,
        }),
      );

      // Assess
      expect(settings.iamUserName).toBe(name);
    },
  );

  it("refuses an ARN and a name of two different users before anything else, naming both", () => {
    // Act
    const act = () =>
      loadSettings(
        env({
          [SETTINGS_ENV.iamUserName]: "ci-deployer",
          [SETTINGS_ENV.iamUserArn]: "arn:aws:iam::123456789012:user/ci-other",
        }),
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
      loadSettings(env({ [SETTINGS_ENV.iamUserName]: "CI-Deployer" }));
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(IamStateError);
    expect((error as IamStateError).fix).toMatch(/same spelling and case/);
  });
});

describe("the GitHub App ID in the settings", () => {
  it.each([
    ["absent (a stack from before GitHub App support)", undefined, undefined],
    ["empty (pGitHubAppId's default: a personal token)", "", undefined],
    ["an App ID", "123456", "123456"],
  ])("is read when %s", (_case, value, expected) => {
    // Act
    const settings = loadSettings(env(value === undefined ? {} : { [SETTINGS_ENV.githubAppId]: value }));

    // Assess
    expect(settings.githubAppId).toBe(expected);
  });

  it("refuses an App ID that is not a number, naming the variable", () => {
    // Act
    const error = refusal({ [SETTINGS_ENV.githubAppId]: "Iv23liAbCdEf" });

    // Assess
    expect(error.message).toContain(SETTINGS_ENV.githubAppId);
  });
});
