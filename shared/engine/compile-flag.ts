import type { EnvironmentConfiguration, EvaluationResult, FlagConfiguration } from '../contracts/evaluation-model.ts';
import type { FlagType, Prerequisite, Serve, Variant } from '../contracts/flag-model.ts';
import type { Rule } from '../contracts/targeting-model.ts';
import { compileAttribute, type AttributeAccessor } from './attributes.ts';
import { thresholdsOf } from './bucketing.ts';
import { compileCondition, type CompiledCondition } from './compile-condition.ts';
import { compileSegment, type CompiledSegment } from './compile-segment.ts';

/**
 * Compilation, done once per configuration change: rules sorted by priority, conditions parsed, rollouts turned
 * into bucket thresholds, and every answer the flag can give built up front as a frozen result object, so that an
 * evaluation returns one of them instead of allocating. Results are shared: copy one before changing it.
 * Compiling never throws; a configuration the engine cannot serve compiles to an ERROR answer.
 */

export const ServeKind = { variant: 0, rollout: 1, broken: 2 } as const;
export type ServeKind = (typeof ServeKind)[keyof typeof ServeKind];

export interface CompiledServe {
  readonly kind: ServeKind;
  /** variant: the answer; broken: the ERROR answer; rollout: null. */
  readonly result: EvaluationResult | null;
  /** rollout: the attribute to bucket on (`bucketBy`, or `targetingKey`). */
  readonly bucketBy: AttributeAccessor;
  /** rollout: the flag's salt. */
  readonly salt: string;
  /** rollout: cumulative bucket thresholds, one per slice. */
  readonly ends: Int32Array;
  /** rollout: the answer of each slice. */
  readonly sliceResults: readonly EvaluationResult[];
  /** rollout: the answers when the bucketing attribute is missing, or not a string or number. */
  readonly missingKey: EvaluationResult;
  readonly invalidKey: EvaluationResult;
}

export interface CompiledRule {
  readonly id: string;
  readonly priority: number;
  readonly conditions: readonly CompiledCondition[];
  readonly segmentKeys: readonly string[];
  readonly serve: CompiledServe;
}

export interface CompiledFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly version: number;
  readonly salt: string;
  /** Whether a client-side caller may see it: to anyone else a hidden flag does not exist. */
  readonly clientVisible: boolean;
  /** Its project as configured (undefined: not told); a caller scoped to another project does not see it. */
  readonly project: string | undefined;
  readonly enabled: boolean;
  /** The answer that needs no context (disabled; or no rules, no prerequisites and a single-variant default), else null. */
  readonly fixed: EvaluationResult | null;
  /** offVariant with reason DISABLED (served when disabled or a prerequisite is not met). */
  readonly off: EvaluationResult;
  readonly prerequisites: readonly Prerequisite[];
  /** In priority order. */
  readonly rules: readonly CompiledRule[];
  readonly defaultServe: CompiledServe;
}

/**
 * An environment's compiled flags by key, which also keeps the keys in order for evaluating them all — all of them,
 * or those of one project.
 */
export class CompiledFlags extends Map<string, CompiledFlag> {
  #sorted: string[] | undefined;
  #byProject: Map<string, readonly string[]> | undefined;

  constructor(flags: Iterable<CompiledFlag> = []) {
    // Filled after super(): Map's constructor would call set() before #sorted exists.
    super();
    for (const flag of flags) this.set(flag.key, flag);
  }

  override set(key: string, flag: CompiledFlag): this {
    const before = this.get(key);
    if (before === undefined) this.#sorted = undefined;
    if (before === undefined || before.project !== flag.project) this.#byProject = undefined;
    return super.set(key, flag);
  }

  override delete(key: string): boolean {
    const deleted = super.delete(key);
    if (deleted) {
      this.#sorted = undefined;
      this.#byProject = undefined;
    }
    return deleted;
  }

  override clear(): void {
    this.#sorted = undefined;
    this.#byProject = undefined;
    super.clear();
  }

  /**
   * The keys in key order (only those of `project` when one is named): sorted again only after a key was added or
   * removed, not on every bulk evaluation.
   */
  keysInOrder(project?: string): readonly string[] {
    const all = (this.#sorted ??= [...this.keys()].sort());
    if (project === undefined) return all;
    const byProject = (this.#byProject ??= new Map<string, readonly string[]>());
    let keys = byProject.get(project);
    if (keys === undefined) {
      keys = all.filter((key) => this.get(key)?.project === project);
      byProject.set(project, keys);
    }
    return keys;
  }
}

export interface CompiledEnvironment {
  flags: CompiledFlags;
  segments: Map<string, CompiledSegment>;
}

type Reason = EvaluationResult['reason'];

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
}

/** A frozen copy of a variant value: results are shared between callers, so their values must not change. */
function frozenValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  try {
    const copy: unknown = structuredClone(value);
    deepFreeze(copy);
    return copy;
  } catch {
    return value;
  }
}

function errorResult(flagKey: string, message: string, errorCode: EvaluationResult['errorCode'] = 'GENERAL'): EvaluationResult {
  return Object.freeze({ flagKey, reason: 'ERROR' as const, errorCode, errorMessage: message });
}

