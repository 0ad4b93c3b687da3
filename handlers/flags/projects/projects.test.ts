import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagRulesClient } from '../../../shared/clients/targeting-client.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';

describe('projects in the flags service', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  const tokens: Record<string, string> = {};
  const targeting: FlagRulesClient = {
    listRulesOfFlag: async () => [],
    listRulesIn: async () => [],
    deleteRule: () => Promise.reject(new Error('not asked here')),
    copyRules: () => Promise.reject(new Error('not asked here')),
    setRules: () => Promise.reject(new Error('not asked here')),
  };

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    tokens.admin = await tokenFor('admin');
    // Account roles are roles in the default project; other projects only by membership.
    tokens.viewer = await tokenFor('viewer', 'viewer@example.com', '00000000-0000-4000-8000-000000000010', {});
    tokens.editor = await tokenFor('editor', 'editor@example.com', '00000000-0000-4000-8000-000000000011', {});
    tokens.payments = await tokenFor('viewer', 'pay@example.com', '00000000-0000-4000-8000-000000000012', { payments: 'editor' });
    tokens.paymentsAdmin = await tokenFor('viewer', 'payadmin@example.com', '00000000-0000-4000-8000-000000000013', { payments: 'admin' });
    ({ app } = await buildFlagsApp({
      config: testConfig({ ENVIRONMENTS: 'development,production', AUTH_URL: 'http://127.0.0.1:9', TARGETING_URL: 'http://127.0.0.1:9' }),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      targeting,
      verifier,
    }));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, who: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload === undefined ? {} : { payload }) });
  const keysOf = (res: { json: <T>() => T }) => res.json<{ items: { key: string }[] }>().items.map((i) => i.key);

  it('lets an organisation admin create a project, and lists each caller the projects they hold a role in', async () => {
    expect((await call('POST', '/flags/projects', 'editor', { key: 'payments', name: 'Payments' })).statusCode).toBe(403);
    const created = await call('POST', '/flags/projects', 'admin', { key: 'payments', name: 'Payments', description: 'The payments team' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'payments', name: 'Payments', role: 'admin' });
    expect((await call('POST', '/flags/projects', 'admin', { key: 'payments', name: 'Again' })).statusCode).toBe(409);
    expect(keysOf(await call('GET', '/flags/projects', 'admin'))).toEqual(['default', 'payments']);
    expect(keysOf(await call('GET', '/flags/projects', 'viewer'))).toEqual(['default']);
    const mine = (await call('GET', '/flags/projects', 'payments')).json<{ items: { key: string; role: string }[] }>().items;
    expect(mine).toEqual([
      expect.objectContaining({ key: 'default', role: 'viewer' }),
      expect.objectContaining({ key: 'payments', role: 'editor' }),
    ]);
    expect((await call('GET', '/flags/projects/payments', 'viewer')).statusCode).toBe(403);
    expect((await call('GET', '/flags/projects/payments', 'payments')).statusCode).toBe(200);
    expect((await call('PATCH', '/flags/projects/payments', 'payments', { name: 'Pay' })).statusCode).toBe(403);
    expect((await call('PATCH', '/flags/projects/payments', 'paymentsAdmin', { name: 'Pay' })).json()).toMatchObject({ name: 'Pay' });
  });

  it('creates a flag in the project named by ?project=, and keeps it from those without a role there', async () => {
    expect(
      (await call('POST', '/flags?project=payments', 'editor', { key: 'pay-fast', name: 'Pay fast', type: 'boolean' })).statusCode,
    ).toBe(403);
    const created = await call('POST', '/flags?project=payments', 'payments', { key: 'pay-fast', name: 'Pay fast', type: 'boolean' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ key: 'pay-fast', project: 'payments' });
    expect((await call('POST', '/flags', 'editor', { key: 'home-banner', name: 'Banner', type: 'boolean' })).json()).toMatchObject({
      project: 'default',
    });
    expect((await call('POST', '/flags?project=nowhere', 'admin', { key: 'x', name: 'X', type: 'boolean' })).statusCode).toBe(404);

    // The original paths mean the default project.
    expect(keysOf(await call('GET', '/flags', 'viewer'))).toEqual(['home-banner']);
    expect(keysOf(await call('GET', '/flags?project=payments', 'payments'))).toEqual(['pay-fast']);
    for (const who of ['viewer', 'editor']) {
      expect((await call('GET', '/flags?project=payments', who)).statusCode).toBe(403);
      expect((await call('GET', '/flags/pay-fast', who)).statusCode).toBe(403);
      expect((await call('GET', '/flags/pay-fast/history', who)).statusCode).toBe(403);
      expect((await call('PATCH', '/flags/pay-fast/environments/production', who, { enabled: true })).statusCode).toBe(403);
    }
    expect((await call('PATCH', '/flags/pay-fast/environments/production', 'payments', { enabled: true })).statusCode).toBe(200);
    // A flag that is not there is a 404 for anyone who could hold the role somewhere, whatever the project.
    expect((await call('GET', '/flags/not-there', 'viewer')).statusCode).toBe(404);
    // The project is fixed at creation.
    const flag = (await call('GET', '/flags/pay-fast', 'payments')).json<Record<string, unknown>>();
    const moved = await call('PUT', '/flags/pay-fast', 'payments', { ...flag, project: 'default' });
    expect(moved.statusCode).toBe(400);
  });

  it('does not let a flag name another project’s flag as a prerequisite', async () => {
    const res = await call('PATCH', '/flags/home-banner/environments/production', 'admin', {
      prerequisites: [{ flagKey: 'pay-fast', variant: 'on' }],
    });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('names no flag');
  });

  it('deletes only an empty project, and never the default one', async () => {
    expect((await call('DELETE', '/flags/projects/default', 'admin')).statusCode).toBe(409);
    expect((await call('DELETE', '/flags/projects/payments', 'paymentsAdmin')).statusCode).toBe(403);
    const refused = await call('DELETE', '/flags/projects/payments', 'admin');
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toContain('flags: pay-fast');
    expect((await call('DELETE', '/flags/projects/nowhere', 'admin')).statusCode).toBe(404);
  });
});
