import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../shared/clients/service-client.ts';
import { createTargetingClient, type FlagRulesClient } from '../../shared/clients/targeting-client.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { AppError } from '../../shared/http/problem.ts';
import { freePort } from '../../shared/testing/free-port.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { createFlagStore, buildFlagsApp } from './flags-app.ts';
import { flagsApiContract } from './flags-api.contract.ts';
import { flagsArchiveContract } from './archive.contract.ts';

flagsApiContract('flags API on the in-memory store', async () => {
  const store = createFlagStore();
  return {
    store,
    snapshot: async () => ({ flags: await store.list({ limit: 1000 }), edges: await store.prerequisiteEdges() }),
    close: async () => {},
  };
});

flagsArchiveContract('archiving flags on the in-memory store', async () => ({ store: createFlagStore(), close: async () => {} }));

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
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier }));
  });
  afterAll(async () => {
    await app.close();
  });

  type Refusal = { code: string; errors: { path: string; message: string }[] };
  const create = (key: string, values: unknown[]) =>
    app.inject({
      method: 'POST',
      url: '/flags',
      headers: { authorization: `Bearer ${token}` },
      payload: { key, name: key, type: 'json', variants: values.map((value, i) => ({ key: `v${i}`, value })) },
    });

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
      const res = await app.inject({
        method: 'POST',
        url: '/flags',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload,
      });
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
    expect((await app.inject({ method: 'GET', url: '/flags/too-large', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(
      404,
    );
  });
});

describe('putting a flag back as GET answered it', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let token: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store: createFlagStore(), verifier }));
    const created = await app.inject({
      method: 'POST',
      url: '/flags',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        key: 'edited',
        name: 'Edited',
        type: 'string',
        variants: [
          { key: 'a', value: 'A' },
          { key: 'b', value: 'B' },
        ],
        tags: ['web'],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
  });
  afterAll(async () => {
    await app.close();
  });

  const get = async () => {
    const res = await app.inject({ method: 'GET', url: '/flags/edited', headers: { authorization: `Bearer ${token}` } });
    return res.json<Record<string, unknown>>();
  };
  const put = (payload: Record<string, unknown>) =>
    app.inject({ method: 'PUT', url: '/flags/edited', headers: { authorization: `Bearer ${token}` }, payload });

  it('accepts the document unchanged, read-only fields and all, and applies the edit made to it', async () => {
    const document = await get();
    expect(Object.keys(document)).toEqual(expect.arrayContaining(['key', 'salt', 'version', 'environments', 'createdAt', 'updatedAt']));
    const same = await put(document);
    expect(same.statusCode, same.body).toBe(200);
    const edited = await put({ ...(await get()), name: 'Edited again', description: 'now with a description' });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({
      key: 'edited',
      name: 'Edited again',
      description: 'now with a description',
      salt: document.salt,
      createdAt: document.createdAt,
    });
  });

  it('ignores what the service keeps for itself: the version, the timestamps and the environments (changed by their own route)', async () => {
    const document = await get();
    const res = await put({
      ...document,
      version: 99,
      createdAt: '2000-01-01T00:00:00.000Z',
      updatedAt: '2000-01-01T00:00:00.000Z',
      environments: {},
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      version: (document.version as number) + 1,
      createdAt: document.createdAt,
      environments: document.environments,
    });
  });

  it('keeps a flag hidden from client-side SDKs unless marked, and a PUT that omits the setting leaves it as it is', async () => {
    expect((await get()).clientVisible).toBe(false);
    const marked = await put({ ...(await get()), clientVisible: true });
    expect(marked.json()).toMatchObject({ clientVisible: true });
    // A client written before the setting existed sends the definition without it: the flag stays visible.
    const { clientVisible: _omitted, ...older } = await get();
    expect((await put(older)).json()).toMatchObject({ clientVisible: true });
    expect((await put({ ...(await get()), clientVisible: false })).json()).toMatchObject({ clientVisible: false });
  });

  it('refuses a changed key or salt with 400 naming it, and changes nothing', async () => {
    const document = await get();
    for (const [field, value] of [
      ['key', 'another-flag'],
      ['salt', 'fresh-salt'],
    ] as const) {
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

describe('removing variants that targeting rules still serve', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let token: string;
  let rules: Rule[] = [];
  let targetingDown = false;
  const asked: { flagKey: string; credential: Credential }[] = [];
  const targeting: FlagRulesClient = {
    async listRulesOfFlag(flagKey, credential) {
      asked.push({ flagKey, credential });
      if (targetingDown) throw new AppError('SERVICE_UNAVAILABLE', 'The targeting service does not answer');
      return rules.filter((r) => r.flagKey === flagKey);
    },
    deleteRule: () => Promise.reject(new Error('not asked here')),
    listRulesIn: () => Promise.reject(new Error('not asked here')),
    copyRules: () => Promise.reject(new Error('not asked here')),
    setRules: () => Promise.reject(new Error('not asked here')),
  };
  const rule = (id: string, environment: string, name: string, serve: Rule['serve']): Rule => ({
    id,
    flagKey: 'colours',
    environment,
    priority: 0,
    name,
    conditions: [],
    segments: [],
    serve,
  });
  const variants = (...keys: string[]) => keys.map((key) => ({ key, value: key }));

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildFlagsApp({
      config: testConfig(),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      verifier,
      targeting,
    }));
    const created = await call('POST', '/flags', {
      key: 'colours',
      name: 'Colours',
      type: 'string',
      variants: variants('red', 'green', 'blue'),
    });
    expect(created.statusCode, created.body).toBe(201);
  });
  afterAll(async () => {
    await app.close();
  });

  function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
    return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  }
  const keep = (...keys: string[]) => call('PUT', '/flags/colours', { name: 'Colours', type: 'string', variants: variants(...keys) });
  const variantKeys = async () => (await call('GET', '/flags/colours')).json<{ variants: { key: string }[] }>().variants.map((v) => v.key);

  it('refuses with 409 naming, per environment, each rule that serves a removed variant, alone or in a split', async () => {
    rules = [
      rule('11111111-1111-4111-8111-111111111111', 'production', 'Beta gets green', { variant: 'green' }),
      rule('22222222-2222-4222-8222-222222222222', 'development', '', {
        rollout: [
          { variant: 'red', weight: 50 },
          { variant: 'blue', weight: 50 },
        ],
      }),
      rule('33333333-3333-4333-8333-333333333333', 'production', 'Everyone else', { variant: 'red' }),
    ];
    const res = await keep('red');
    expect(res.statusCode, res.body).toBe(409);
    const { detail } = res.json<{ code: string; detail: string }>();
    expect(res.json()).toMatchObject({ code: 'CONFLICT' });
    expect(detail).toMatch(/production: rule "Beta gets green" \(11111111-[^)]*\) serves "green"/);
    expect(detail).toMatch(/development: rule 22222222-[0-9a-f-]* serves "blue" in a split/);
    expect(detail).not.toContain('Everyone else');
    expect(await variantKeys()).toEqual(['red', 'green', 'blue']);
  });

  it('asks targeting for the rules of this flag in every environment, with the caller’s own token', async () => {
    asked.length = 0;
    await keep('red', 'green');
    expect(asked).toEqual([{ flagKey: 'colours', credential: { bearer: token } }]);
  });

  it('accepts removing a variant no rule serves, and does not ask when nothing is removed', async () => {
    rules = [rule('11111111-1111-4111-8111-111111111111', 'production', 'Beta gets green', { variant: 'green' })];
    const res = await keep('red', 'green');
    expect(res.statusCode, res.body).toBe(200);
    expect(await variantKeys()).toEqual(['red', 'green']);
    asked.length = 0;
    expect((await keep('red', 'green', 'blue')).statusCode).toBe(200);
    expect(asked).toEqual([]);
  });

  it('answers 503, removing nothing, when targeting cannot say which rules there are', async () => {
    targetingDown = true;
    try {
      const res = await keep('red');
      expect(res.statusCode, res.body).toBe(503);
      expect(await variantKeys()).toEqual(['red', 'green', 'blue']);
    } finally {
      targetingDown = false;
    }
  });
});

