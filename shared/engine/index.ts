/**
 * The evaluation engine: a pure module (no I/O, no clock, no randomness) shared by the evaluation service, the
 * targeting service's `POST /targeting/match` and the tests. Semantics: docs/targeting.md.
 *
 * Compile once per configuration change (compileEnvironment / compileFlag / compileSegment), then evaluate many
 * times. Results are frozen objects shared between calls: copy one before changing it.
 */
export { compileFlag, compileEnvironment, CompiledFlags } from './compile-flag.ts';
export type { CompiledFlag, CompiledEnvironment, CompiledRule, CompiledServe } from './compile-flag.ts';
export { compileSegment, recompileSegment } from './compile-segment.ts';
export type { CompiledSegment } from './compile-segment.ts';
export type { CompiledCondition } from './compile-condition.ts';
export { evaluateFlag, evaluateAll } from './evaluate.ts';
export type { EvaluateOptions } from './evaluate.ts';
export { explainFlag } from './explain.ts';
export type { FlagExplanation, RuleExplanation, ConditionExplanation, SegmentExplanation, PrerequisiteExplanation } from './explain.ts';
export { conditionProblems } from './validate.ts';
