import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Credential } from '../../shared/clients/service-client.ts';
import { createTargetingClient, type FlagRulesClient } from '../../shared/clients/targeting-client.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { AppError } from '../../shared/http/problem.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { freePort } from '../../shared/testing/free-port.ts';
import { callAs } from '../../shared/testing/inject.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore } from './flags-app.ts';

type FlagBody = { version: number; environments: Record<string, unknown> };
type HistoryBody = { items: { action: string; environment: string | null; cause?: unknown; version: number }[] };

describe("copying a flag's environment state (POST /flags/{key}/environments/{environment}/copy)", () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let tokens: Record<UserRole, string>;
  const copied: { input: { flagKey: string; from: string; to: string }; credential: Credential }[] = [];
  /** What the fake targeting does when asked to copy: answer, refuse, or let something else happen first. */
  let onCopy: () => Promise<void> = async () => {};
  const targeting: FlagRulesClient = {
    listRulesOfFlag: async () => [],
    listRulesIn: async () => [],
    deleteRule: async () => {},
    setRules: () => Promise.reject(new Error('not asked here')),
    async copyRules(input, credential) {
      await onCopy();
      copied.push({ input, credential });
      return [];
    },
  };
  const call = callAs(
    () => app,
    () => tokens,
  );
  const flag = async (key = 'checkout') => (await call('viewer', { method: 'GET', url: `/flags/${key}` })).json<FlagBody>();
  const history = async (key = 'checkout') =>
    (await call('viewer', { method: 'GET', url: `/flags/${key}/history` })).json<HistoryBody>().items;
  const copy = (from: string, options: { key?: string; to?: string; ifMatch?: string; role?: UserRole } = {}) =>
    call(options.role ?? 'editor', {
      method: 'POST',
      url: `/flags/${options.key ?? 'checkout'}/environments/${options.to ?? 'production'}/copy`,
      payload: { from },
      ...(options.ifMatch ? { headers: { 'if-match': options.ifMatch } } : {}),
    });
  const staging = {
    enabled: true,
    offVariant: 'old',
    defaultServe: {
      rollout: [
        { variant: 'old', weight: 80 },
        { variant: 'new', weight: 20 },
      ],
    },
    prerequisites: [{ flagKey: 'gate', variant: 'on' }],
  };

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    tokens = { viewer: await tokenFor('viewer'), editor: await tokenFor('editor'), admin: await tokenFor('admin') };
    ({ app } = await buildFlagsApp({
      config: testConfig({ ENVIRONMENTS: 'development,staging,production' }),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      verifier,
      targeting,
    }));
    for (const payload of [
      { key: 'gate', name: 'Gate', type: 'boolean', environments: { staging: { enabled: true } } },
      {
        key: 'checkout',
        name: 'Checkout',
        type: 'string',
        variants: [
          { key: 'old', value: 'old' },
          { key: 'new', value: 'new' },
        ],
        environments: { staging },
      },
      { key: 'retired', name: 'Retired', type: 'boolean' },
    ]) {
      const res = await call('editor', { method: 'POST', url: '/flags', payload });
      expect(res.statusCode, res.body).toBe(201);
    }
    const archived = await call('editor', { method: 'DELETE', url: '/flags/retired' });
    expect(archived.statusCode, archived.body).toBeLessThan(300);
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    copied.length = 0;
    onCopy = async () => {};
  });

  it("writes the source's state, after targeting copied the rules with the caller's credential, as one audit entry naming the copy", async () => {
    const before = await flag();
    const res = await copy('staging', { ifMatch: `"${before.version}"` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe(`"${before.version + 1}"`);
    expect(res.json<FlagBody>().environments.production).toEqual(staging);
    expect((await flag()).environments).toEqual({ ...before.environments, production: staging });
    expect(copied).toEqual([{ input: { flagKey: 'checkout', from: 'staging', to: 'production' }, credential: { bearer: tokens.editor } }]);
    const entries = await history();
    expect(entries.length).toBe(2);
    expect(entries[0]).toMatchObject({
      action: 'environment-updated',
      environment: 'production',
      cause: { copiedFrom: 'staging' },
      version: before.version + 1,
    });
  });

  it('refuses a stale If-Match with 412, asking targeting nothing and writing nothing', async () => {
    const before = await flag();
    const res = await copy('development', { ifMatch: `"${before.version - 1}"` });
    expect(res.statusCode, res.body).toBe(412);
    expect(copied).toEqual([]);
    expect(await flag()).toEqual(before);
  });

  it('refuses an archived flag with 409, asking targeting nothing', async () => {
    const res = await copy('staging', { key: 'retired' });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json<{ detail: string }>().detail).toContain('archived');
    expect(copied).toEqual([]);
  });

  it('refuses an unknown environment, a copy onto itself, a state that is not valid there, and viewers, before asking targeting', async () => {
    expect((await copy('staging', { to: 'qa' })).statusCode).toBe(404);
    for (const [from, to] of [
      ['qa', 'production'],
      ['production', 'production'],
    ]) {
      const res = await copy(from!, { to: to! });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/from' }] });
    }
    expect((await copy('staging', { role: 'viewer' })).statusCode).toBe(403);
    expect((await copy('staging', { key: 'nope' })).statusCode).toBe(404);
    // gate needs checkout in development: copying a state where checkout needs gate there would close a loop.
    const gate = await call('editor', {
      method: 'PATCH',
      url: '/flags/gate/environments/development',
      payload: { prerequisites: [{ flagKey: 'checkout', variant: 'new' }] },
    });
    expect(gate.statusCode, gate.body).toBe(200);
    const loop = await copy('staging', { to: 'development' });
    expect(loop.statusCode, loop.body).toBe(400);
    expect(loop.json<{ detail: string }>().detail).toContain('cycle');
    expect(copied).toEqual([]);
    const undone = await call('editor', { method: 'PATCH', url: '/flags/gate/environments/development', payload: { prerequisites: [] } });
    expect(undone.statusCode, undone.body).toBe(200);
  });

  it('writes nothing when targeting refuses or does not answer, passing its answer on', async () => {
    const before = await flag();
    const entries = await history();
    onCopy = () =>
      Promise.reject(
        new AppError('VALIDATION_FAILED', 'The targeting service refused: The rule does not fit: body/to is not an environment', {
          errors: [{ path: 'body/to', message: 'is not an environment' }],
        }),
      );
    const refused = await copy('development');
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json<{ detail: string }>().detail).toContain('targeting service refused');
    onCopy = () => Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'The targeting service does not answer'));
    expect((await copy('development')).statusCode).toBe(503);
    expect(await flag()).toEqual(before);
    expect(await history()).toEqual(entries);
  });

  it('says the rules were already copied when the flag changed between the two writes (409), and a second copy completes it', async () => {
    const before = await flag();
    // Someone turns development off while targeting copies the rules.
    onCopy = async () => {
      onCopy = async () => {};
      const meanwhile = await call('editor', {
        method: 'PATCH',
        url: '/flags/checkout/environments/development',
        payload: { enabled: false },
      });
      expect(meanwhile.statusCode, meanwhile.body).toBe(200);
    };
    const split = await copy('staging', { to: 'development', ifMatch: `"${before.version}"` });
    expect(split.statusCode, split.body).toBe(409);
    expect(split.json<{ detail: string }>().detail).toMatch(
      /rules of staging were already copied to development \(targeting's history records it\), but development's state was not written/,
    );
    expect(copied).toHaveLength(1);
    const again = await copy('staging', { to: 'development' });
    expect(again.statusCode, again.body).toBe(200);
    expect((await flag()).environments.development).toEqual(staging);
  });
});