describe('the targeting client the flags service uses', () => {
  let server: Server;
  let answer: { status: number; body: string } = { status: 200, body: '{"items":[]}' };
  const requests: { url: string; authorization: string | undefined; method?: string | undefined }[] = [];
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({
        url: req.url ?? '',
        authorization: req.headers.authorization,
        ...(req.method === 'GET' ? {} : { method: req.method }),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("lists a flag's rules in every environment: by flagKey, with no environment, passing the bearer token on", async () => {
    answer = { status: 200, body: JSON.stringify({ items: [{ id: 'r1', flagKey: 'colours', environment: 'production' }] }) };
    const rules = await createTargetingClient(baseUrl).listRulesOfFlag('colours', { bearer: 'the-token' });
    expect(rules).toEqual([{ id: 'r1', flagKey: 'colours', environment: 'production' }]);
    expect(requests.at(-1)).toEqual({ url: '/targeting/rules?flagKey=colours', authorization: 'Bearer the-token' });
  });

  it('deletes a rule by its id with the bearer token (one already gone is fine), and says 503 when targeting does not', async () => {
    answer = { status: 204, body: '' };
    await createTargetingClient(baseUrl).deleteRule('r1', { bearer: 'the-token' });
    expect(requests.at(-1)).toEqual({ url: '/targeting/rules/r1', authorization: 'Bearer the-token', method: 'DELETE' });
    answer = { status: 404, body: '{}' };
    await expect(createTargetingClient(baseUrl).deleteRule('r1', { bearer: 't' })).resolves.toBeUndefined();
    for (const [status, code] of [
      [500, 'SERVICE_UNAVAILABLE'],
      [403, 'FORBIDDEN'],
    ] as const) {
      answer = { status, body: '{}' };
      await expect(createTargetingClient(baseUrl).deleteRule('r1', { bearer: 't' }), String(status)).rejects.toMatchObject({ code });
    }
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await expect(createTargetingClient(nobody).deleteRule('r1', { bearer: 't' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('never reads "no answer" as "no rules": a 404, a 5xx, a body that is not a list, or nobody listening is 503', async () => {
    for (const bad of [
      { status: 404, body: '{}' },
      { status: 500, body: '{}' },
      { status: 200, body: '{"rules":[]}' },
      { status: 200, body: 'not json' },
    ]) {
      answer = bad;
      await expect(createTargetingClient(baseUrl).listRulesOfFlag('colours', { bearer: 't' }), JSON.stringify(bad)).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
    }
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await expect(createTargetingClient(nobody).listRulesOfFlag('colours', { bearer: 't' })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
  });
});
