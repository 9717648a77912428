// The fingerprint of the runbooks: a value that changes whenever the content of any runbook can change.
//
// The custom resource that sets the runbooks' default versions (templates/40-runbooks.yaml) carries it as a
// property. CloudFormation sends a custom resource an Update only when its properties change, so the
// fingerprint must change with every new document version a stack update can create:
//   - Sha256: the digest of every runbook's content as the template holds it (intrinsics unresolved), so an
//     edited runbook/*.yaml changes it;
//   - Inputs: every value the content takes from the stack (each Ref, Fn::GetAtt and ${...} of an Fn::Sub,
//     as the same intrinsic), which CloudFormation resolves, so a parameter change that rewrites a runbook's
//     text (say pGitHubSecretNameAwsKeyId in its description) changes it too.
// A NoEcho parameter may not be an input: custom resource properties are visible in the stack's events.

import { createHash } from "node:crypto";

/**
 * @param {Map<string, unknown>} runbooks parsed runbook/<name>.yaml, by name
 * @param {Record<string, any>} parameters the template's Parameters section
 * @param {string} where the placeholder's file:line, for errors
 * @returns {{ Sha256: string, Inputs: unknown[] }}
 */
export function runbookFingerprint(runbooks, parameters, where) {
  const names = [...runbooks.keys()].sort();
  const canonical = names.map((name) => [name, canonicalize(runbooks.get(name))]);
  const Sha256 = createHash("sha256").update(JSON.stringify(canonical), "utf8").digest("hex");

  /** @type {Map<string, unknown>} key -> intrinsic */
  const inputs = new Map();
  for (const name of names) collectInputs(runbooks.get(name), inputs);
  const secret = [...inputs.keys()].filter((key) => parameters?.[key]?.NoEcho === true);
  if (secret.length > 0) {
    throw new Error(
      `build: ${where}: the runbooks use the NoEcho parameter(s) ${secret.join(", ")}, which the ` +
        "!RunbookFingerprint would show in the custom resource's properties. Keep secrets out of runbooks.",
    );
  }
  const Inputs = [...inputs.keys()].sort().map((key) => inputs.get(key));
  return { Sha256, Inputs };
}

/**
 * The same value with object keys sorted at every level, so the digest does not depend on key order.
 * @param {unknown} value
 * @returns {unknown}
 */
function canonicalize(value) {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === "object") {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = canonicalize(/** @type {any} */ (value)[key]);
    return out;
  }
  return value;
}

/**
 * Adds every stack value `node` refers to, keyed `Ref:X` / `GetAtt:R.A`, as the intrinsic that reads it.
 * @param {unknown} node
 * @param {Map<string, unknown>} inputs
 */
function collectInputs(node, inputs) {
  if (Array.isArray(node)) {
    for (const item of node) collectInputs(item, inputs);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const entries = Object.entries(node);
  if (entries.length === 1) {
    const [[key, argument]] = /** @type {[string, unknown][]} */ (entries);
    if (key === "Ref" && typeof argument === "string") {
      addRef(argument, inputs);
      return;
    }
    if (key === "Fn::GetAtt" && Array.isArray(argument) && argument.every((a) => typeof a === "string")) {
      addGetAtt(argument[0], argument.slice(1).join("."), inputs);
      return;
    }
    if (key === "Fn::Sub") {
      const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
      const locals = new Set(Object.keys(variables ?? {}));
      // ${Name} and ${Resource.Attribute}; ${!Literal} is a literal "${Literal}".
      for (const match of String(text).matchAll(/\$\{([^}]+)\}/g)) {
        const expression = /** @type {string} */ (match[1]);
        if (expression.startsWith("!") || locals.has(expression)) continue;
        const dot = expression.indexOf(".");
        if (dot < 0) addRef(expression, inputs);
        else addGetAtt(expression.slice(0, dot), expression.slice(dot + 1), inputs);
      }
      collectInputs(variables, inputs);
      return;
    }
  }
  for (const [, value] of entries) collectInputs(value, inputs);
}

/** @param {string} name @param {Map<string, unknown>} inputs */
function addRef(name, inputs) {
  inputs.set(name, { Ref: name });
}

/** @param {string} resource @param {string} attribute @param {Map<string, unknown>} inputs */
function addGetAtt(resource, attribute, inputs) {
  inputs.set(`${resource}.${attribute}`, { "Fn::GetAtt": [resource, attribute] });
}