interface Variants {
  readonly flagKey: string;
  readonly values: ReadonlyMap<string, unknown>;
}

function answer(variants: Variants, variantKey: string, reason: Reason, ruleId?: string): EvaluationResult {
  if (!variants.values.has(variantKey)) {
    return errorResult(variants.flagKey, `the configuration names variant "${variantKey}", which flag "${variants.flagKey}" does not have`);
  }
  const value = variants.values.get(variantKey);
  return Object.freeze(
    ruleId === undefined
      ? { flagKey: variants.flagKey, value, variant: variantKey, reason }
      : { flagKey: variants.flagKey, value, variant: variantKey, reason, ruleId },
  );
}

const targetingKey = compileAttribute('targetingKey');
const noResults: readonly EvaluationResult[] = [];

function compileServe(variants: Variants, salt: string, serve: Serve | undefined, variantReason: Reason, ruleId?: string): CompiledServe {
  const base = {
    bucketBy: targetingKey,
    salt,
    ends: new Int32Array(0),
    sliceResults: noResults,
    missingKey: errorResult(variants.flagKey, 'no targetingKey in the context to split on', 'TARGETING_KEY_MISSING'),
    invalidKey: errorResult(variants.flagKey, 'targetingKey must be a string or a number to split on', 'INVALID_CONTEXT'),
  };
  const where = ruleId === undefined ? 'the default serve' : `rule ${ruleId}`;
  const hasVariant = typeof serve?.variant === 'string';
  const hasRollout = Array.isArray(serve?.rollout) && serve.rollout.length > 0;
  if (serve === undefined || hasVariant === hasRollout) {
    return {
      ...base,
      kind: ServeKind.broken,
      result: errorResult(variants.flagKey, `${where} must serve exactly one of a variant or a rollout`),
    };
  }
  if (hasVariant) {
    const result = answer(variants, serve.variant as string, variantReason, ruleId);
    return { ...base, kind: result.reason === 'ERROR' ? ServeKind.broken : ServeKind.variant, result };
  }
  const slices = serve.rollout ?? [];
  const { ends, complete } = thresholdsOf(slices.map((s) => s.weight));
  if (!complete) {
    return { ...base, kind: ServeKind.broken, result: errorResult(variants.flagKey, `the rollout of ${where} does not total 100%`) };
  }
  const bucketName = typeof serve.bucketBy === 'string' && serve.bucketBy.length > 0 ? serve.bucketBy : 'targetingKey';
  return {
    ...base,
    kind: ServeKind.rollout,
    result: null,
    bucketBy: compileAttribute(bucketName),
    ends,
    sliceResults: slices.map((s) => answer(variants, s.variant, 'SPLIT', ruleId)),
    missingKey: errorResult(variants.flagKey, `no "${bucketName}" in the context to split on`, 'TARGETING_KEY_MISSING'),
    invalidKey: errorResult(variants.flagKey, `"${bucketName}" must be a string or a number to split on`, 'INVALID_CONTEXT'),
  };
}

function byPriority(a: Rule, b: Rule): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function compileFlag(config: FlagConfiguration): CompiledFlag {
  const variantList: readonly Variant[] = Array.isArray(config.variants) ? config.variants : [];
  const variants: Variants = { flagKey: config.key, values: new Map(variantList.map((v) => [v.key, frozenValue(v.value)])) };
  const state = config.state;
  const rules = [...(Array.isArray(config.rules) ? config.rules : [])].sort(byPriority).map((rule): CompiledRule => ({
    id: rule.id,
    priority: rule.priority,
    conditions: (Array.isArray(rule.conditions) ? rule.conditions : []).map(compileCondition),
    segmentKeys: Array.isArray(rule.segments) ? rule.segments : [],
    serve: compileServe(variants, config.salt, rule.serve, 'TARGETING_MATCH', rule.id),
  }));
  const prerequisites = Array.isArray(state.prerequisites) ? state.prerequisites : [];
  const off = answer(variants, state.offVariant, 'DISABLED');
  const defaultServe = compileServe(variants, config.salt, state.defaultServe, rules.length === 0 ? 'STATIC' : 'DEFAULT');
  const enabled = state.enabled === true;
  let fixed: EvaluationResult | null = null;
  if (!enabled) fixed = off;
  else if (rules.length === 0 && prerequisites.length === 0 && defaultServe.kind !== ServeKind.rollout) fixed = defaultServe.result;
  return {
    key: config.key,
    type: config.type,
    version: config.version,
    salt: config.salt,
    clientVisible: config.clientVisible === true,
    project: config.project,
    enabled,
    fixed,
    off,
    prerequisites,
    rules,
    defaultServe,
  };
}

/** Compiles every flag and every segment of one environment. */
export function compileEnvironment(config: EnvironmentConfiguration): CompiledEnvironment {
  return {
    flags: new CompiledFlags(config.flags.map((flag) => compileFlag(flag))),
    segments: new Map(config.segments.map((s) => [s.key, compileSegment(s)])),
  };
}
