import { RESOURCE_NAMES_TYPE, resourceNames } from "../../../src/cfn/resource-names.ts";
import { type CfnTemplate, section } from "../template/cfn-template.ts";

/** Parameter values by logical ID, as a stack holds them. */
export type ParameterValues = Readonly<Record<string, string>>;

/**
 * The template with every expression that depends only on the given parameter values computed: `Ref` to a
 * parameter, `Fn::Sub` (the parameter names in it), `Fn::Join`, `Fn::Split` and `Fn::Select` over known
 * strings. Anything else (resources, pseudo parameters, conditions) stays as written. CloudFormation decides
 * whether an update replaces a resource from the values its properties resolve to, so two spellings of the
 * same name (`!Sub GHS-AKM-${pIamUserName}` and a `Fn::Join` over `Fn::Split` of it) must compare equal
 * when they give the same name. A name the stack's `Custom::ResourceNames` resource computes from known values
 * (`Fn::GetAtt` of it) is computed the same way (src/cfn/resource-names.ts), so a name that stays the same
 * compares equal. Pure: returns a new tree.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
 */
export function resolveParameters(template: CfnTemplate, values: ParameterValues): CfnTemplate {
  const known: Known = { values: new Map(Object.entries(values)), resources: section(template, "Resources") };
  const resolved: Record<string, unknown> = { ...template };
  for (const part of ["Resources", "Outputs"] as const) {
    if (part in template) resolved[part] = resolve(template[part], known);
  }
  return resolved;
}

/** The parameter values, and the template's resources (for the attributes computed from them). */
interface Known {
  readonly values: ReadonlyMap<string, string>;
  readonly resources: Readonly<Record<string, unknown>>;
}

function resolve(node: unknown, known: Known): unknown {
  if (Array.isArray(node)) return node.map((item) => resolve(item, known));
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node);
  const [only] = entries;
  if (entries.length === 1 && only !== undefined) {
    const [key, argument] = only;
    const computed = intrinsic(key, argument, known);
    if (computed !== undefined) return computed;
  }
  return Object.fromEntries(entries.map(([key, value]) => [key, resolve(value, known)]));
}

/** The value of one intrinsic function when its inputs are known; undefined to keep it as written. */
function intrinsic(key: string, argument: unknown, known: Known): unknown {
  const values = known.values;
  switch (key) {
    case "Ref":
      return typeof argument === "string" ? values.get(argument) : undefined;
    case "Fn::GetAtt": {
      const [id, attribute] = typeof argument === "string" ? argument.split(".", 2) : (argument as unknown[]);
      return typeof id === "string" && typeof attribute === "string"
        ? computedAttribute(id, attribute, known)
        : undefined;
    }
    case "Fn::Sub":
      return substitute(argument, known);
    case "Fn::Join": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const list = resolve(argument[1], known);
      if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
        return { "Fn::Join": [argument[0], list] };
      }
      return list.join(argument[0]);
    }
    case "Fn::Split": {
      if (!Array.isArray(argument) || typeof argument[0] !== "string") return undefined;
      const text = resolve(argument[1], known);
      return typeof text === "string" ? text.split(argument[0]) : { "Fn::Split": [argument[0], text] };
    }
    case "Fn::Select": {
      if (!Array.isArray(argument)) return undefined;
      const index = resolve(argument[0], known);
      const list = resolve(argument[1], known);
      const at = typeof index === "string" || typeof index === "number" ? Number(index) : Number.NaN;
      if (Array.isArray(list) && Number.isInteger(at) && at >= 0 && at < list.length) return list[at];
      return { "Fn::Select": [index, list] };
    }
    default:
      return undefined;
  }
}

/**
 * What `Fn::GetAtt` of a `Custom::ResourceNames` resource returns, when its properties depend only on known
 * values; undefined for any other resource or attribute.
 */
function computedAttribute(id: string, attribute: string, known: Known): string | undefined {
  const target = known.resources[id] as { Type?: unknown; Properties?: Record<string, unknown> } | undefined;
  if (target?.Type !== RESOURCE_NAMES_TYPE) return undefined;
  const properties = resolve(
    { Names: target.Properties?.Names, MaxLength: target.Properties?.MaxLength },
    known,
  );
  try {
    return resourceNames(properties, id)[attribute];
  } catch {
    return undefined; // a name that depends on something unknown (or is not a name): kept as written
  }
}

/** `Fn::Sub` with the known names filled in; a plain string once nothing is left to substitute. */
function substitute(argument: unknown, known: Known): unknown {
  const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof text !== "string" || typeof variables !== "object" || variables === null) return undefined;
  const local = new Map(known.values);
  const unresolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    const computed = resolve(value, known);
    if (typeof computed === "string") local.set(name, computed);
    else {
      local.delete(name);
      unresolved[name] = computed;
    }
  }
  // ${!Literal} is an escaped "${Literal}": left alone; ${Name} is replaced when its value is known.
  const filled = text.replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => {
    const [id, attribute] = name.trim().split(".", 2);
    const value =
      attribute === undefined || id === undefined
        ? local.get(name.trim())
        : computedAttribute(id, attribute, known);
    return value ?? whole;
  });
  const rest = /\$\{[^}!][^}]*\}/.test(filled);
  if (!rest) return filled.replace(/\$\{!/g, "${");
  return Object.keys(unresolved).length > 0 ? { "Fn::Sub": [filled, unresolved] } : { "Fn::Sub": filled };
}