describe("the targeting client's copy of rules", () => {
  let server: Server;
  let answer: { status: number; body: string } = { status: 200, body: '{"items":[]}' };
  const requests: { method: string | undefined; url: string | undefined; authorization: string | undefined; body: string }[] = [];
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const input = { flagKey: 'checkout', from: 'staging', to: 'production' };

  it('PUTs {flagKey, from, to} to /targeting/rules/copy with the bearer token and answers the rules', async () => {
    answer = { status: 200, body: JSON.stringify({ items: [{ id: 'r1', environment: 'production' }] }) };
    expect(await createTargetingClient(baseUrl).copyRules(input, { bearer: 'the-token' })).toEqual([
      { id: 'r1', environment: 'production' },
    ]);
    expect(requests.at(-1)).toEqual({
      method: 'PUT',
      url: '/targeting/rules/copy',
      authorization: 'Bearer the-token',
      body: JSON.stringify(input),
    });
  });

  it("passes targeting's refusal on as the same problem, and anything else as 503", async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        code: 'VALIDATION_FAILED',
        detail: 'The rule does not fit: body/flagKey names an archived flag ("checkout"): restore it first',
        errors: [{ path: 'body/flagKey', message: 'names an archived flag' }],
      }),
    };
    await expect(createTargetingClient(baseUrl).copyRules(input, { bearer: 't' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('The targeting service refused: The rule does not fit') as unknown,
      errors: [{ path: 'body/flagKey', message: 'names an archived flag' }],
    });
    for (const bad of [
      { status: 403, body: '{}', code: 'FORBIDDEN' },
      { status: 500, body: '{"code":"INTERNAL","detail":"x"}', code: 'SERVICE_UNAVAILABLE' },
      { status: 404, body: 'not json', code: 'SERVICE_UNAVAILABLE' },
      { status: 200, body: '{"rules":[]}', code: 'SERVICE_UNAVAILABLE' },
    ]) {
      answer = bad;
      await expect(createTargetingClient(baseUrl).copyRules(input, { bearer: 't' }), JSON.stringify(bad)).rejects.toMatchObject({
        code: bad.code,
      });
    }
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await expect(createTargetingClient(nobody).copyRules(input, { bearer: 't' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
