import type { FlagConfiguration } from '../contracts/evaluation-model.ts';
import type { EnvironmentState, Serve, Variant } from '../contracts/flag-model.ts';
import type { Condition, Rule, Segment } from '../contracts/targeting-model.ts';

/** Builders for the engine's tests: a boolean flag by default, overridable piece by piece. */

export const onOff: Variant[] = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

export function flag(overrides: Partial<Omit<FlagConfiguration, 'state'>> & { state?: Partial<EnvironmentState> } = {}): FlagConfiguration {
  const { state, ...rest } = overrides;
  return {
    key: 'checkout',
    type: 'boolean',
    variants: onOff,
    salt: 'checkout-salt',
    version: 1,
    rules: [],
    ...rest,
    state: { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [], ...state },
  };
}

let ruleCounter = 0;

export function rule(overrides: Partial<Rule> & { serve: Serve }): Rule {
  ruleCounter += 1;
  return {
    id: `rule-${ruleCounter}`,
    flagKey: 'checkout',
    environment: 'production',
    priority: ruleCounter,
    name: `rule ${ruleCounter}`,
    conditions: [],
    segments: [],
    ...overrides,
  };
}

export function segment(overrides: Partial<Segment> & { key: string }): Segment {
  return { name: overrides.key, description: '', conditions: [], included: [], excluded: [], ...overrides };
}

export function cond(attribute: string, operator: Condition['operator'], values: Condition['values'] = [], negate?: boolean): Condition {
  return negate === undefined ? { attribute, operator, values } : { attribute, operator, values, negate };
}

export function split(...slices: Array<[variant: string, weight: number]>): Serve {
  return { rollout: slices.map(([variant, weight]) => ({ variant, weight })) };
}
