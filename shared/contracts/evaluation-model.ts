import type { EnvironmentState, FlagType, Variant } from './flag-model.ts';
import type { Rule, Segment } from './targeting-model.ts';

/** Everything the engine needs to evaluate one flag in one environment (flags service + targeting service). */
export interface FlagConfiguration {
  key: string;
  type: FlagType;
  variants: Variant[];
  salt: string;
  /** The flag's version in the flags service, for ETags and cache keys. */
  version: number;
  /** Whether client-side SDKs may evaluate it; absent means not (see FlagDocument.clientVisible). */
  clientVisible?: boolean;
  /**
   * The project it belongs to, for callers that evaluate one project's flags out of an environment holding several
   * (the evaluation service); absent when the caller does not tell projects apart (the configuration an in-process
   * SDK downloads holds one project's flags and does not carry it).
   */
  project?: string;
  state: EnvironmentState;
  /** This flag's rules in this environment, in any order (the engine orders them by priority). */
  rules: Rule[];
}

export interface EnvironmentConfiguration {
  environment: string;
  flags: FlagConfiguration[];
  segments: Segment[];
}

/** OpenFeature's resolution reasons. */
export const reasons = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR'] as const;
export type Reason = (typeof reasons)[number];

/** OpenFeature's error codes. */
export const evaluationErrorCodes = [
  'FLAG_NOT_FOUND',
  'TYPE_MISMATCH',
  'PARSE_ERROR',
  'TARGETING_KEY_MISSING',
  'INVALID_CONTEXT',
  'GENERAL',
] as const;
export type EvaluationErrorCode = (typeof evaluationErrorCodes)[number];

/** `targetingKey` plus any attributes (strings, numbers, booleans, nested objects reachable by dotted paths). */
export interface EvaluationContext {
  targetingKey?: string;
  [attribute: string]: unknown;
}

export interface EvaluationResult {
  flagKey: string;
  /** Absent on error: the caller falls back to its own default. */
  value?: unknown;
  variant?: string;
  reason: Reason;
  /** The rule that decided, when one did. */
  ruleId?: string;
  errorCode?: EvaluationErrorCode;
  errorMessage?: string;
}
