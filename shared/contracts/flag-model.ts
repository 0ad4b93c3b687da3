import { Type, type Static } from 'typebox';
import { Strict } from '../http/schemas.ts';
import { bucketCount, weightScale } from './weights.ts';

/**
 * The flag model every service shares: the flags service stores it, targeting references it, the evaluation
 * engine reads it. Schemas here also produce the OpenAPI documents and the TypeScript types.
 */
export const flagTypes = ['boolean', 'string', 'number', 'json'] as const;
export type FlagType = (typeof flagTypes)[number];

export const FlagKey = Type.String({
  pattern: '^[a-z0-9]+(?:[-_.][a-z0-9]+)*$',
  minLength: 1,
  maxLength: 100,
  description: 'Lower-case slug: letters, digits, and - _ . between them',
});
export const VariantKey = Type.String({ pattern: '^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$', minLength: 1, maxLength: 64 });
export const Tag = Type.String({ pattern: '^[a-z0-9]+(?:[-_.:/][a-z0-9]+)*$', minLength: 1, maxLength: 50 });

export const Variant = Strict({
  key: VariantKey,
  value: Type.Unknown({ description: "A value of the flag's type" }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
});
export type Variant = Static<typeof Variant>;

/** Re-exported: the API's checks and the engine share them. */
export { bucketCount, weightScale };

export const Serve = Strict(
  {
    variant: Type.Optional(VariantKey),
    rollout: Type.Optional(
      Type.Array(Strict({ variant: VariantKey, weight: Type.Number({ minimum: 0, maximum: 100 }) }), { minItems: 1, maxItems: 50 }),
    ),
    bucketBy: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Context attribute to bucket on (default: targetingKey)' }),
    ),
  },
  { description: 'Exactly one of `variant` or `rollout` (weights in percent, up to three decimals, total 100)' },
);
export type Serve = Static<typeof Serve>;

export const Prerequisite = Strict({ flagKey: FlagKey, variant: VariantKey });
export type Prerequisite = Static<typeof Prerequisite>;

export const EnvironmentState = Strict({
  enabled: Type.Boolean(),
  offVariant: VariantKey,
  defaultServe: Serve,
  prerequisites: Type.Array(Prerequisite, { maxItems: 20 }),
});
export type EnvironmentState = Static<typeof EnvironmentState>;

export const EnvironmentPatch = Strict(
  {
    enabled: Type.Optional(Type.Boolean()),
    offVariant: Type.Optional(VariantKey),
    defaultServe: Type.Optional(Serve),
    prerequisites: Type.Optional(Type.Array(Prerequisite, { maxItems: 20 })),
  },
  { minProperties: 1 },
);
export type EnvironmentPatch = Static<typeof EnvironmentPatch>;

/** A flag as the flags API answers it (and as the audit trail keeps it). */
export interface FlagDocument {
  key: string;
  /** The project it belongs to (fixed at creation); absent from documents written before projects: the default project. */
  project?: string;
  name: string;
  description: string;
  tags: string[];
  type: FlagType;
  variants: Variant[];
  /** Mixed into the bucketing hash, so two flags split the same users differently; fixed at creation. */
  salt: string;
  /** Grows by one with every change; the ETag and If-Match of optimistic concurrency. */
  version: number;
  /** Whether client-side SDKs (public `client` keys: browsers, apps) may evaluate it; off unless set. */
  clientVisible: boolean;
  environments: Record<string, EnvironmentState>;
  createdAt: string;
  updatedAt: string;
  /**
   * When the flag was archived (a DELETE): it keeps its row, history and rules but evaluation no longer knows it;
   * null while active. Absent from documents written before flags could be archived (audit entries, cache entries).
   */
  archivedAt?: string | null;
  /** Who archived it; null while active. */
  archivedBy?: { userId: string; email: string } | null;
}

export interface FieldProblem {
  path: string;
  message: string;
}

const maxStringValue = 10_000;

/**
 * Bounds on a JSON value an API stores: every service copies, freezes, compares, audits and sends it, some of that
 * by recursion, so nesting is capped well below what would run out of stack; and one flag value must not outweigh
 * a whole environment's configuration in the caches and in every OFREP bulk answer.
 */
export const jsonValueLimits = { maxDepth: 32, maxBytes: 32 * 1024 } as const;

/**
 * Whether a JSON value stays within `jsonValueLimits` (an object or an array is one level; its contents count from
 * the next): a message, or undefined. The depth is measured without recursion, so a value too deep to recurse over
 * is refused rather than crashed on, and the size is measured (as UTF-8 JSON) only once the depth is known to be safe.
 */
export function jsonValueProblem(value: unknown): string | undefined {
  const { maxDepth, maxBytes } = jsonValueLimits;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return `nests deeper than ${maxDepth} levels`;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth });
  }
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  return bytes > maxBytes ? `is larger than ${maxBytes / 1024} KiB as JSON (${bytes} bytes)` : undefined;
}

/** Whether a variant value fits the flag's type; the answer is a message, or undefined when it fits. */
export function valueProblem(type: FlagType, value: unknown): string | undefined {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean for a boolean flag';
    case 'string':
      if (typeof value !== 'string') return 'must be a string for a string flag';
      return value.length > maxStringValue ? `must be at most ${maxStringValue} characters` : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a finite number for a number flag';
    case 'json':
      // OFREP's only structured type is the object: an array or a scalar has to be a property of one.
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return 'must be a JSON object for a json flag (put an array or a scalar in a property of one)';
      return jsonValueProblem(value);
  }
}

/** Checks a serve against the flag's variants: one of the two forms, known variants, weights that add to 100. */
export function serveProblems(serve: Serve, variantKeys: ReadonlySet<string>, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if ((serve.variant === undefined) === (serve.rollout === undefined)) {
    return [{ path, message: 'must have exactly one of "variant" or "rollout"' }];
  }
  if (serve.variant !== undefined) {
    if (!variantKeys.has(serve.variant))
      problems.push({ path: `${path}/variant`, message: `names no variant of this flag ("${serve.variant}")` });
    if (serve.bucketBy !== undefined) problems.push({ path: `${path}/bucketBy`, message: 'only applies to a rollout' });
    return problems;
  }
  let total = 0;
  const seen = new Set<string>();
  for (const [i, slice] of (serve.rollout ?? []).entries()) {
    if (!variantKeys.has(slice.variant))
      problems.push({ path: `${path}/rollout/${i}/variant`, message: `names no variant of this flag ("${slice.variant}")` });
    if (seen.has(slice.variant)) problems.push({ path: `${path}/rollout/${i}/variant`, message: 'appears twice in the rollout' });
    seen.add(slice.variant);
    const scaled = slice.weight * weightScale;
    if (Math.abs(scaled - Math.round(scaled)) > 1e-6)
      problems.push({ path: `${path}/rollout/${i}/weight`, message: 'may have at most three decimals' });
    total += Math.round(scaled);
  }
  if (total !== bucketCount)
    problems.push({ path: `${path}/rollout`, message: `weights must total 100 (they total ${total / weightScale})` });
  return problems;
}

/** The variant keys a state points at, to tell whether removing a variant would break it. */
export function variantsUsedBy(state: EnvironmentState): string[] {
  const serve = state.defaultServe;
  return [state.offVariant, ...(serve.variant !== undefined ? [serve.variant] : []), ...(serve.rollout ?? []).map((s) => s.variant)];
}
