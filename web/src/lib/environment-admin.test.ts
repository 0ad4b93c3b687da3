import { describe, expect, it } from 'vitest';
import type { Environment, EnvironmentState, Rule } from '../api/types.ts';
import { copyLines, describeProtection, moveKey, settingsPatch } from './environment-admin.ts';

const environment = (overrides: Partial<Environment> = {}): Environment => ({
  key: 'staging',
  name: 'Staging',
  position: 1,
  protected: false,
  requiredApprovals: 1,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  version: 3,
  ...overrides,
});

const rule = (id: string, environmentKey: string, name: string): Rule => ({
  id,
  flagKey: 'checkout',
  environment: environmentKey,
  priority: 0,
  name,
  conditions: [{ attribute: 'country', operator: 'in', values: ['BR'], negate: false }],
  segments: [],
  serve: { variant: 'on' },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
});

describe('moving an environment in the order', () => {
  it('moves a key up or down one place, and leaves the order as it is at either end or for an unknown key', () => {
    const keys = ['development', 'staging', 'production'];
    expect(moveKey(keys, 'staging', -1)).toEqual(['staging', 'development', 'production']);
    expect(moveKey(keys, 'staging', 1)).toEqual(['development', 'production', 'staging']);
    expect(moveKey(keys, 'development', -1)).toEqual(keys);
    expect(moveKey(keys, 'production', 1)).toEqual(keys);
    expect(moveKey(keys, 'qa', 1)).toEqual(keys);
  });
});

describe('what an edit of an environment sends', () => {
  it('sends only the fields that changed, the name trimmed', () => {
    const current = environment();
    expect(settingsPatch(current, { name: ' Staging ', protected: false, requiredApprovals: 1 })).toEqual({});
    expect(settingsPatch(current, { name: 'Pre-production', protected: true, requiredApprovals: 2 })).toEqual({
      name: 'Pre-production',
      protected: true,
      requiredApprovals: 2,
    });
    expect(settingsPatch(current, { name: 'Staging', protected: true, requiredApprovals: 1 })).toEqual({ protected: true });
  });

  it('says whether it is protected and how many approvals a change there needs', () => {
    expect(describeProtection(environment())).toBe('Not protected');
    expect(describeProtection(environment({ protected: true }))).toBe('Protected · 1 approval');
    expect(describeProtection(environment({ protected: true, requiredApprovals: 3 }))).toBe('Protected · 3 approvals');
  });
});

describe('what a copy of an environment replaces', () => {
  const off: EnvironmentState = { enabled: false, offVariant: 'off', defaultServe: { variant: 'on' }, prerequisites: [] };
  const on: EnvironmentState = {
    enabled: true,
    offVariant: 'off',
    defaultServe: {
      rollout: [
        { variant: 'on', weight: 20 },
        { variant: 'off', weight: 80 },
      ],
    },
    prerequisites: [{ flagKey: 'gate', variant: 'on' }],
  };

  it('names each field as it is and as it will be, and which change', () => {
    const lines = copyLines({ state: on, rules: [rule('a', 'staging', 'Brazil'), rule('b', 'staging', '')] }, { state: off, rules: [] });
    expect(lines).toEqual([
      { field: 'On', now: 'off', after: 'on', changes: true },
      { field: 'Off variant', now: 'off', after: 'off', changes: false },
      { field: 'Default serve', now: 'on', after: '20% on · 80% off', changes: true },
      { field: 'Prerequisites', now: 'none', after: 'gate serves on', changes: true },
      { field: 'Targeting rules', now: 'no rules', after: '2 rules: Brazil, rule 2 (copied)', changes: true },
    ]);
  });

  it('counts rules that do the same as unchanged, though they are replaced by copies', () => {
    const lines = copyLines(
      { state: on, rules: [rule('a', 'staging', 'Brazil')] },
      { state: on, rules: [rule('z', 'production', 'Brazil')] },
    );
    expect(lines.every((l) => !l.changes)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ now: '1 rule: Brazil', after: '1 rule: Brazil (copied)' });
  });
});
