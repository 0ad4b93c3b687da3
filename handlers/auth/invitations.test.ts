import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { loadConfig, type Config } from '../../shared/config/config.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { buildAuthApp, createAuthStore } from './auth-app.ts';
import { hashInvitationToken } from './auth-service.ts';

const password = 'correct horse battery';
const adminEmail = 'admin@example.com';

interface Built {
  app: Awaited<ReturnType<typeof buildAuthApp>>['app'];
  store: ReturnType<typeof createAuthStore>;
  clock: { now: Date };
  token: (email: string, pw?: string) => Promise<string>;
  as: (token: string) => { authorization: string };
}

const opened: Built[] = [];
afterEach(async () => {
  for (const built of opened.splice(0)) await built.app.close();
});

/** Auth on the in-memory store with this configuration, an admin signed up, and a clock the test moves. */
async function setup(config: Config): Promise<Built> {
  const store = createAuthStore();
  const clock = { now: new Date('2030-01-01T00:00:00Z') };
  const built = await buildAuthApp({
    config,
    logger: createLogger('silent', 'auth'),
    store,
    cache: createMemoryCache(),
    now: () => clock.now,
  });
  await built.service.bootstrapAdmin(adminEmail, password);
  const token = async (email: string, pw = password) => {
    const res = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: pw } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ accessToken: string }>().accessToken;
  };
  const result = { app: built.app, store, clock, token, as: (t: string) => ({ authorization: `Bearer ${t}` }) };
  opened.push(result);
  return result;
}

const register = (ctx: Built, email: string, pw = password) =>
  ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: pw } });

async function invite(ctx: Built, email: string, role: 'viewer' | 'editor' | 'admin' = 'editor') {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/auth/invitations',
    headers: ctx.as(await ctx.token(adminEmail)),
    payload: { email, role },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; token: string; acceptUrl: string; email: string; role: string; expiresAt: string }>();
}

const accept = (ctx: Built, token: string, pw = 'the invitee password', extra: Record<string, unknown> = {}) =>
  ctx.app.inject({ method: 'POST', url: '/auth/invitations/accept', payload: { token, password: pw, ...extra } });

async function pending(ctx: Built): Promise<{ id: string; email: string }[]> {
  const res = await ctx.app.inject({ method: 'GET', url: '/auth/invitations', headers: ctx.as(await ctx.token(adminEmail)) });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: { id: string; email: string }[] }>().items;
}

describe('self-registration', () => {
  it('is refused by default in a process with the production configuration, with a stable code and a reason', async () => {
    const ctx = await setup(loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent' }));
    const before = await ctx.store.countUsers();
    const res = await register(ctx, 'stranger@example.com');
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(res.json<{ detail: string }>().detail).toMatch(/self-registration is turned off.*invitation/i);
    expect(await ctx.store.countUsers()).toBe(before);
    const settings = await ctx.app.inject({ method: 'GET', url: '/auth/settings' });
    expect(settings.json()).toEqual({ selfRegistration: false, selfRegistrationDomains: [] });
  });

  it('is refused when SELF_REGISTRATION is off, the same for an e-mail that has an account and one that has none', async () => {
    const ctx = await setup(testConfig({ SELF_REGISTRATION: 'off' }));
    const taken = await register(ctx, adminEmail, 'another long password');
    const free = await register(ctx, 'nobody@example.com');
    expect(taken.statusCode).toBe(403);
    expect({ ...taken.json(), requestId: undefined }).toEqual({ ...free.json(), requestId: undefined });
    expect(await ctx.store.findUserByEmail('nobody@example.com')).toBeUndefined();
  });

  it('admits only the listed e-mail domains when limited, and still answers an allowed e-mail alike whether or not it has an account', async () => {
    const ctx = await setup(testConfig({ SELF_REGISTRATION: 'on', SELF_REGISTRATION_DOMAINS: 'Example.com, corp.example.org' }));
    expect((await ctx.app.inject({ method: 'GET', url: '/auth/settings' })).json()).toEqual({
      selfRegistration: true,
      selfRegistrationDomains: ['example.com', 'corp.example.org'],
    });

    const allowed = await register(ctx, 'Ana@EXAMPLE.com');
    expect(allowed.statusCode).toBe(202);
    expect((await register(ctx, 'bo@corp.example.org')).statusCode).toBe(202);
    const takenAllowed = await register(ctx, 'ana@example.com', 'someone else guessing');
    expect(takenAllowed.statusCode).toBe(allowed.statusCode);
    expect(takenAllowed.body).toBe(allowed.body);
    expect((await ctx.store.findUserByEmail('ana@example.com'))?.role).toBe('viewer');

    // Another domain, a subdomain of a listed one, and a listed domain as a mere suffix are all refused, saying why.
    for (const email of ['eve@elsewhere.com', 'eve@eng.example.com', 'eve@notexample.com']) {
      const refused = await register(ctx, email);
      expect(refused.statusCode, email).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'FORBIDDEN', errors: [{ path: 'body/email' }] });
      expect(refused.json<{ detail: string }>().detail).toContain('@example.com, @corp.example.org');
      expect(await ctx.store.findUserByEmail(email)).toBeUndefined();
    }
  });
});

