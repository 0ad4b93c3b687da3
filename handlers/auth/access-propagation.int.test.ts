import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../testing/platform.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import { until } from '../../shared/testing/until.ts';

/**
 * An admin's change to a user reaches every service: the user's next request is judged by the new role,
 * standing or project memberships, within a second, not when the token expires.
 */
describe('user access changes reach every service', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 1, overrides: { SELF_REGISTRATION: 'on' } });
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  const request = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return response.status;
  };

  /** A new account, signed in as a viewer, then given `role`: its id and its access token (which says "viewer"). */
  async function userWith(role: 'viewer' | 'editor' | 'admin', email: string): Promise<{ id: string; token: string }> {
    const password = 'correct horse battery staple';
    await fetch(`${platform.urls.auth}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const users = await platform.call<{ items: { id: string; email: string }[] }>('GET', `${platform.urls.auth}/auth/users?limit=100`);
    const id = users.body.items.find((u) => u.email === email)!.id;
    const login = await fetch(`${platform.urls.auth}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const token = ((await login.json()) as { accessToken: string }).accessToken;
    if (role !== 'viewer') expect((await platform.call('PATCH', `${platform.urls.auth}/auth/users/${id}`, { role })).status).toBe(200);
    return { id, token };
  }

  /** Polls until `attempt` answers `status`; how long that took. */
  const answers = (status: number, attempt: () => Promise<number>) => until(async () => (await attempt()) === status);

  it('a demoted editor can no longer change flags, on its next request after at most 1 s', async () => {
    const editor = await userWith('editor', 'demoted@example.com');
    const create = (key: string) => request('POST', `${platform.urls.flags}/flags`, editor.token, { key, name: key, type: 'boolean' });
    // The role raised after sign-in counts although the token says "viewer".
    await answers(201, () => create(`before-${Date.now()}`));
    expect((await platform.call('PATCH', `${platform.urls.auth}/auth/users/${editor.id}`, { role: 'viewer' })).status).toBe(200);
    expect(await answers(403, () => create(`after-${Date.now()}`))).toBeLessThan(1_000);
    expect(await request('GET', `${platform.urls.flags}/flags`, editor.token)).toBe(200);
  });

  it('a project membership granted or ended counts in that project only, on the next request after at most 1 s', async () => {
    const member = await userWith('viewer', 'member@example.com');
    expect((await platform.call('POST', `${platform.urls.flags}/flags/projects`, { key: 'payments', name: 'Payments' })).status).toBe(201);
    const flag = (key: string) => ({ key, name: key, type: 'boolean' });
    const create = (key: string) => request('POST', `${platform.urls.flags}/flags?project=payments`, member.token, flag(key));
    const membership = `${platform.urls.auth}/auth/projects/payments/members/${member.id}`;
    expect(await create(`before-${Date.now()}`)).toBe(403);
    expect((await platform.call('PUT', membership, { role: 'editor' })).status).toBe(200);
    expect(await answers(201, () => create(`granted-${Date.now()}`))).toBeLessThan(1_000);
    // An editor of payments only: the default project still takes them for the viewer they are.
    expect(await request('POST', `${platform.urls.flags}/flags`, member.token, flag(`elsewhere-${Date.now()}`))).toBe(403);
    expect((await platform.call('DELETE', membership)).status).toBe(204);
    expect(await answers(403, () => create(`ended-${Date.now()}`))).toBeLessThan(1_000);
  });

  it('a disabled admin is refused at once by auth (it cannot re-enable itself) and within 1 s by every other service', async () => {
    const admin = await userWith('admin', 'disabled-admin@example.com');
    await answers(200, () => request('GET', `${platform.urls.targeting}/targeting/segments`, admin.token));
    expect((await platform.call('PATCH', `${platform.urls.auth}/auth/users/${admin.id}`, { disabled: true })).status).toBe(200);
    expect(await request('PATCH', `${platform.urls.auth}/auth/users/${admin.id}`, admin.token, { disabled: false })).toBe(401);
    const elsewhere = await Promise.all([
      answers(401, () => request('GET', `${platform.urls.flags}/flags`, admin.token)),
      answers(401, () => request('GET', `${platform.urls.targeting}/targeting/segments`, admin.token)),
    ]);
    for (const elapsed of elsewhere) expect(elapsed).toBeLessThan(1_000);
  });
});
