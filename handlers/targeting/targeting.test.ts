import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/http/problem.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { fixedFlags, flagDocument } from '../../shared/testing/flags-client.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildTargetingApp, createTargetingStore } from './targeting-app.ts';
import { targetingApiContract } from './targeting-api.contract.ts';

targetingApiContract('targeting API on the in-memory store', async () => {
  const store = createTargetingStore();
  return {
    store,
    snapshot: async () => ({ rules: await store.listRules({}), segments: await store.listSegments() }),
    close: async () => {},
  };
});

describe('putting a rule or a segment back as GET answered it', () => {
  let app: Awaited<ReturnType<typeof buildTargetingApp>>['app'];
  let token: string;
  let ruleId: string;
  const checkout = flagDocument('checkout', {
    type: 'string',
    variants: [
      { key: 'old', value: 'old' },
      { key: 'new', value: 'new' },
    ],
  });

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildTargetingApp({
      config: testConfig(),
      logger: createLogger('silent', 'targeting'),
      store: createTargetingStore(),
      flags: fixedFlags([checkout, flagDocument('other')]),
      verifier,
    }));
    const segment = await call('POST', '/targeting/segments', { key: 'beta', name: 'Beta', included: ['u-1'] });
    expect(segment.statusCode, segment.body).toBe(201);
    const rule = await call('POST', '/targeting/rules', {
      flagKey: 'checkout',
      environment: 'production',
      name: 'Beta gets new',
      conditions: [],
      segments: ['beta'],
      serve: { variant: 'new' },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    ruleId = rule.json<{ id: string }>().id;
  });
  afterAll(async () => {
    await app.close();
  });

  function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) {
    return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  }
  const read = async (url: string) => (await call('GET', url)).json<Record<string, unknown>>();

  it('answers 400, not 500, to a match whose context nests deeper than JSON values may', async () => {
    const deep = `${'{"a":'.repeat(5_000)}"x"${'}'.repeat(5_000)}`;
    const res = await app.inject({
      method: 'POST',
      url: '/targeting/match',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: `{"flagKey":"checkout","environment":"production","context":{"targetingKey":"u-1","deep":${deep}}}`,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/context' }] });
  });

  it('accepts a rule unchanged, read-only fields and all, and applies the edit made to it', async () => {
    const document = await read(`/targeting/rules/${ruleId}`);
    expect(Object.keys(document)).toEqual(expect.arrayContaining(['id', 'flagKey', 'environment', 'priority', 'createdAt', 'updatedAt']));
    const same = await call('PUT', `/targeting/rules/${ruleId}`, document);
    expect(same.statusCode, same.body).toBe(200);
    const edited = await call('PUT', `/targeting/rules/${ruleId}`, {
      ...(await read(`/targeting/rules/${ruleId}`)),
      name: 'Renamed',
      serve: { variant: 'old' },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({
      id: ruleId,
      flagKey: 'checkout',
      environment: 'production',
      name: 'Renamed',
      serve: { variant: 'old' },
    });
  });

  it("refuses a rule's changed id, flag or environment with 400 naming it, and changes nothing", async () => {
    const document = await read(`/targeting/rules/${ruleId}`);
    for (const [field, value] of [
      ['id', '00000000-0000-4000-8000-000000000000'],
      ['flagKey', 'other'],
      ['environment', 'development'],
    ] as const) {
      const res = await call('PUT', `/targeting/rules/${ruleId}`, { ...document, [field]: value });
      expect(res.statusCode, field).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: `body/${field}` }] });
    }
    expect(await read(`/targeting/rules/${ruleId}`)).toEqual(document);
  });

  it('accepts a segment unchanged, read-only fields and all, and refuses a changed key with 400 naming it', async () => {
    const document = await read('/targeting/segments/beta');
    expect(Object.keys(document)).toEqual(expect.arrayContaining(['key', 'version', 'createdAt', 'updatedAt']));
    const same = await call('PUT', '/targeting/segments/beta', document);
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json()).toMatchObject({ key: 'beta', version: (document.version as number) + 1 });
    const renamed = await call('PUT', '/targeting/segments/beta', { ...(await read('/targeting/segments/beta')), key: 'gamma' });
    expect(renamed.statusCode).toBe(400);
    expect(renamed.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/key' }] });
    expect((await call('GET', '/targeting/segments/gamma')).statusCode).toBe(404);
  });

  it('still refuses a field no rule or segment has, naming it once', async () => {
    for (const url of [`/targeting/rules/${ruleId}`, '/targeting/segments/beta']) {
      const res = await call('PUT', url, { ...(await read(url)), owner: 'me' });
      expect(res.statusCode, url).toBe(400);
      expect(res.json<{ errors: unknown[] }>().errors).toEqual([{ path: 'body', message: 'has unknown field(s): owner' }]);
    }
  });
});

