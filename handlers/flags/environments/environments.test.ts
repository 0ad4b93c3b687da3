import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../../shared/contracts/targeting-model.ts';
import type { FlagRulesClient } from '../../../shared/clients/targeting-client.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import { createMemoryEnvironmentStore } from './environment-store.memory.ts';

describe('environments as data', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let admin: string;
  let editor: string;
  let rules: Rule[] = [];
  const environmentStore = createMemoryEnvironmentStore();
  const targeting: FlagRulesClient = {
    listRulesOfFlag: async (flagKey) => rules.filter((r) => r.flagKey === flagKey),
    listRulesIn: async (environment) => rules.filter((r) => r.environment === environment),
    deleteRule: () => Promise.reject(new Error('not asked here')),
    copyRules: () => Promise.reject(new Error('not asked here')),
    setRules: () => Promise.reject(new Error('not asked here')),
  };

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    admin = await tokenFor('admin');
    editor = await tokenFor('editor');
    ({ app } = await buildFlagsApp({
      // No auth service here: the SDK-key check of a deletion goes to a closed port and must refuse (503), not pass.
      config: testConfig({ ENVIRONMENTS: 'development,production', AUTH_URL: 'http://127.0.0.1:9' }),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      environmentStore,
      targeting,
      verifier,
    }));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>, token = admin) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload }) });
  const keys = async () => (await call('GET', '/flags/environments')).json<{ items: { key: string }[] }>().items.map((e) => e.key);

  it('seeds the table from ENVIRONMENTS on the first start only', async () => {
    expect(await keys()).toEqual(['development', 'production']);
    // A second start with other ENVIRONMENTS leaves the table as it is.
    const { verifier } = await testTokens();
    const again = await buildFlagsApp({
      config: testConfig({ ENVIRONMENTS: 'qa' }),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      environmentStore,
      targeting,
      verifier,
    });
    await again.app.close();
    expect((await environmentStore.list()).map((e) => e.key)).toEqual(['development', 'production']);
  });

  it('creates, renames, protects and orders environments (admins only); every flag has a state in a new one, off', async () => {
    const flag = await call('POST', '/flags', { key: 'checkout', name: 'Checkout', type: 'boolean' }, editor);
    expect(flag.statusCode).toBe(201);
    expect((await call('POST', '/flags/environments', { key: 'staging' }, editor)).statusCode).toBe(403);
    const created = await call('POST', '/flags/environments', { key: 'staging', name: 'Staging (EU)' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ key: 'staging', name: 'Staging (EU)', position: 2, protected: false, requiredApprovals: 1 });
    expect((await call('POST', '/flags/environments', { key: 'staging' })).statusCode).toBe(409);
    const read = (await call('GET', '/flags/checkout')).json<{ environments: Record<string, { enabled: boolean }> }>();
    expect(Object.keys(read.environments)).toEqual(['development', 'production', 'staging']);
    expect(read.environments.staging).toMatchObject({ enabled: false });

    const protectedOne = await call('PATCH', '/flags/environments/production', {
      protected: true,
      requiredApprovals: 2,
      name: 'Production',
    });
    expect(protectedOne.json()).toMatchObject({ protected: true, requiredApprovals: 2, version: 2 });
    const badOrder = await call('PUT', '/flags/environments/order', { keys: ['production', 'development'] });
    expect(badOrder.statusCode).toBe(400);
    const ordered = await call('PUT', '/flags/environments/order', { keys: ['development', 'staging', 'production'] });
    expect(ordered.json<{ items: { key: string }[] }>().items.map((e) => e.key)).toEqual(['development', 'staging', 'production']);
    expect(Object.keys((await call('GET', '/flags/checkout')).json<{ environments: object }>().environments)).toEqual([
      'development',
      'staging',
      'production',
    ]);
  });

  it('deletes an environment only when nothing lives there, naming what does', async () => {
    expect((await call('PATCH', '/flags/checkout/environments/staging', { enabled: true }, editor)).statusCode).toBe(200);
    rules = [{ id: 'r1', flagKey: 'checkout', environment: 'staging' } as Rule];
    const refused = await call('DELETE', '/flags/environments/staging');
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toMatch(
      /flags on there: checkout; targeting rules of checkout; \(auth could not be asked/,
    );
    expect((await call('PATCH', '/flags/checkout/environments/staging', { enabled: false }, editor)).statusCode).toBe(200);
    rules = [];
    // Auth cannot be asked for the SDK keys: a 503, never taken as "there are none".
    expect((await call('DELETE', '/flags/environments/staging')).statusCode).toBe(503);
    expect(await keys()).toContain('staging');
    expect((await call('DELETE', '/flags/environments/nowhere')).statusCode).toBe(404);
  });
});
