import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';

/**
 * Change requests on real servers: people invited through auth review a change to a protected environment; ten
 * applies racing each other write the flag once; evaluation serves it as planned.
 */
describe('change requests, end to end', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;
  const people: Record<string, string> = {};

  const as = async <T>(who: string, method: string, url: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${people[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  /** An editor, invited by the admin, who accepts and signs in. */
  async function editor(name: string): Promise<void> {
    const email = `${name}@example.com`;
    const invited = await platform.call<{ token: string }>('POST', `${platform.urls.auth}/auth/invitations`, { email, role: 'editor' });
    expect(invited.status).toBe(201);
    const password = `${name}-long-password`;
    expect(
      (await platform.call('POST', `${platform.urls.auth}/auth/invitations/accept`, { token: invited.body.token, password })).status,
    ).toBe(201);
    people[name] = (
      await platform.call<{ accessToken: string }>('POST', `${platform.urls.auth}/auth/login`, { email, password })
    ).body.accessToken;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 1 });
    for (const name of ['ann', 'bob', 'cat']) await editor(name);
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('applies an approved change to a protected environment once, however many apply it at once', async () => {
    expect((await platform.call('POST', `${platform.urls.flags}/flags`, { key: 'guarded', name: 'Guarded', type: 'boolean' })).status).toBe(
      201,
    );
    expect(
      (await platform.call('PATCH', `${platform.urls.flags}/flags/environments/production`, { protected: true, requiredApprovals: 2 }))
        .status,
    ).toBe(200);
    const direct = await as<{ code: string }>('ann', 'PATCH', `${platform.urls.flags}/flags/guarded/environments/production`, {
      enabled: true,
    });
    expect(direct.body.code).toBe('CHANGE_REQUEST_REQUIRED');

    const opened = await as<{ id: string }>('ann', 'POST', `${platform.urls.flags}/flags/guarded/environments/production/change-requests`, {
      change: { enabled: true },
    });
    expect(opened.status).toBe(201);
    const url = `${platform.urls.flags}/flags/change-requests/${opened.body.id}`;
    expect((await as('ann', 'POST', `${url}/approve`, {})).status).toBe(403);
    expect((await as('bob', 'POST', `${url}/approve`, {})).status).toBe(200);
    expect((await as('ann', 'POST', `${url}/apply`, {})).status).toBe(409);
    expect((await as('cat', 'POST', `${url}/approve`, {})).status).toBe(200);

    const applies = await Promise.all(Array.from({ length: 10 }, () => as('ann', 'POST', `${url}/apply`, {}).then((r) => r.status)));
    expect(applies.filter((s) => s === 200)).toHaveLength(1);
    expect(applies.filter((s) => s !== 200).every((s) => s === 409)).toBe(true);
    const history = await platform.call<{ items: { environment: string | null; version: number }[] }>(
      'GET',
      `${platform.urls.flags}/flags/guarded/history`,
    );
    expect(history.body.items.filter((e) => e.environment === 'production')).toHaveLength(1);

    const key = await platform.call<{ key: string }>('POST', `${platform.urls.auth}/auth/api-keys`, {
      environment: 'production',
      name: 'prod',
    });
    await until(
      async () => {
        const answer = await fetch(`${platform.evaluations[0]!.url}/ofrep/v1/evaluate/flags/guarded`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key.body.key },
          body: JSON.stringify({ context: { targetingKey: 'u' } }),
        });
        return answer.ok && ((await answer.json()) as { value: unknown }).value === true;
      },
      { limitMs: 5_000, everyMs: 50 },
    );
  }, 30_000);

  it('changes a protected environment’s rules only through a change request, which targeting checks with flags', async () => {
    // Production is protected (the test above): a rule written directly there is refused by targeting.
    const rule = { conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }], serve: { variant: 'on' } };
    const direct = await as<{ code: string }>('ann', 'POST', `${platform.urls.targeting}/targeting/rules`, {
      flagKey: 'guarded',
      environment: 'production',
      ...rule,
    });
    expect(direct.body.code).toBe('CHANGE_REQUEST_REQUIRED');
    // Nor can anyone set them by naming a request that did not approve them.
    const forged = await fetch(`${platform.urls.targeting}/targeting/rules/set`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${people.ann}`,
        'content-type': 'application/json',
        'togglemaster-change-request': '00000000-0000-4000-8000-000000000000',
      },
      body: JSON.stringify({ flagKey: 'guarded', environment: 'production', rules: [rule] }),
    });
    expect(forged.status).toBe(409);

    const opened = await as<{ id: string; diff: unknown[] }>(
      'ann',
      'POST',
      `${platform.urls.flags}/flags/guarded/environments/production/change-requests`,
      { rules: [{ name: 'Brazil', ...rule }] },
    );
    expect(opened.status).toBe(201);
    expect(opened.body.diff.length).toBeGreaterThan(0);
    const url = `${platform.urls.flags}/flags/change-requests/${opened.body.id}`;
    for (const reviewer of ['bob', 'cat']) expect((await as(reviewer, 'POST', `${url}/approve`, {})).status).toBe(200);
    const applied = await as<{ status: string }>('bob', 'POST', `${url}/apply`, {});
    expect(applied.status).toBe(200);
    expect(applied.body.status).toBe('applied');
    const rules = await platform.call<{ items: { name: string; environment: string }[] }>(
      'GET',
      `${platform.urls.targeting}/targeting/rules?flagKey=guarded&environment=production`,
    );
    expect(rules.body.items.map((r) => r.name)).toEqual(['Brazil']);
    // Replaying the applied request with other rules is refused.
    const replay = await fetch(`${platform.urls.targeting}/targeting/rules/set`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${people.ann}`, 'content-type': 'application/json', 'togglemaster-change-request': opened.body.id },
      body: JSON.stringify({ flagKey: 'guarded', environment: 'production', rules: [] }),
    });
    expect(replay.status).toBe(409);
  }, 30_000);
});