describe('the match answer', () => {
  it('carries the whole explanation the engine gives: every prerequisite, rule, condition (with the value it read) and segment', async () => {
    const { verifier, tokenFor } = await testTokens();
    const token = await tokenFor('editor');
    const gated = {
      enabled: true,
      offVariant: 'off',
      defaultServe: { variant: 'on' },
      prerequisites: [
        { flagKey: 'gate', variant: 'on' },
        { flagKey: 'ghost', variant: 'on' },
      ],
    };
    const flags = fixedFlags([flagDocument('checkout', { environments: { production: gated } }), flagDocument('gate')]);
    const { app, service } = await buildTargetingApp({
      config: testConfig(),
      logger: createLogger('silent', 'targeting'),
      store: createTargetingStore(),
      flags,
      verifier,
    });
    try {
      const call = (url: string, payload: object) =>
        app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload });
      expect((await call('/targeting/segments', { key: 'beta', name: 'Beta', included: ['u-1'] })).statusCode).toBe(201);
      const conditions = [
        { attribute: 'country', operator: 'in', values: ['BR'] },
        { attribute: 'plan', operator: 'eq', values: ['pro'], negate: true },
      ];
      expect(
        (
          await call('/targeting/rules', {
            flagKey: 'checkout',
            environment: 'production',
            name: 'r',
            conditions,
            segments: ['beta'],
            serve: { variant: 'on' },
          })
        ).statusCode,
      ).toBe(201);

      const input = { flagKey: 'checkout', environment: 'production', context: { targetingKey: 'u-1', country: 'BR' } };
      const res = await call('/targeting/match', input);
      expect(res.statusCode, res.body).toBe(200);
      const { result, ...explanation } = await service.match(input, { bearer: token }, 'default');
      // Serialized with the route's schema, the answer loses nothing the service said.
      expect(res.json()).toEqual(JSON.parse(JSON.stringify({ result, explanation })));
      expect(res.json()).toMatchObject({
        result: { flagKey: 'checkout', variant: 'off', reason: 'DISABLED' },
        explanation: {
          prerequisites: [
            { flagKey: 'gate', variant: 'on', served: 'off', met: false },
            { flagKey: 'ghost', variant: 'on', met: false },
          ],
          rules: [
            {
              matched: true,
              conditions: [
                { attribute: 'country', operator: 'in', negate: false, held: true, actual: 'BR' },
                { attribute: 'plan', operator: 'eq', negate: true, held: true },
              ],
              segments: [{ key: 'beta', held: true }],
            },
          ],
        },
      });
    } finally {
      await app.close();
    }
  });
});

