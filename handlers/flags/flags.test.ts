import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { createFlagStore, buildFlagsApp } from './flags-app.ts';
import { flagsApiContract } from './flags-api.contract.ts';

flagsApiContract('flags API on the in-memory store', async () => {
  const store = createFlagStore();
  return {
    store,
    snapshot: async () => ({ flags: await store.list({ limit: 1000 }), edges: await store.prerequisiteEdges() }),
    close: async () => {},
  };
});

/** `{ "a": { "a": … 1 … } }`, `levels` objects deep, built without recursion. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe('json flag values', () => {
  const store = createFlagStore();
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let token: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier, sdkKeys: fixedSdkKeys({}) }));
  });
  afterAll(async () => {
    await app.close();
  });

  type Refusal = { code: string; errors: { path: string; message: string }[] };
  const create = (key: string, values: unknown[]) =>
    app.inject({ method: 'POST', url: '/flags', headers: { authorization: `Bearer ${token}` }, payload: { key, name: key, type: 'json', variants: values.map((value, i) => ({ key: `v${i}`, value })) } });

  it('accepts JSON objects, nested up to 32 levels and up to 32 KiB written out', async () => {
    const res = await create('objects', [{}, { limits: [1, 2], nested: { on: true } }, nested(32), { text: 'x'.repeat(32 * 1024 - 20) }]);
    expect(res.statusCode, res.body).toBe(201);
  });

  it('refuses arrays, null and scalars as json variants (OFREP carries objects), naming the variant', async () => {
    for (const value of [[1, 2], null, 'text', 42, true]) {
      const res = await create('not-objects', [{ ok: true }, value]);
      expect(res.statusCode, JSON.stringify(value)).toBe(400);
      const refusal = res.json<Refusal>();
      expect(refusal).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/variants/1/value' }] });
      expect(refusal.errors[0]?.message).toContain('must be a JSON object');
    }
  });

  it('refuses a json variant nested deeper than 32 levels, however deep, naming the variant', async () => {
    for (const levels of [33, 2_000, 20_000]) {
      // Written out by hand: JSON.stringify itself runs out of stack on the deepest of these.
      const value = `${'{"a":'.repeat(levels - 1)}{"leaf":1}${'}'.repeat(levels - 1)}`;
      const payload = `{"key":"too-deep","name":"too-deep","type":"json","variants":[{"key":"v0","value":${value}}]}`;
      const res = await app.inject({ method: 'POST', url: '/flags', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload });
      expect(res.statusCode, `${levels} levels`).toBe(400);
      const refusal = res.json<Refusal>();
      expect(refusal).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/variants/0/value' }] });
      expect(refusal.errors[0]?.message).toContain('deeper than 32 levels');
    }
  });

  it('refuses a json variant larger than 32 KiB written out, naming the variant', async () => {
    const res = await create('too-large', [{ small: 1 }, { text: 'x'.repeat(32 * 1024) }]);
    expect(res.statusCode).toBe(400);
    const refusal = res.json<Refusal>();
    expect(refusal).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/variants/1/value' }] });
    expect(refusal.errors[0]?.message).toContain('larger than 32 KiB');
    expect((await app.inject({ method: 'GET', url: '/flags/too-large', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(404);
  });
});

describe('putting a flag back as GET answered it', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let token: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store: createFlagStore(), verifier, sdkKeys: fixedSdkKeys({}) }));
    const created = await app.inject({ method: 'POST', url: '/flags', headers: { authorization: `Bearer ${token}` }, payload: { key: 'edited', name: 'Edited', type: 'string', variants: [{ key: 'a', value: 'A' }, { key: 'b', value: 'B' }], tags: ['web'] } });
    expect(created.statusCode, created.body).toBe(201);
  });
  afterAll(async () => {
    await app.close();
  });

  const get = async () => {
    const res = await app.inject({ method: 'GET', url: '/flags/edited', headers: { authorization: `Bearer ${token}` } });
    return res.json<Record<string, unknown>>();
  };
  const put = (payload: Record<string, unknown>) => app.inject({ method: 'PUT', url: '/flags/edited', headers: { authorization: `Bearer ${token}` }, payload });

  it('accepts the document unchanged, read-only fields and all, and applies the edit made to it', async () => {
    const document = await get();
    expect(Object.keys(document)).toEqual(expect.arrayContaining(['key', 'salt', 'version', 'environments', 'createdAt', 'updatedAt']));
    const same = await put(document);
    expect(same.statusCode, same.body).toBe(200);
    const edited = await put({ ...(await get()), name: 'Edited again', description: 'now with a description' });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ key: 'edited', name: 'Edited again', description: 'now with a description', salt: document.salt, createdAt: document.createdAt });
  });

  it('ignores what the service keeps for itself: the version, the timestamps and the environments (changed by their own route)', async () => {
    const document = await get();
    const res = await put({ ...document, version: 99, createdAt: '2000-01-01T00:00:00.000Z', updatedAt: '2000-01-01T00:00:00.000Z', environments: {} });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ version: (document.version as number) + 1, createdAt: document.createdAt, environments: document.environments });
  });

  it('refuses a changed key or salt with 400 naming it, and changes nothing', async () => {
    const document = await get();
    for (const [field, value] of [['key', 'another-flag'], ['salt', 'fresh-salt']] as const) {
      const res = await put({ ...document, [field]: value });
      expect(res.statusCode, field).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: `body/${field}` }] });
    }
    expect(await get()).toEqual(document);
  });

  it('still refuses a field no flag has, naming it once', async () => {
    const res = await put({ ...(await get()), owner: 'me' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errors: [{ path: 'body', message: 'has unknown field(s): owner' }] });
    expect(res.json<{ errors: unknown[] }>().errors).toHaveLength(1);
  });
});
