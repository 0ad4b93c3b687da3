import type { ConfigurationDocument, FlagConfiguration, Segment } from '../src/types.ts';

/** A boolean flag that serves `off` to everyone, overridable piece by piece. */
export function flag(
  key: string,
  overrides: Partial<Omit<FlagConfiguration, 'state'>> & { state?: Partial<FlagConfiguration['state']> } = {},
) {
  const { state, ...rest } = overrides;
  const config: FlagConfiguration = {
    key,
    type: 'boolean',
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    salt: `salt-${key}`,
    version: 1,
    rules: [],
    ...rest,
    state: { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [], ...state },
  };
  return config;
}

export function segment(key: string, overrides: Partial<Segment> = {}): Segment {
  return { key, name: key, description: '', conditions: [], included: [], excluded: [], ...overrides };
}

/** One of each kind of answer: STATIC, TARGETING_MATCH / DEFAULT, SPLIT, DISABLED, a segment, a prerequisite. */
export function demoDocument(): ConfigurationDocument {
  return {
    environment: 'production',
    flags: [
      flag('gate', { state: { defaultServe: { variant: 'on' } } }),
      flag('checkout', {
        rules: [
          {
            id: 'rule-br',
            flagKey: 'checkout',
            environment: 'production',
            priority: 1,
            name: 'Brazil',
            conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
            segments: [],
            serve: { variant: 'on' },
          },
          {
            id: 'rule-beta',
            flagKey: 'checkout',
            environment: 'production',
            priority: 2,
            name: 'Beta testers',
            conditions: [],
            segments: ['beta'],
            serve: { variant: 'on' },
          },
        ],
      }),
      flag('banner', {
        type: 'string',
        variants: [
          { key: 'blue', value: '#00f' },
          { key: 'green', value: '#0f0' },
        ],
        state: {
          offVariant: 'blue',
          defaultServe: {
            rollout: [
              { variant: 'blue', weight: 50 },
              { variant: 'green', weight: 50 },
            ],
          },
        },
      }),
      flag('page-size', {
        type: 'number',
        variants: [
          { key: 'small', value: 10 },
          { key: 'large', value: 50 },
        ],
        state: { enabled: false, offVariant: 'small', defaultServe: { variant: 'large' } },
      }),
      flag('theme', {
        type: 'json',
        variants: [
          { key: 'light', value: { background: 'white', accents: ['blue'] } },
          { key: 'dark', value: { background: 'black', accents: ['orange'] } },
        ],
        state: { offVariant: 'light', defaultServe: { variant: 'dark' } },
      }),
      flag('child', { state: { defaultServe: { variant: 'on' }, prerequisites: [{ flagKey: 'gate', variant: 'on' }] } }),
    ],
    segments: [segment('beta', { included: ['ana'] })],
  };
}

/** A copy of a document with one flag replaced (its version one up). */
export function withFlag(document: ConfigurationDocument, next: FlagConfiguration): ConfigurationDocument {
  return {
    ...document,
    flags: document.flags.map((f) => (f.key === next.key ? { ...next, version: f.version + 1 } : f)),
  };
}

export const silentLogger = () => {
  const lines: { level: string; text: string }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      lines.push({ level, text: args.map(String).join(' ') });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
};

/** Waits until `check` holds (polling every 10 ms), or fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