describe('the rules of an archived flag', () => {
  let app: Awaited<ReturnType<typeof buildTargetingApp>>['app'];
  let token: string;
  let ruleId: string;
  const flags = new Map([['retired', flagDocument('retired')]]);
  // Archived while serving "on" everywhere: were it still known, a flag needing "on" from it would get it.
  const serving = { enabled: true, offVariant: 'off', defaultServe: { variant: 'on' }, prerequisites: [] };
  const archived = (key: string) =>
    flagDocument(key, {
      environments: { development: serving, production: serving },
      archivedAt: new Date().toISOString(),
      archivedBy: { userId: 'u-1', email: 'editor@example.com' },
    });

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    token = await tokenFor('editor');
    ({ app } = await buildTargetingApp({
      config: testConfig(),
      logger: createLogger('silent', 'targeting'),
      store: createTargetingStore(),
      flags: { ...fixedFlags([]), getFlag: async (key) => flags.get(key) },
      verifier,
    }));
    const rule = await call('POST', '/targeting/rules', {
      flagKey: 'retired',
      environment: 'production',
      conditions: [],
      serve: { variant: 'on' },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    ruleId = rule.json<{ id: string }>().id;
    flags.set('retired', archived('retired'));
  });
  afterAll(async () => {
    await app.close();
  });

  function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) {
    return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  }

  it('refuses new rules, rule edits and matches for an archived flag with 400 saying it is archived', async () => {
    const attempts = [
      call('POST', '/targeting/rules', { flagKey: 'retired', environment: 'production', conditions: [], serve: { variant: 'on' } }),
      call('PUT', `/targeting/rules/${ruleId}`, { conditions: [], serve: { variant: 'off' } }),
      call('POST', '/targeting/match', { flagKey: 'retired', environment: 'production', context: { targetingKey: 'u-1' } }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/flagKey' }] });
      expect(res.json<{ detail: string }>().detail).toContain('archived flag ("retired")');
    }
  });

  it('lets its rules be listed and deleted (what a purge of the flag does)', async () => {
    const listed = await call('GET', '/targeting/rules?flagKey=retired');
    expect(listed.json<{ items: { id: string }[] }>().items.map((r) => r.id)).toEqual([ruleId]);
    expect((await call('DELETE', `/targeting/rules/${ruleId}`)).statusCode).toBe(204);
    expect((await call('GET', '/targeting/rules?flagKey=retired')).json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('matches a flag whose prerequisite is archived as evaluation does: the prerequisite is unknown', async () => {
    const state = {
      enabled: true,
      offVariant: 'off',
      defaultServe: { variant: 'on' },
      prerequisites: [{ flagKey: 'retired', variant: 'on' }],
    };
    flags.set('follower', flagDocument('follower', { environments: { development: state, production: state } }));
    const res = await call('POST', '/targeting/match', {
      flagKey: 'follower',
      environment: 'production',
      context: { targetingKey: 'u-1' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      result: { variant: 'off', reason: 'DISABLED' },
      explanation: { prerequisites: [{ flagKey: 'retired', met: false }] },
    });
  });
});

describe('the project of a flag, as the flags service tells it', () => {
  let app: Awaited<ReturnType<typeof buildTargetingApp>>['app'];
  const tokens: Record<string, string> = {};
  const flags = new Map([['gone', flagDocument('gone', { project: 'alpha' })]]);

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    tokens.viewer = await tokenFor('viewer');
    tokens.alphaEditor = await tokenFor('viewer', 'eve@example.com', '00000000-0000-4000-8000-0000000000a2', { alpha: 'editor' });
    ({ app } = await buildTargetingApp({
      config: testConfig(),
      logger: createLogger('silent', 'targeting'),
      store: createTargetingStore(),
      flags: {
        ...fixedFlags([]),
        // The flags service refuses a flag of a project the caller has no role in (403), as its own route does.
        async getFlag(key) {
          if (key === 'hidden') throw new AppError('FORBIDDEN', 'The flags service refused: not allowed');
          if (key === 'unreachable') throw new AppError('SERVICE_UNAVAILABLE', 'The flags service does not answer');
          return flags.get(key);
        },
      },
      verifier,
    }));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (who: string | null, method: 'GET' | 'POST', url: string, payload?: object | string) =>
    app.inject({
      method,
      url,
      headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { payload }),
    });

  it('refuses a flag the flags service will not show the caller, saying so', async () => {
    for (const res of [
      await call('viewer', 'GET', '/targeting/rules?flagKey=hidden'),
      await call('viewer', 'GET', '/targeting/history?flagKey=hidden'),
      await call('viewer', 'POST', '/targeting/match', { flagKey: 'hidden', environment: 'production', context: {} }),
    ]) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json<{ detail: string }>().detail).toBe("You have no role in the flag's project");
    }
    expect((await call('viewer', 'GET', '/targeting/rules?flagKey=unreachable')).statusCode).toBe(503);
  });

  it('judges who the caller is before the body, and the flag it names before the rest of the body is validated', async () => {
    expect((await call(null, 'POST', '/targeting/rules', '{"not": "a rule"')).statusCode).toBe(401);
    // An editor nowhere is refused before the body is read.
    expect((await call('viewer', 'POST', '/targeting/rules', { flagKey: 'gone' })).statusCode).toBe(403);
    const invalid = await call('alphaEditor', 'POST', '/targeting/rules', { flagKey: 'gone', environment: 'production' });
    expect(invalid.statusCode, invalid.body).toBe(400);
    // A flag of another project: refused for who they are, whatever else the body holds.
    const elsewhere = await call('alphaEditor', 'POST', '/targeting/rules', { flagKey: 'hidden', owner: 'me' });
    expect(elsewhere.statusCode).toBe(403);
  });

  it("keeps a purged flag's rule history its project's", async () => {
    const rule = await call('alphaEditor', 'POST', '/targeting/rules', {
      flagKey: 'gone',
      environment: 'production',
      conditions: [],
      serve: { variant: 'on' },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    flags.delete('gone');
    const history = await call('alphaEditor', 'GET', '/targeting/history?flagKey=gone');
    expect(history.statusCode, history.body).toBe(200);
    expect(history.json<{ items: { action: string; project: string }[] }>().items).toMatchObject([{ action: 'created', project: 'alpha' }]);
    const refused = await call('viewer', 'GET', '/targeting/history?flagKey=gone');
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toBe('You have no role in project alpha');
    // Its rules are nobody's to read once the flag is gone.
    expect((await call('alphaEditor', 'GET', '/targeting/rules?flagKey=gone')).json()).toEqual({ items: [] });
    expect((await call('alphaEditor', 'GET', `/targeting/rules/${rule.json<{ id: string }>().id}`)).statusCode).toBe(404);
  });
});
