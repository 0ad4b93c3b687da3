import type { EvaluationContext } from '../contracts/evaluation-model.ts';

/**
 * How a condition reaches a context attribute, worked out once at compile time: the literal name first, and when
 * the context has no such attribute and the name has dots, the path into nested objects (`account.plan`).
 * Names that an object inherits (`constructor`, `toString`, `__proto__`) are read as own properties only, so a
 * context never "has" them by accident.
 */
export interface AttributeAccessor {
  readonly name: string;
  /** The literal name is one an object inherits: read it with Object.hasOwn. */
  readonly inherited: boolean;
  /** The dotted path, or null when the name has no dot. */
  readonly path: readonly string[] | null;
}

const inheritedNames = new Set(Object.getOwnPropertyNames(Object.prototype));

export function compileAttribute(name: string): AttributeAccessor {
  const path = name.includes('.') ? name.split('.') : null;
  return { name, inherited: inheritedNames.has(name), path };
}

function own(holder: object, key: string): unknown {
  return Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : undefined;
}

/** The attribute's value, or undefined when the context does not have it. Never throws. */
export function readAttribute(accessor: AttributeAccessor, context: EvaluationContext): unknown {
  const direct = accessor.inherited ? own(context, accessor.name) : context[accessor.name];
  if (direct !== undefined || accessor.path === null) return direct;
  let current: unknown = context;
  for (const key of accessor.path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = inheritedNames.has(key) ? own(current, key) : (current as Record<string, unknown>)[key];
  }
  return current;
}
