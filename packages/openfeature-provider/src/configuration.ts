import { compileEnvironment, type CompiledEnvironment } from '../../../shared/engine/index.ts';
import type { Condition, ConfigurationDocument, FlagConfiguration, Segment } from './types.ts';

/**
 * A configuration document compiled with ToggleMaster's engine (bundled: the very code the evaluation service runs),
 * with what it takes to tell which flags a newer document changes.
 */
export interface Configuration {
  readonly document: ConfigurationDocument;
  readonly compiled: CompiledEnvironment;
  /** Per flag: what decides its answers (everything but its version), as text. */
  readonly flagPrints: ReadonlyMap<string, string>;
  readonly segmentPrints: ReadonlyMap<string, string>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The document, checked enough to be compiled; a message for what is wrong (the last good copy stays in use). */
export function parseDocument(value: unknown): ConfigurationDocument {
  if (!isObject(value)) throw new Error('the configuration is not a JSON object');
  const { environment, flags, segments } = value;
  if (typeof environment !== 'string') throw new Error('the configuration has no "environment"');
  if (!Array.isArray(flags) || !Array.isArray(segments)) throw new Error('the configuration needs "flags" and "segments" arrays');
  flags.forEach((flag: unknown, i) => {
    if (!isObject(flag) || typeof flag.key !== 'string' || typeof flag.type !== 'string' || typeof flag.salt !== 'string')
      throw new Error(`flags[${i}] is not a flag configuration (key, type, variants, salt, version, state, rules)`);
    if (!Array.isArray(flag.variants) || !isObject(flag.state) || !Array.isArray(flag.rules))
      throw new Error(`flag "${flag.key}" needs "variants", "state" and "rules"`);
  });
  segments.forEach((segment: unknown, i) => {
    if (!isObject(segment) || typeof segment.key !== 'string') throw new Error(`segments[${i}] is not a segment`);
  });
  return value as unknown as ConfigurationDocument;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function flagPrint(flag: FlagConfiguration): string {
  return JSON.stringify({ ...flag, version: 0, rules: [...flag.rules].sort(byId) });
}

export function compileDocument(document: ConfigurationDocument): Configuration {
  // The public types mirror the contracts (test/types.test.ts holds them to it both ways).
  const compiled = compileEnvironment(document);
  return {
    document,
    compiled,
    flagPrints: new Map(document.flags.map((flag) => [flag.key, flagPrint(flag)])),
    segmentPrints: new Map(document.segments.map((segment) => [segment.key, JSON.stringify(segment)])),
  };
}

/** The segments a list of conditions names (`in_segment`, `not_in_segment`). */
function segmentsNamed(conditions: readonly Condition[] | undefined, into: Set<string>): void {
  for (const condition of conditions ?? [])
    if (condition.operator === 'in_segment' || condition.operator === 'not_in_segment')
      for (const value of condition.values) if (typeof value === 'string') into.add(value);
}

function segmentsOfFlag(flag: FlagConfiguration): Set<string> {
  const keys = new Set<string>();
  for (const rule of flag.rules) {
    for (const key of rule.segments ?? []) keys.add(key);
    segmentsNamed(rule.conditions, keys);
  }
  return keys;
}

function segmentsOfSegment(segment: Segment): Set<string> {
  const keys = new Set<string>();
  segmentsNamed(segment.conditions, keys);
  return keys;
}

/** Grows `changed` with every key whose dependencies hold a changed key, until nothing more moves. */
function closeOver(changed: Set<string>, dependencies: ReadonlyMap<string, ReadonlySet<string>>, changedDependencies: Set<string>): void {
  let grew = true;
  while (grew) {
    grew = false;
    for (const [key, needs] of dependencies) {
      if (changed.has(key)) continue;
      for (const need of needs)
        if (changedDependencies.has(need)) {
          changed.add(key);
          grew = true;
          break;
        }
    }
  }
}

function keysThatDiffer(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> {
  const keys = new Set<string>();
  for (const [key, print] of after) if (before.get(key) !== print) keys.add(key);
  for (const key of before.keys()) if (!after.has(key)) keys.add(key);
  return keys;
}

/**
 * The flags whose answers may differ between two configurations, in key order: added, removed or edited (a new
 * version alone does not count: a description's edit changes no answer), or reading a segment or a prerequisite
 * flag that changed — however deeply.
 */
export function changedFlags(before: Configuration, after: Configuration): string[] {
  const segments = keysThatDiffer(before.segmentPrints, after.segmentPrints);
  const segmentNeeds = new Map<string, Set<string>>();
  for (const segment of [...before.document.segments, ...after.document.segments]) {
    const needs = segmentNeeds.get(segment.key) ?? new Set<string>();
    for (const key of segmentsOfSegment(segment)) needs.add(key);
    segmentNeeds.set(segment.key, needs);
  }
  closeOver(segments, segmentNeeds, segments);

  const flags = keysThatDiffer(before.flagPrints, after.flagPrints);
  const flagSegments = new Map<string, Set<string>>();
  const prerequisites = new Map<string, Set<string>>();
  for (const flag of after.document.flags) {
    flagSegments.set(flag.key, segmentsOfFlag(flag));
    prerequisites.set(flag.key, new Set((flag.state.prerequisites ?? []).map((p) => p.flagKey)));
  }
  closeOver(flags, flagSegments, segments);
  closeOver(flags, prerequisites, flags);
  return [...flags].sort();
}
