import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../shared/testing/redis-server.ts';
import { startPlatformWithAws } from '../handlers/testing/platform.ts';
import type { StartedService } from '../shared/runtime/service.ts';

/**
 * Projects keep teams apart: a viewer of project `alpha` (and an SDK key of `alpha`) cannot read anything of project
 * `beta`. Every route of every service is probed, taken from the services' own OpenAPI documents, so that a route
 * added later is probed too: its path parameters must be named below, or this test fails and says which. And a
 * project is deleted only once the services that hold its things say nothing is left.
 */
describe('project isolation, every route probed', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let stack: Awaited<ReturnType<typeof startPlatformWithAws>>;
  let analytics: StartedService;
  const urls: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const sdkKeys: Record<string, string> = {};
  /** Strings only project beta's things hold: none may reach alpha's viewer or alpha's SDK key. */
  const betaMarkers = ['beta-flag', 'beta-segment', 'beta-key', 'beta-hook', 'Beta team', 'beta rule', 'turn it on'];
  /** What an answer holds of beta that the request did not name itself (a 404 may say which key it did not find). */
  const leaked = (answer: string, request: string) => betaMarkers.filter((m) => answer.includes(m) && !request.includes(m));

  const send = async (token: string, method: string, url: string, body?: unknown, header = 'authorization') => {
    const response = await fetch(url, {
      method,
      headers: {
        [header]: header === 'authorization' ? `Bearer ${token}` : token,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5_000),
    });
    let text = '';
    try {
      text = await response.text();
    } catch {
      // An event stream is cut by the timeout: what it sent so far is read below only if it ended.
    }
    return { status: response.status, text };
  };
  const admin = (method: string, url: string, body?: unknown) => send(tokens.admin!, method, url, body);
  const expectStatus = async (call: Promise<{ status: number; text: string }>, status: number) => {
    const { status: got, text } = await call;
    expect(got, text).toBe(status);
    return JSON.parse(text || 'null') as Record<string, unknown>;
  };

  /** A user invited with `role` as their account role, signed in. */
  async function person(name: string, role: 'viewer' | 'editor'): Promise<void> {
    const email = `${name}@example.com`;
    const invited = JSON.parse((await admin('POST', `${urls.auth}/auth/invitations`, { email, role })).text) as { token: string };
    const password = `${name}-long-password`;
    await expectStatus(send('', 'POST', `${urls.auth}/auth/invitations/accept`, { token: invited.token, password }), 201);
    const login = JSON.parse((await send('', 'POST', `${urls.auth}/auth/login`, { email, password })).text) as { accessToken: string };
    tokens[name] = login.accessToken;
    const users = JSON.parse((await admin('GET', `${urls.auth}/auth/users?limit=100`)).text) as { items: { id: string; email: string }[] };
    ids[name] = users.items.find((u) => u.email === email)!.id;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await startPlatformWithAws({ redisUrl: redis.url, overrides: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' } });
    const { platform } = stack;
    analytics = await platform.startService('analytics');
    Object.assign(urls, platform.urls, { evaluation: platform.evaluations[0]!.url, analytics: analytics.url });
    tokens.admin = platform.adminToken;

    for (const [key, name] of [
      ['alpha', 'Alpha team'],
      ['beta', 'Beta team'],
    ])
      await expectStatus(admin('POST', `${urls.flags}/flags/projects`, { key, name }), 201);
    await person('alice', 'viewer');
    await person('bruno', 'editor');
    await expectStatus(admin('PUT', `${urls.auth}/auth/projects/alpha/members/${ids.alice}`, { role: 'viewer' }), 200);
    await expectStatus(admin('PUT', `${urls.auth}/auth/projects/beta/members/${ids.bruno}`, { role: 'admin' }), 200);

    // Project beta holds one of everything.
    await expectStatus(admin('POST', `${urls.flags}/flags?project=beta`, { key: 'beta-flag', name: 'Beta flag', type: 'boolean' }), 201);
    await expectStatus(admin('POST', `${urls.flags}/flags?project=alpha`, { key: 'alpha-flag', name: 'Alpha flag', type: 'boolean' }), 201);
    await expectStatus(
      admin('POST', `${urls.targeting}/targeting/segments?project=beta`, {
        key: 'beta-segment',
        name: 'Beta segment',
        included: ['beta-user'],
      }),
      201,
    );
    const rule = await expectStatus(
      admin('POST', `${urls.targeting}/targeting/rules`, {
        flagKey: 'beta-flag',
        environment: 'production',
        name: 'beta rule',
        conditions: [{ attribute: 'targetingKey', operator: 'in_segment', values: ['beta-segment'] }],
        serve: { variant: 'on' },
      }),
      201,
    );
    ids.rule = String(rule.id);
    for (const project of ['alpha', 'beta']) {
      const created = await expectStatus(
        admin('POST', `${urls.auth}/auth/api-keys?project=${project}`, { environment: 'production', name: `${project}-key` }),
        201,
      );
      sdkKeys[project] = String(created.key);
      if (project === 'beta') ids.apiKey = String(created.id);
    }
    const hook = await expectStatus(
      admin('POST', `${urls.flags}/webhooks?project=beta`, {
        name: 'beta-hook',
        url: 'http://127.0.0.1:9/beta-hook',
        events: ['flag.*'],
      }),
      201,
    );
    ids.webhook = String(hook.id);
    const schedule = await expectStatus(
      admin('POST', `${urls.flags}/flags/beta-flag/environments/development/schedules`, {
        runAt: new Date(Date.now() + 86_400_000).toISOString(),
        change: { enabled: true },
      }),
      201,
    );
    ids.schedule = String(schedule.id);
    const plan = await expectStatus(
      admin('POST', `${urls.flags}/flags/beta-flag/environments/development/release-plans`, {
        milestones: [
          { serve: { variant: 'on' }, holdSeconds: 3_600 },
          { serve: { variant: 'off' }, holdSeconds: 3_600 },
        ],
      }),
      201,
    );
    ids.plan = String(plan.id);
    await expectStatus(admin('PATCH', `${urls.flags}/flags/environments/production`, { protected: true }), 200);
    const request = await expectStatus(
      send(tokens.bruno!, 'POST', `${urls.flags}/flags/beta-flag/environments/production/change-requests`, {
        description: 'turn it on',
        change: { enabled: true },
      }),
      201,
    );
    ids.changeRequest = String(request.id);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  /** Every operation of every service, as its OpenAPI document states it. */
  async function operations() {
    const found: { service: string; method: string; path: string; query: { name: string; required: boolean }[]; apiKey: boolean }[] = [];
    for (const service of ['auth', 'flags', 'targeting', 'evaluation', 'analytics']) {
      const document = JSON.parse((await send('', 'GET', `${urls[service]}/docs/${service}/json`)).text) as {
        paths: Record<
          string,
          Record<
            string,
            { parameters?: { in: string; name: string; required?: boolean; schema?: { default?: unknown } }[]; security?: object[] }
          >
        >;
      };
      for (const [path, methods] of Object.entries(document.paths))
        for (const [method, operation] of Object.entries(methods)) {
          // A parameter with a default is not the caller's to send, whatever `required` says.
          const query = (operation.parameters ?? [])
            .filter((p) => p.in === 'query')
            .map((p) => ({ name: p.name, required: !!p.required && p.schema?.default === undefined }));
          const apiKey = (operation.security ?? []).some((s) => 'apiKey' in s) || path.startsWith('/ofrep') || path.startsWith('/sdk');
          found.push({ service, method: method.toUpperCase(), path, query, apiKey });
        }
    }
    return found;
  }

  /** What each path parameter names in project beta (by the path it appears in). */
  function pathValue(path: string, parameter: string): string | undefined {
    const values: Record<string, string | undefined> = {
      key: path.startsWith('/targeting/segments') ? 'beta-segment' : 'beta-flag',
      environment: 'production',
      project: 'beta',
      userId: ids.bruno,
      action: 'approve',
      deliveryId: '1',
      id: path.startsWith('/flags/change-requests')
        ? ids.changeRequest
        : path.includes('/schedules/')
          ? ids.schedule
          : path.includes('/release-plans/')
            ? ids.plan
            : path.startsWith('/webhooks')
              ? ids.webhook
              : path.startsWith('/targeting/rules')
                ? ids.rule
                : path.startsWith('/auth/api-keys')
                  ? ids.apiKey
                  : // Organisation-level: a user, an invitation (an admin's; alice is refused by her role).
                    ids.bruno,
    };
    return values[parameter];
  }

  const queryValues: Record<string, string> = {
    project: 'beta',
    flagKey: 'beta-flag',
    environment: 'production',
    limit: '10',
  };

  function urlOf(operation: Awaited<ReturnType<typeof operations>>[number], extra: Record<string, string> = {}): string {
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = pathValue(operation.path, name);
      if (value === undefined) throw new Error(`${operation.method} ${operation.path}: name what {${name}} is in project beta here`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const { name, required } of operation.query) {
      const value = extra[name] ?? queryValues[name];
      if (value !== undefined) query.set(name, value);
      else if (required) throw new Error(`${operation.method} ${operation.path}: give ?${name}= a value in project beta`);
    }
    const search = query.toString();
    return `${urls[operation.service]}${path}${search ? `?${search}` : ''}`;
  }

  /** Reads that are POSTs, with a body that reads project beta (its admin is answered 2xx with it). */
  const readBodies: Record<string, unknown> = {
    'POST /targeting/match': { flagKey: 'beta-flag', environment: 'production', context: { targetingKey: 'beta-user' } },
    'POST /analytics/query': { flagKey: 'beta-flag', environment: 'production' },
  };

  /** Routes anyone may call, or that are the organisation's (not a project's): their answers must still hold nothing of beta. */
  const organisationLevel = new Set([
    'POST /auth/login',
    'POST /auth/register',
    'GET /auth/settings',
    'GET /auth/.well-known/jwks.json',
    'GET /auth/validate',
    'POST /auth/invitations/accept',
    'GET /flags/projects',
    'GET /flags/environments',
    'GET /flags/release-plan-templates',
  ]);

  it('lists routes from the OpenAPI documents, each naming project beta', async () => {
    const all = await operations();
    expect(all.length).toBeGreaterThan(60);
    // An event stream's token is taken from alpha's bulk answer, below.
    for (const operation of all) expect(() => urlOf(operation, operation.apiKey ? { token: 'from-the-bulk-answer' } : {})).not.toThrow();
  });

  it('answers beta’s project admin on every read (so the probe below reads real things)', async () => {
    for (const operation of await operations()) {
      const name = `${operation.method} ${operation.path}`;
      if (operation.apiKey || organisationLevel.has(name)) continue;
      if (operation.method !== 'GET' && !(name in readBodies)) continue;
      // Org-admin-only reads (users, invitations) are not a project's: bruno is refused them, as alice is.
      if (operation.path.startsWith('/auth/users') || operation.path.startsWith('/auth/invitations')) continue;
      const answer = await send(tokens.bruno!, operation.method, urlOf(operation), readBodies[name]);
      expect(answer.status, `${name}: ${answer.text}`).toBeLessThan(300);
    }
  });

  it('gives a viewer of alpha nothing of beta, on any route', async () => {
    for (const operation of await operations()) {
      if (operation.apiKey) continue;
      const name = `${operation.method} ${operation.path}`;
      const url = urlOf(operation);
      const answer = await send(tokens.alice!, operation.method, url, readBodies[name]);
      expect(answer.status, `${name}: ${answer.text}`).toBeLessThan(500);
      expect(leaked(answer.text, url + JSON.stringify(readBodies[name] ?? '')), `${name} answered alice: ${answer.text}`).toEqual([]);
      if (organisationLevel.has(name)) continue;
      // Refused for who she is (or the thing is not there for her): never let through to validation or the handler.
      expect([401, 403, 404], `${name}: ${answer.status} ${answer.text}`).toContain(answer.status);
    }
  });

  it('gives an SDK key of alpha nothing of beta, on any evaluation route', async () => {
    const context = { context: { targetingKey: 'beta-user' } };
    const bulk = await send(sdkKeys.alpha!, 'POST', `${urls.evaluation}/ofrep/v1/evaluate/flags`, context, 'x-api-key');
    expect(bulk.text).toContain('alpha-flag');
    const stream = (JSON.parse(bulk.text) as { eventStreams?: { endpoint?: { requestUri?: string } }[] }).eventStreams?.[0]?.endpoint
      ?.requestUri;
    expect(stream).toBeDefined();
    const token = stream ? new URL(stream, urls.evaluation).searchParams.get('token') : null;
    for (const operation of await operations()) {
      if (!operation.apiKey) continue;
      const name = `${operation.method} ${operation.path}`;
      const body = operation.method === 'GET' ? undefined : context;
      const url = urlOf(operation, { flagKey: 'beta-flag', key: 'beta-flag', ...(token ? { token } : {}) });
      const answer = await send(sdkKeys.alpha!, operation.method, url, body, 'x-api-key');
      expect(answer.status, `${name}: ${answer.text}`).toBeLessThan(500);
      expect(leaked(answer.text, url), `${name} answered alpha's key: ${answer.text}`).toEqual([]);
    }
    // The flag is unknown to alpha's key, exactly as a flag that does not exist; beta's own key evaluates it.
    const single = await send(sdkKeys.alpha!, 'POST', `${urls.evaluation}/ofrep/v1/evaluate/flags/beta-flag`, context, 'x-api-key');
    expect(single.status).toBe(404);
    expect(JSON.parse(single.text)).toMatchObject({ key: 'beta-flag', errorCode: 'FLAG_NOT_FOUND' });
    const own = await send(sdkKeys.beta!, 'POST', `${urls.evaluation}/ofrep/v1/evaluate/flags/beta-flag`, context, 'x-api-key');
    expect(own.status, own.text).toBe(200);
  });
  it('deletes a project only once nothing is left in it, asking targeting and auth', async () => {
    await expectStatus(admin('POST', `${urls.flags}/flags/projects`, { key: 'gamma', name: 'Gamma' }), 201);
    await expectStatus(admin('POST', `${urls.targeting}/targeting/segments?project=gamma`, { key: 'gamma-segment', name: 'G' }), 201);
    await expectStatus(admin('PUT', `${urls.auth}/auth/projects/gamma/members/${ids.alice}`, { role: 'viewer' }), 200);
    const refused = await expectStatus(admin('DELETE', `${urls.flags}/flags/projects/gamma`), 409);
    expect(refused.detail).toContain('segments: gamma-segment');
    expect(refused.detail).toContain('members: alice@example.com');
    await expectStatus(admin('DELETE', `${urls.targeting}/targeting/segments/gamma-segment`), 204);
    await expectStatus(admin('DELETE', `${urls.auth}/auth/projects/gamma/members/${ids.alice}`), 204);
    await expectStatus(admin('DELETE', `${urls.flags}/flags/projects/gamma`), 204);
    await expectStatus(admin('GET', `${urls.flags}/flags/projects/gamma`), 404);
  });
});
