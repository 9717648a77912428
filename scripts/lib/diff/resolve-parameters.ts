import type { CfnTemplate } from "../template/cfn-template.ts";

/** Parameter values by logical ID, as a stack holds them. */
export type ParameterValues = Readonly<Record<string, string>>;

/**
 * The template with every expression that depends only on the given parameter values computed: `Ref` to a
 * parameter, `Fn::Sub` (the parameter names in it), `Fn::Join`, `Fn::Split` and `Fn::Select` over known
 * strings. Anything else (resources, pseudo parameters, conditions) stays as written. CloudFormation decides
 * whether an update replaces a resource from the values its properties resolve to, so two spellings of the
 * same name (`!Sub GHS-AKM-${pIamUserName}` and a `Fn::Join` over `Fn::Split` of it) must compare equal
 * when they give the same name. Pure: returns a new tree.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
 */
export function resolveParameters(template: CfnTemplate, values: ParameterValues): CfnTemplate {
  const known = new Map(Object.entries(values));
  const resolved: Record<string, unknown> = { ...template };
  for (const section of ["Resources", "Outputs"] as const) {
    if (section in template) resolved[section] = resolve(template[section], known);
  }
  return resolved;
}

function resolve(node: unknown, values: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => resolve(item, values));
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined) {
    const [key, argument] = only;
    const computed = intrinsic(key, argument, values);
    if (computed !== undefined) return computed;
  }
  return Object.fromEntries(entries.map(([key, value]) => [key, resolve(value, values)]));
}

/** The value of one intrinsic function when its inputs are known; undefined to keep it as written. */
function intrinsic(key: string, argument: unknown, values: ReadonlyMap<string, string>): unknown {
  switch (key) {
    case "Ref":
      return typeof argument === "string" ? values.get(argument) : undefined;
    case "Fn::Sub":
      return substitute(argument, values);
    case "Fn::Join": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const list = resolve(argument[1], values);
      if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
        return { "Fn::Join": [argument[0], list] };
      }
      return list.join(argument[0]);
    }
    case "Fn::Split": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const text = resolve(argument[1], values);
      return typeof text === "string" ? text.split(argument[0]) : { "Fn::Split": [argument[0], text] };
    }
    case "Fn::Select": {
      if (!Array.isArray(argument)) return undefined;
      const index = resolve(argument[0], values);
      const list = resolve(argument[1], values);
      const at = typeof index === "string" || typeof index === "number" ? Number(index) : Number.NaN;
      if (Array.isArray(list) && Number.isInteger(at) && at >= 0 && at < list.length) return list[at];
      return { "Fn::Select": [index, list] };
    }
    default:
      return undefined;
  }
}

/** `Fn::Sub` with the known names filled in; a plain string once nothing is left to substitute. */
function substitute(argument: unknown, values: ReadonlyMap<string, string>): unknown {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof text !== "string" || typeof variables !== "object" || variables === null) return undefined;
  const local = new Map(values);
  const unresolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    const computed = resolve(value, values);
    if (typeof computed === "string") local.set(name, computed);
    else {
      local.delete(name);
      unresolved[name] = computed;
    }
  }
  // ${!Literal} is an escaped "${Literal}": left alone; ${Name} is replaced when its value is known.
  const filled = text.replace(
    /\$\{([^}!][^}]*)\}/g,
    (whole, name: string) => local.get(name.trim()) ?? whole,
  );
  const rest = /\$\{[^}!][^}]*\}/.test(filled);
  if (!rest) return filled.replace(/\$\{!/g, "${");
  return Object.keys(unresolved).length > 0 ? { "Fn::Sub": [filled, unresolved] } : { "Fn::Sub": filled };
}