describe('invitations', () => {
  it('lets an invitee in once, with the invited role, while self-registration is off; a second acceptance is refused', async () => {
    const ctx = await setup(testConfig());
    const created = await invite(ctx, 'New.Editor@Example.com', 'editor');
    expect(created).toMatchObject({ email: 'new.editor@example.com', role: 'editor' });
    expect(created.token).toMatch(/^tmi_[A-Za-z0-9_-]{43}$/);
    // No CONSOLE_URL: the link is a path on the console's origin.
    expect(created.acceptUrl).toBe(`/console/invitations/accept?token=${created.token}`);
    expect(new Date(created.expiresAt).getTime() - ctx.clock.now.getTime()).toBe(72 * 3_600_000);

    // Listed without its token; stored only as a hash.
    const listed = await ctx.app.inject({ method: 'GET', url: '/auth/invitations', headers: ctx.as(await ctx.token(adminEmail)) });
    expect(listed.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([created.id]);
    expect(listed.body).not.toContain(created.token);
    const stored = await ctx.store.findInvitationByTokenHash(hashInvitationToken(created.token));
    expect(stored?.id).toBe(created.id);
    expect(JSON.stringify(stored)).not.toContain(created.token);

    const first = await accept(ctx, created.token, 'the invitee password', { name: 'Nina' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ email: 'new.editor@example.com', role: 'editor', name: 'Nina', disabled: false });
    expect(first.json()).not.toHaveProperty('passwordHash');
    const signedIn = await ctx.app.inject({
      method: 'GET',
      url: '/auth/validate',
      headers: ctx.as(await ctx.token('new.editor@example.com', 'the invitee password')),
    });
    expect(signedIn.json()).toMatchObject({ email: 'new.editor@example.com', role: 'editor' });

    const second = await accept(ctx, created.token, 'somebody else password');
    expect(second.statusCode).toBe(409);
    expect(second.json<{ code: string; detail: string }>()).toMatchObject({
      code: 'CONFLICT',
      detail: expect.stringMatching(/already used/) as unknown,
    });
    expect((await ctx.store.findUserByEmail('new.editor@example.com'))?.name).toBe('Nina');
    expect(await pending(ctx)).toEqual([]);
  });

  it('refuses an invitation past its expiry, and no longer lists it', async () => {
    const ctx = await setup(testConfig({ INVITATION_TTL_HOURS: '24' }));
    const created = await invite(ctx, 'late@example.com');
    ctx.clock.now = new Date(ctx.clock.now.getTime() + 24 * 3_600_000 - 1);
    expect((await pending(ctx)).map((i) => i.email)).toEqual(['late@example.com']);
    ctx.clock.now = new Date(ctx.clock.now.getTime() + 1);
    const res = await accept(ctx, created.token);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringMatching(/expired/) as unknown });
    expect(await ctx.store.findUserByEmail('late@example.com')).toBeUndefined();
    expect(await pending(ctx)).toEqual([]);
  });

  it('refuses a revoked invitation; revoking again is fine, revoking an accepted one is a conflict', async () => {
    const ctx = await setup(testConfig());
    const admin = ctx.as(await ctx.token(adminEmail));
    const revoked = await invite(ctx, 'withdrawn@example.com');
    expect((await ctx.app.inject({ method: 'DELETE', url: `/auth/invitations/${revoked.id}`, headers: admin })).statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/auth/invitations/${revoked.id}`, headers: admin })).statusCode).toBe(204);
    const res = await accept(ctx, revoked.token);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringMatching(/withdrawn/) as unknown });
    expect(await ctx.store.findUserByEmail('withdrawn@example.com')).toBeUndefined();

    const used = await invite(ctx, 'used@example.com');
    expect((await accept(ctx, used.token)).statusCode).toBe(201);
    const late = await ctx.app.inject({ method: 'DELETE', url: `/auth/invitations/${used.id}`, headers: admin });
    expect(late.statusCode).toBe(409);
    const missing = await ctx.app.inject({
      method: 'DELETE',
      url: '/auth/invitations/00000000-0000-4000-8000-000000000000',
      headers: admin,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('answers an unknown or malformed token with a 4xx, never creating an account', async () => {
    const ctx = await setup(testConfig());
    const before = await ctx.store.countUsers();
    const unknown = await accept(ctx, 'tmi_not-a-real-token');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND', detail: expect.stringMatching(/not valid/) as unknown });
    expect((await accept(ctx, '')).statusCode).toBe(400);
    const created = await invite(ctx, 'short@example.com');
    const short = await accept(ctx, created.token, 'short');
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await ctx.store.countUsers()).toBe(before);
    // A refused attempt does not use the invitation up.
    expect((await accept(ctx, created.token)).statusCode).toBe(201);
  });

  it('lets only admins invite, list and revoke', async () => {
    const ctx = await setup(testConfig());
    for (const role of ['viewer', 'editor'] as const) {
      const created = await invite(ctx, `${role}@example.com`, role);
      expect((await accept(ctx, created.token, password)).statusCode).toBe(201);
    }
    const someId = '00000000-0000-4000-8000-000000000000';
    for (const role of ['viewer', 'editor'] as const) {
      const headers = ctx.as(await ctx.token(`${role}@example.com`));
      for (const [method, url, payload] of [
        ['POST', '/auth/invitations', { email: 'friend@example.com', role: 'admin' }],
        ['GET', '/auth/invitations', undefined],
        ['DELETE', `/auth/invitations/${someId}`, undefined],
      ] as const) {
        const res = await ctx.app.inject({ method, url, payload, headers });
        expect(res.statusCode, `${role} ${method} ${url}`).toBe(403);
        expect((await ctx.app.inject({ method, url, payload })).statusCode, `anonymous ${method} ${url}`).toBe(401);
      }
    }
    expect(await pending(ctx)).toEqual([]);
  });

  it('refuses to invite an e-mail that has an account, and one whose account appeared meanwhile cannot accept', async () => {
    const ctx = await setup(testConfig({ SELF_REGISTRATION: 'on' }));
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/invitations',
      headers: ctx.as(await ctx.token(adminEmail)),
      payload: { email: 'ADMIN@example.com', role: 'viewer' },
    });
    expect(res.statusCode).toBe(409);
    const created = await invite(ctx, 'quick@example.com', 'admin');
    expect((await register(ctx, 'quick@example.com')).statusCode).toBe(202);
    const refused = await accept(ctx, created.token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CONFLICT', detail: expect.stringMatching(/already exists/) as unknown });
    expect((await ctx.store.findUserByEmail('quick@example.com'))?.role).toBe('viewer');
  });

  it('makes a new invitation of the same e-mail replace the open one', async () => {
    const ctx = await setup(testConfig());
    const first = await invite(ctx, 'twice@example.com', 'viewer');
    const second = await invite(ctx, 'twice@example.com', 'editor');
    expect((await pending(ctx)).map((i) => i.id)).toEqual([second.id]);
    expect((await accept(ctx, first.token)).statusCode).toBe(403);
    expect((await accept(ctx, second.token)).json()).toMatchObject({ role: 'editor' });
  });

  it('answers an absolute link when CONSOLE_URL is set', async () => {
    const ctx = await setup(testConfig({ CONSOLE_URL: 'https://flags.example.com/' }));
    const created = await invite(ctx, 'linked@example.com');
    expect(created.acceptUrl).toBe(`https://flags.example.com/console/invitations/accept?token=${created.token}`);
  });

  it('counts acceptances against the caller’s address like sign-ups', async () => {
    const ctx = await setup(testConfig({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '3' }));
    const attempt = () =>
      ctx.app.inject({
        method: 'POST',
        url: '/auth/invitations/accept',
        remoteAddress: '203.0.113.50',
        payload: { token: 'tmi_guess', password },
      });
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(404);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
