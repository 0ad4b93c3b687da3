import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RulesChangeRequest } from '../../shared/clients/flags-client.ts';
import type { RuleSpec } from '../../shared/contracts/targeting-model.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { fixedFlags, flagDocument } from '../../shared/testing/flags-client.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildTargetingApp, createTargetingStore } from './targeting-app.ts';

describe('rules in a protected environment', () => {
  let app: Awaited<ReturnType<typeof buildTargetingApp>>['app'];
  let token: string;
  const requests = new Map<string, RulesChangeRequest>();
  const rule: RuleSpec = {
    name: 'Brazil',
    conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
    segments: [],
    serve: { variant: 'on' },
  };
  const approved = (id: string, closedAt: Date, rules = [rule]) =>
    requests.set(id, {
      kind: 'rules',
      status: 'applied',
      flagKey: 'checkout',
      environment: 'production',
      rules,
      closedAt: closedAt.toISOString(),
    });

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildTargetingApp({
      config: testConfig(),
      logger: createLogger('silent', 'targeting'),
      store: createTargetingStore(),
      flags: fixedFlags([flagDocument('checkout')], { protectedEnvironments: ['production'], changeRequests: requests }),
      verifier,
    }));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload ? { payload } : {}) });
  const set = (rules: object[], changeRequestId?: string) =>
    call(
      'PUT',
      '/targeting/rules/set',
      { flagKey: 'checkout', environment: 'production', rules },
      changeRequestId ? { 'togglemaster-change-request': changeRequestId } : {},
    );

  it('refuses direct writes there, and takes them elsewhere', async () => {
    const direct = await call('POST', '/targeting/rules', { flagKey: 'checkout', environment: 'production', ...rule });
    expect(direct.statusCode).toBe(409);
    expect(direct.json()).toMatchObject({ code: 'CHANGE_REQUEST_REQUIRED' });
    expect((await set([rule])).json()).toMatchObject({ code: 'CHANGE_REQUEST_REQUIRED' });
    expect((await call('POST', '/targeting/rules', { flagKey: 'checkout', environment: 'development', ...rule })).statusCode).toBe(201);
  });

  it('sets exactly the rules a change request approved, applied just now', async () => {
    approved('00000000-0000-4000-8000-000000000001', new Date());
    const applied = await set([rule], '00000000-0000-4000-8000-000000000001');
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ items: [{ name: 'Brazil', environment: 'production', priority: 0 }] });
    // Other rules than those approved, a request applied long ago, one not applied, or none at all: refused.
    expect((await set([], '00000000-0000-4000-8000-000000000001')).statusCode).toBe(409);
    approved('00000000-0000-4000-8000-000000000002', new Date(Date.now() - 5 * 60_000));
    expect((await set([rule], '00000000-0000-4000-8000-000000000002')).statusCode).toBe(409);
    requests.set('00000000-0000-4000-8000-000000000003', { ...requests.get('00000000-0000-4000-8000-000000000001')!, status: 'approved' });
    expect((await set([rule], '00000000-0000-4000-8000-000000000003')).statusCode).toBe(409);
    expect((await set([rule], '00000000-0000-4000-8000-000000000009')).statusCode).toBe(409);
    expect((await call('GET', '/targeting/rules?flagKey=checkout&environment=production')).json<{ items: unknown[] }>().items).toHaveLength(
      1,
    );
  });
});
