import type { Segment } from '../contracts/targeting-model.ts';
import { compileCondition, type CompiledCondition } from './compile-condition.ts';

/** A segment ready to test: its key lists as sets and its conditions compiled. */
export interface CompiledSegment {
  readonly key: string;
  readonly included: ReadonlySet<string>;
  readonly excluded: ReadonlySet<string>;
  readonly conditions: readonly CompiledCondition[];
}

export function compileSegment(segment: Segment): CompiledSegment {
  return {
    key: segment.key,
    included: new Set(Array.isArray(segment.included) ? segment.included : []),
    excluded: new Set(Array.isArray(segment.excluded) ? segment.excluded : []),
    conditions: (Array.isArray(segment.conditions) ? segment.conditions : []).map(compileCondition),
  };
}
