import { describe, expect, it } from "vitest";
import {
  compileOpenApiSchema,
  openApiSchemaToJsonSchema,
} from "../../scripts/local-stack/github-emulator/json-schema.ts";
import { GitHubOpenApi } from "../../scripts/local-stack/github-emulator/openapi.ts";

describe("GitHub's OpenAPI description", () => {
  it("matches the literal public-key route before the {secret_name} template", async () => {
    // Prepare
    const openApi = await GitHubOpenApi.load();

    // Act
    const publicKey = openApi.match("GET", "/repos/octo/app/actions/secrets/public-key");
    const secret = openApi.match("GET", "/repos/octo/app/actions/secrets/AWS_ACCESS_KEY_ID");

    // Assess
    expect(publicKey?.operation.operationId).toBe("actions/get-repo-public-key");
    expect(secret?.operation.operationId).toBe("actions/get-repo-secret");
    expect(secret?.params).toEqual({ owner: "octo", repo: "app", secret_name: "AWS_ACCESS_KEY_ID" });
  });

  it("decodes percent-encoded path parameters", async () => {
    const openApi = await GitHubOpenApi.load();

    const match = openApi.match("GET", "/repos/octo/my%2Erepo");

    expect(match?.params).toEqual({ owner: "octo", repo: "my.repo" });
  });

  it("finds no operation for a method and path GitHub does not document", async () => {
    const openApi = await GitHubOpenApi.load();

    expect(openApi.match("GET", "/not/a/github/route")).toBeUndefined();
    expect(openApi.match("POST", "/repos/octo/app/actions/secrets/public-key")).toBeUndefined();
  });

  it("loads the description once and shares it", async () => {
    const [first, second] = await Promise.all([GitHubOpenApi.load(), GitHubOpenApi.load()]);

    expect(first).toBe(second);
  });

  it("rejects a documented response body that lacks required fields", async () => {
    const openApi = await GitHubOpenApi.load();
    const operation = openApi.operation("actions/get-repo-public-key");
    if (operation === undefined) throw new Error("operation missing from the description");

    const problems = openApi.validateResponse(operation, 200, { key: "abc" });

    expect(problems).toEqual(["body: (root) must have required property 'key_id'"]);
  });

  it("rejects a success status the operation does not document", async () => {
    const openApi = await GitHubOpenApi.load();
    const operation = openApi.operation("actions/create-or-update-repo-secret");
    if (operation === undefined) throw new Error("operation missing from the description");

    const problems = openApi.validateResponse(operation, 200, {});

    expect(problems).toEqual(["status 200 is not documented (documented: 201, 204)"]);
  });

  it("requires 204 to come without a body and 201 with the documented empty object", async () => {
    const openApi = await GitHubOpenApi.load();
    const operation = openApi.operation("actions/create-or-update-repo-secret");
    if (operation === undefined) throw new Error("operation missing from the description");

    expect(openApi.validateResponse(operation, 204, undefined)).toEqual([]);
    expect(openApi.validateResponse(operation, 204, {})).toHaveLength(1);
    expect(openApi.validateResponse(operation, 201, {})).toEqual([]);
    expect(openApi.validateResponse(operation, 201, { extra: 1 })).toHaveLength(1);
  });

  it("accepts an undocumented error status only with GitHub's error envelope", async () => {
    const openApi = await GitHubOpenApi.load();
    const operation = openApi.operation("actions/get-repo-secret");
    if (operation === undefined) throw new Error("operation missing from the description");

    const envelope = {
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest",
      status: "404",
    };

    expect(openApi.validateResponse(operation, 404, envelope)).toEqual([]);
    expect(openApi.validateResponse(operation, 404, { error: "nope" })).toHaveLength(2);
  });
});

describe("OpenAPI 3.0 schema conversion", () => {
  it("accepts null where a field is marked nullable, and only there", () => {
    // Prepare
    const validate = compileOpenApiSchema(
      {
        type: "object",
        properties: {
          homepage: { type: "string", nullable: true },
          license: { nullable: true, allOf: [{ type: "object" }] },
          visibility: { type: "string", enum: ["public", "private"], nullable: true },
          name: { type: "string" },
        },
      },
      { coerce: false },
    );

    // Act / Assess
    expect(validate({ homepage: null, license: null, visibility: null, name: "x" })).toBe(true);
    expect(validate({ name: null })).toBe(false);
  });

  it("keeps property names that look like OpenAPI annotations", () => {
    const converted = openApiSchemaToJsonSchema({
      type: "object",
      description: "dropped",
      example: { title: "x" },
      properties: { description: { type: "string" }, title: { type: "string" } },
    });

    expect(converted).toEqual({
      type: "object",
      properties: { description: { type: "string" }, title: { type: "string" } },
    });
  });

  it("drops formats ajv does not know instead of failing to compile", () => {
    const validate = compileOpenApiSchema({ type: "string", format: "repo.nwo" }, { coerce: false });

    expect(validate("octo/app")).toBe(true);
  });
});
