import type { EvaluationContext, EvaluationResult } from '../contracts/evaluation-model.ts';
import type { FlagType } from '../contracts/flag-model.ts';
import { readAttribute } from './attributes.ts';
import { bucketOf, sliceOf } from './bucketing.ts';
import { ServeKind, type CompiledEnvironment, type CompiledFlag, type CompiledServe } from './compile-flag.ts';
import { maxDepth, ruleApplies } from './match.ts';

/**
 * Evaluation, in this order (docs/targeting.md, "Evaluation order"): flag missing → FLAG_NOT_FOUND; expected type
 * differs → TYPE_MISMATCH; disabled → offVariant (DISABLED); a prerequisite not serving its variant → offVariant
 * (DISABLED); the first rule (by priority) whose conditions and segments all hold → its serve (TARGETING_MATCH or
 * SPLIT, with ruleId); else the default serve (STATIC with no rules, DEFAULT with rules, SPLIT for a rollout).
 * Never throws. The answers are shared frozen objects built at compile time (errors about the call itself aside).
 */

export interface EvaluateOptions {
  expectedType?: FlagType;
  /** A client-side caller (a public key): flags not marked client-visible do not exist for it. */
  clientSide?: boolean;
  /** A caller scoped to one project (an SDK key): the flags of other projects do not exist for it. */
  project?: string;
}

const emptyContext: EvaluationContext = Object.freeze({});

function failure(flagKey: string, errorCode: NonNullable<EvaluationResult['errorCode']>, errorMessage: string): EvaluationResult {
  return { flagKey, reason: 'ERROR', errorCode, errorMessage };
}

/** A context the engine can read: a plain object; undefined and null read as the empty context. */
export function contextOf(context: unknown): EvaluationContext | undefined {
  if (context === undefined || context === null) return emptyContext;
  if (typeof context !== 'object' || Array.isArray(context)) return undefined;
  return context as EvaluationContext;
}

/** The answer of a serve for a context: the variant, or the slice the bucketing attribute falls into. */
export function serveAnswer(serve: CompiledServe, context: EvaluationContext): EvaluationResult {
  if (serve.kind !== ServeKind.rollout) return serve.result as EvaluationResult;
  const raw = readAttribute(serve.bucketBy, context);
  let value: string;
  if (typeof raw === 'string') {
    if (raw.length === 0) return serve.missingKey;
    value = raw;
  } else if (typeof raw === 'number' && Number.isFinite(raw)) {
    value = String(raw);
  } else if (raw === undefined || raw === null) {
    return serve.missingKey;
  } else {
    return serve.invalidKey;
  }
  const slice = sliceOf(serve.ends, bucketOf(serve.salt, value));
  return serve.sliceResults[slice] ?? (serve.result as EvaluationResult);
}

/** Whether every prerequisite flag serves its required variant to this context. */
export function prerequisitesMet(env: CompiledEnvironment, flag: CompiledFlag, context: EvaluationContext, depth: number): boolean {
  for (const prerequisite of flag.prerequisites) {
    const parent = env.flags.get(prerequisite.flagKey);
    if (parent === undefined) return false;
    if (evaluateCompiled(env, parent, context, depth + 1).variant !== prerequisite.variant) return false;
  }
  return true;
}

/** Evaluates a compiled flag (the context already checked); `depth` counts prerequisite nesting. */
export function evaluateCompiled(
  env: CompiledEnvironment,
  flag: CompiledFlag,
  context: EvaluationContext,
  depth: number,
): EvaluationResult {
  if (flag.fixed !== null) return flag.fixed;
  if (depth > maxDepth) {
    return failure(flag.key, 'GENERAL', `prerequisites nest deeper than ${maxDepth} levels (a cycle?)`);
  }
  if (flag.prerequisites.length > 0 && !prerequisitesMet(env, flag, context, depth)) return flag.off;
  const segments = env.segments;
  for (const rule of flag.rules) {
    if (ruleApplies(rule.conditions, rule.segmentKeys, context, segments)) return serveAnswer(rule.serve, context);
  }
  return serveAnswer(flag.defaultServe, context);
}

export function evaluateFlag(
  env: CompiledEnvironment,
  flagKey: string,
  context: EvaluationContext,
  options?: EvaluateOptions,
): EvaluationResult {
  const flag = env.flags.get(flagKey);
  if (
    flag === undefined ||
    (options?.project !== undefined && flag.project !== options.project) ||
    (options?.clientSide === true && !flag.clientVisible)
  ) {
    return failure(flagKey, 'FLAG_NOT_FOUND', `no flag "${flagKey}" in this environment`);
  }
  const expectedType = options?.expectedType;
  if (expectedType !== undefined && expectedType !== flag.type) {
    return failure(flagKey, 'TYPE_MISMATCH', `flag "${flagKey}" is of type ${flag.type}, not ${expectedType}`);
  }
  const readable = contextOf(context);
  if (readable === undefined) return failure(flagKey, 'INVALID_CONTEXT', 'the context must be an object');
  return evaluateCompiled(env, flag, readable, 0);
}

/**
 * Every flag of the environment for one context, in key order (for a client-side caller, the visible ones; for a
 * caller scoped to a project, that project's).
 */
export function evaluateAll(
  env: CompiledEnvironment,
  context: EvaluationContext,
  options?: Pick<EvaluateOptions, 'clientSide' | 'project'>,
): EvaluationResult[] {
  const results: EvaluationResult[] = [];
  const readable = contextOf(context);
  const clientSide = options?.clientSide === true;
  for (const key of env.flags.keysInOrder(options?.project)) {
    const flag = env.flags.get(key);
    if (flag === undefined || (clientSide && !flag.clientVisible)) continue;
    results.push(
      readable === undefined ? failure(key, 'INVALID_CONTEXT', 'the context must be an object') : evaluateCompiled(env, flag, readable, 0),
    );
  }
  return results;
}
