import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/shared/cli.ts";
import {
  type ParameterConstraints,
  parameterSetProblems,
  parameterValueProblems,
  readDistTemplate,
  type TemplateParameter,
  templateParameters,
} from "../../scripts/lib/shared/template.ts";
import { BOUNDARY_VALUES, FORM_VALUES_THAT_MUST_FAIL } from "../template/form-values.ts";

function parameter(type: string, constraints: ParameterConstraints): TemplateParameter {
  return { name: "p", type, noEcho: false, constraints };
}

describe("parameterValueProblems", () => {
  it("accepts a value within every constraint", () => {
    // Act
    const problems = parameterValueProblems(
      parameter("String", { allowedPattern: "[a-z]+", allowedValues: ["abc"], minLength: 1, maxLength: 3 }),
      "abc",
    );

    // Assess
    expect(problems).toEqual([]);
  });

  it("matches AllowedPattern against the whole value, as CloudFormation does", () => {
    // Act
    const problems = parameterValueProblems(parameter("String", { allowedPattern: "[a-z]+" }), "abc1");

    // Assess
    expect(problems).toEqual(["it must match [a-z]+"]);
  });

  it.each([
    ["x", "it must be a number"],
    ["", "it must be a number"],
    ["1", "it must be at least 2"],
    ["2191", "it must be at most 2190"],
  ])("refuses %j for a Number from 2 to 2190", (value, problem) => {
    // Act
    const problems = parameterValueProblems(parameter("Number", { minValue: 2, maxValue: 2190 }), value);

    // Assess
    expect(problems).toEqual([problem]);
  });

  it("checks AllowedValues and lengths", () => {
    // Act
    const problems = parameterValueProblems(
      parameter("String", { allowedValues: ["on", "off"], minLength: 2, maxLength: 3 }),
      "maybe",
    );

    // Assess
    expect(problems).toEqual(["it must be one of on, off", "it must have at most 3 characters"]);
  });

  it("skips a pattern JavaScript cannot compile rather than refusing every value", () => {
    // Act: a possessive quantifier is valid in Java, CloudFormation's dialect, but not in JavaScript.
    const problems = parameterValueProblems(parameter("String", { allowedPattern: "a++" }), "aaa");

    // Assess
    expect(problems).toEqual([]);
  });

  it("accepts every default of the built template's parameters", async () => {
    // Prepare
    const dist = await readDistTemplate(PROJECT_ROOT);
    const declared = dist.template.Parameters as Record<string, { Default?: unknown }>;

    // Act
    const problems = templateParameters(dist.template, dist.path)
      .filter((p) => declared[p.name]?.Default !== undefined)
      .flatMap((p) =>
        parameterValueProblems(p, String(declared[p.name]?.Default)).map((why) => `${p.name}: ${why}`),
      );

    // Assess
    expect(problems).toEqual([]);
  });
});

describe("the link command's checks on the built template", () => {
  async function distParameters() {
    const dist = await readDistTemplate(PROJECT_ROOT);
    return new Map(templateParameters(dist.template, dist.path).map((p) => [p.name, p]));
  }

  function problemsOf(parameters: Map<string, TemplateParameter>, form: Readonly<Record<string, string>>) {
    return [
      ...Object.entries(form).flatMap(([name, value]) => {
        const declared = parameters.get(name);
        if (declared === undefined) return [`${name} is not declared`];
        return parameterValueProblems(declared, value).map((why) => `${name}: ${why}`);
      }),
      ...parameterSetProblems(form),
    ];
  }

  it.each(BOUNDARY_VALUES)("accepts the form values cfn-lint shows to deploy: %j", async (form) => {
    // Act
    const problems = problemsOf(await distParameters(), form);

    // Assess
    expect(problems).toEqual([]);
  });

  it.each(FORM_VALUES_THAT_MUST_FAIL)(
    "refuses the values that would fail after deploying: %j",
    async (form) => {
      // Act
      const problems = problemsOf(await distParameters(), form);

      // Assess
      expect(problems).not.toEqual([]);
    },
  );
});
