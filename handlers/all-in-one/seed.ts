import type { Logger } from '../../shared/logging/logger.ts';

interface SeedOptions {
  urls: Record<string, string>;
  admin: { email: string; password: string };
  /** The demo SDK key a previous start made, if any: keys are shown once, so it is kept, not remade. */
  sdkKey: string | undefined;
  logger: Logger;
}

const demoFlags = [
  {
    key: 'new-checkout',
    name: 'New checkout',
    description: 'The redesigned checkout flow',
    type: 'boolean',
    tags: ['checkout', 'demo'],
    environments: { development: { enabled: true, defaultServe: { variant: 'off' } } },
  },
  {
    key: 'banner-color',
    name: 'Banner colour',
    description: 'A/B test of the home banner',
    type: 'string',
    tags: ['home', 'demo'],
    variants: [
      { key: 'blue', value: '#1e6bd6', name: 'Blue' },
      { key: 'green', value: '#1f9d55', name: 'Green' },
    ],
    environments: {
      development: {
        enabled: true,
        defaultServe: {
          rollout: [
            { variant: 'blue', weight: 50 },
            { variant: 'green', weight: 50 },
          ],
        },
      },
    },
  },
  {
    key: 'search-page-size',
    name: 'Search page size',
    type: 'number',
    tags: ['search', 'demo'],
    variants: [
      { key: 'small', value: 10 },
      { key: 'large', value: 50 },
    ],
  },
];

/** A segment and two rules, so the demo shows targeting: beta testers and two countries get the new checkout. */
async function seedTargeting(url: string, token: string, logger: Logger): Promise<void> {
  const requests = [
    [
      '/targeting/segments',
      {
        key: 'beta-testers',
        name: 'Beta testers',
        description: 'People who asked for early features',
        included: ['user-1', 'user-2'],
        conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@togglemaster.local'] }],
      },
    ],
    [
      '/targeting/rules',
      {
        flagKey: 'new-checkout',
        environment: 'development',
        name: 'Beta testers',
        conditions: [{ attribute: 'targetingKey', operator: 'in_segment', values: ['beta-testers'] }],
        serve: { variant: 'on' },
      },
    ],
    [
      '/targeting/rules',
      {
        flagKey: 'new-checkout',
        environment: 'development',
        name: 'Brazil and the US, half of them',
        conditions: [{ attribute: 'country', operator: 'in', values: ['BR', 'US'] }],
        serve: {
          rollout: [
            { variant: 'on', weight: 50 },
            { variant: 'off', weight: 50 },
          ],
        },
      },
    ],
  ] as const;
  for (const [path, body] of requests) {
    const created = await call(`${url}${path}`, { method: 'POST', token, body: JSON.stringify(body) });
    if (created.status !== 201) logger.warn({ path, status: created.status, body: created.body }, 'demo targeting not created');
  }
}

async function call<T>(url: string, init: RequestInit & { token?: string }): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as T };
}

/**
 * A demo workspace through the public APIs (so it passes the same validation as anyone's): a few flags when there
 * are none yet, and an SDK key for development. Returns the SDK key when it made one.
 */
export async function seedDemo({ urls, admin, sdkKey, logger }: SeedOptions): Promise<string | undefined> {
  const login = await call<{ accessToken: string }>(`${urls.auth}/auth/login`, { method: 'POST', body: JSON.stringify(admin) });
  if (login.status !== 200) {
    logger.warn({ status: login.status }, 'demo data skipped: the admin could not sign in');
    return undefined;
  }
  const token = login.body.accessToken;
  if (urls.flags) {
    const existing = await call<{ items: unknown[] }>(`${urls.flags}/flags?limit=1`, { method: 'GET', token });
    if (existing.status === 200 && existing.body.items.length === 0) {
      for (const flag of demoFlags) {
        const created = await call(`${urls.flags}/flags`, { method: 'POST', token, body: JSON.stringify(flag) });
        if (created.status !== 201) logger.warn({ flag: flag.key, status: created.status, body: created.body }, 'demo flag not created');
      }
      logger.info({ flags: demoFlags.map((f) => f.key) }, 'seeded demo flags');
      if (urls.targeting) await seedTargeting(urls.targeting, token, logger);
    }
  }
  if (sdkKey) return undefined;
  const key = await call<{ key: string }>(`${urls.auth}/auth/api-keys`, {
    method: 'POST',
    token,
    body: JSON.stringify({ environment: 'development', name: 'all-in-one demo' }),
  });
  return key.status === 201 ? key.body.key : undefined;
}
