import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT, generateKeyPair, decodeJwt } from 'jose';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { buildAuthApp, createAuthStore } from './auth-app.ts';
import { accountDelayMs, createLoginLimiter } from './login-limiter.ts';

// Slowing an account down starts far above the pair's limit here: the delays have tests of their own, on fake time.
const config = testConfig({
  SELF_REGISTRATION: 'on',
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000',
});
const password = 'correct horse battery';

async function setup() {
  const store = createAuthStore();
  const built = await buildAuthApp({
    config,
    logger: createLogger('silent', 'auth'),
    store,
    cache: createMemoryCache(),
    environments: async () => config.ENVIRONMENTS,
  });
  await built.service.bootstrapAdmin('admin@example.com', password);
  const token = async (email: string, pw = password) => {
    const res = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: pw } });
    return res.json<{ accessToken: string }>().accessToken;
  };
  return { ...built, store, token };
}

describe('auth service', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  it('registers a viewer, logs in and validates the token', async () => {
    const reg = await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'Ana@Example.com', password } });
    expect(reg.statusCode).toBe(202);

    const login = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'ana@example.com', password } });
    expect(login.statusCode).toBe(200);
    const body = login.json<{ accessToken: string; tokenType: string; expiresIn: number }>();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: config.ACCESS_TOKEN_TTL_SECONDS });
    expect(decodeJwt(body.accessToken)).toMatchObject({
      role: 'viewer',
      email: 'ana@example.com',
      aud: 'togglemaster',
      iss: 'togglemaster',
    });

    const validate = await ctx.app.inject({
      method: 'GET',
      url: '/auth/validate',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(validate.statusCode).toBe(200);
    expect(validate.json()).toMatchObject({ email: 'ana@example.com', role: 'viewer' });
  });

  it('answers a registration for a taken email exactly as one for a free email, and leaves the account as it was', async () => {
    const register = (email: string, pw: string) =>
      ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: pw } });
    const free = await register('taken@example.com', password);
    const taken = await register('TAKEN@example.com', 'another long password');
    expect(taken.statusCode).toBe(free.statusCode);
    expect(taken.body).toBe(free.body);
    expect(taken.headers['content-type']).toBe(free.headers['content-type']);
    const signIn = (pw: string) =>
      ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'taken@example.com', password: pw } });
    expect((await signIn(password)).statusCode).toBe(200);
    expect((await signIn('another long password')).statusCode).toBe(401);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const wrong = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'admin@example.com', password: 'nope-nope-nope' },
    });
    const unknown = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'ghost@example.com', password: 'nope-nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses an address that keeps failing on an account, even with the right password, and says when to retry', async () => {
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'guessed@example.com', password } });
    const fromStranger = (pw: string) =>
      ctx.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '203.0.113.7',
        payload: { email: 'guessed@example.com', password: pw },
      });
    for (let i = 0; i < 3; i++) expect((await fromStranger('wrong-password-x')).statusCode).toBe(401);
    const blocked = await fromStranger(password);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('lets the owner sign in from another address while a stranger keeps failing on the account', async () => {
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'owner@example.com', password } });
    for (let i = 0; i < 5; i++) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/auth/login',
        remoteAddress: '203.0.113.8',
        payload: { email: 'owner@example.com', password: 'wrong-password-x' },
      });
      expect(res.statusCode).toBe(i < 3 ? 401 : 429);
    }
    const owner = await ctx.app.inject({
      method: 'POST',
      url: '/auth/login',
      remoteAddress: '198.51.100.2',
      payload: { email: 'owner@example.com', password },
    });
    expect(owner.statusCode).toBe(200);
  });

  it('rejects a token signed by another key, with another algorithm, for another audience, or expired', async () => {
    const admin = decodeJwt(await ctx.token('admin@example.com'));
    const other = await generateKeyPair('ES256');
    const claims = { email: admin.email, role: 'admin' };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: ctx.keys.kid })
      .setSubject(admin.sub!)
      .setIssuer('togglemaster')
      .setAudience('togglemaster')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.privateKey);
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(admin.sub!)
      .setIssuer('togglemaster')
      .setAudience('togglemaster')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, sub: admin.sub, iss: 'togglemaster', aud: 'togglemaster', exp: 9e9, iat: 1 })).toString('base64url')}.`;
    const principal = { userId: admin.sub!, email: String(admin.email), role: 'admin' as const };
    const wrongAudience = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'someone-else', ttlSeconds: 300 });
    const wrongIssuer = await ctx.keys.sign(principal, { issuer: 'evil', audience: 'togglemaster', ttlSeconds: 300 });
    const expired = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'togglemaster', ttlSeconds: -30 });
    const valid = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'togglemaster', ttlSeconds: 300 });
    expect((await ctx.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${valid}` } })).statusCode).toBe(
      200,
    );
    for (const token of [forged, hs, unsigned, 'garbage', wrongAudience, wrongIssuer, expired]) {
      const res = await ctx.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode, token).toBe(401);
      expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });

  it('enforces roles on admin and editor routes', async () => {
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'viewer@example.com', password } });
    const viewer = await ctx.token('viewer@example.com');
    const none = await ctx.app.inject({ method: 'GET', url: '/auth/users' });
    expect(none.statusCode).toBe(401);
    const someId = '00000000-0000-4000-8000-000000000000';
    for (const [method, url, payload] of [
      ['GET', '/auth/users', undefined],
      ['PATCH', `/auth/users/${someId}`, { role: 'admin' }],
      ['POST', '/auth/api-keys', { environment: 'development', name: 'x' }],
      ['GET', '/auth/api-keys', undefined],
      ['DELETE', `/auth/api-keys/${someId}`, undefined],
    ] as const) {
      const res = await ctx.app.inject({ method, url, payload, headers: { authorization: `Bearer ${viewer}` } });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect((await ctx.app.inject({ method, url, payload })).statusCode, `${method} ${url} anonymous`).toBe(401);
    }
    // Editors manage SDK keys but not people.
    const admin = await ctx.token('admin@example.com');
    const users = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${admin}` } })).json<{
      items: { id: string; email: string }[];
    }>().items;
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'editor@example.com', password } });
    const editorId = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${admin}` } }))
      .json<{ items: { id: string; email: string }[] }>()
      .items.find((u) => u.email === 'editor@example.com')!.id;
    await ctx.app.inject({
      method: 'PATCH',
      url: `/auth/users/${editorId}`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { role: 'editor' },
    });
    const editor = await ctx.token('editor@example.com');
    expect((await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${editor}` } })).statusCode).toBe(
      403,
    );
    expect(
      (
        await ctx.app.inject({
          method: 'PATCH',
          url: `/auth/users/${users[0]!.id}`,
          headers: { authorization: `Bearer ${editor}` },
          payload: { role: 'viewer' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await ctx.app.inject({
          method: 'POST',
          url: '/auth/api-keys',
          headers: { authorization: `Bearer ${editor}` },
          payload: { environment: 'development', name: 'e' },
        })
      ).statusCode,
    ).toBe(201);
  });

  it('lets an admin promote a user but never remove the last admin', async () => {
    const admin = await ctx.token('admin@example.com');
    const auth = { authorization: `Bearer ${admin}` };
    const users = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: auth })).json<{
      items: { id: string; email: string }[];
    }>().items;
    const viewer = users.find((u) => u.email === 'viewer@example.com')!;
    const self = users.find((u) => u.email === 'admin@example.com')!;
    const promoted = await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${viewer.id}`, headers: auth, payload: { role: 'editor' } });
    expect(promoted.json()).toMatchObject({ role: 'editor' });
    const demoteSelf = await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${self.id}`, headers: auth, payload: { role: 'viewer' } });
    expect(demoteSelf.statusCode).toBe(409);
  });

  it('shows an API key once, never lists it, and marks it revoked', async () => {
    const auth = { authorization: `Bearer ${await ctx.token('admin@example.com')}` };
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: auth,
      payload: { environment: 'production', name: 'web' },
    });
    expect(created.statusCode).toBe(201);
    const { id, key } = created.json<{ id: string; key: string }>();
    const listed = (await ctx.app.inject({ method: 'GET', url: '/auth/api-keys', headers: auth })).json<{
      items: Record<string, unknown>[];
    }>();
    expect(listed.items.find((k) => k.id === id)).not.toHaveProperty('key');
    expect(JSON.stringify(listed)).not.toContain(key);

    expect(created.json()).toMatchObject({ environment: 'production', kind: 'server' });
    expect((await ctx.app.inject({ method: 'DELETE', url: `/auth/api-keys/${id}`, headers: auth })).statusCode).toBe(204);
    const all = (await ctx.app.inject({ method: 'GET', url: '/auth/api-keys?includeRevoked=true', headers: auth })).json<{
      items: { id: string; revokedAt: string | null }[];
    }>();
    expect(all.items.find((k) => k.id === id)?.revokedAt).not.toBeNull();
  });

  it('creates a client key, public by design and recognisable as such', async () => {
    const auth = { authorization: `Bearer ${await ctx.token('admin@example.com')}` };
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: auth,
      payload: { environment: 'production', name: 'storefront', kind: 'client' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ environment: 'production', kind: 'client' });
    expect(created.json<{ key: string }>().key).toMatch(/^tmc_/);
    const refused = await ctx.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: auth,
      payload: { environment: 'production', name: 'x', kind: 'admin' },
    });
    expect(refused.statusCode).toBe(400);
  });

  it('refuses an API key for an unknown environment', async () => {
    const auth = { authorization: `Bearer ${await ctx.token('admin@example.com')}` };
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: auth,
      payload: { environment: 'staging', name: 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ detail: string }>().detail).toContain('staging');
  });

  it('answers malformed JSON, a wrong content type, unknown fields and an oversized body with problem+json', async () => {
    const cases = [
      { payload: '{"email":', headers: { 'content-type': 'application/json' }, status: 400, code: 'MALFORMED_JSON' },
      { payload: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      {
        payload: JSON.stringify({ email: 'x@example.com', password, admin: true }),
        headers: { 'content-type': 'application/json' },
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        payload: JSON.stringify({ email: 'x@example.com', password: 'x'.repeat(300_000) }),
        headers: { 'content-type': 'application/json' },
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
    ];
    const before = await ctx.store.countUsers();
    for (const c of cases) {
      const res = await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: c.payload, headers: c.headers });
      expect(res.statusCode, c.code).toBe(c.status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: c.code, status: c.status, requestId: res.headers['x-request-id'] });
    }
    expect(await ctx.store.countUsers()).toBe(before);
  });
});

describe('login limiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Fake milliseconds until `pending` settles (the limiter's waits are timers; nothing else in it is). */
  async function fakeMsUntilSettled(pending: Promise<unknown>): Promise<number> {
    const started = Date.now();
    let settled = false;
    void pending.finally(() => (settled = true)).catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    while (!settled) await vi.advanceTimersByTimeAsync(10);
    return Date.now() - started;
  }

  function setup() {
    vi.useFakeTimers();
    // Made after the clock is faked, so the counters' windows run on fake time too.
    const cache = createMemoryCache();
    const limits = {
      maxAttemptsPerAddress: 1000,
      maxFailuresPerAccountAndAddress: 1000,
      maxFailuresPerAccount: 2,
      firstDelayMs: 1000,
      maxDelayMs: 4000,
    };
    return { cache, limiter: createLoginLimiter(cache, limits) };
  }

  it('slows an account down past its failures, doubling each time up to the cap, and still admits the owner', async () => {
    const { limiter } = setup();
    const delays: number[] = [];
    for (let failure = 0; failure < 6; failure++) {
      delays.push(await fakeMsUntilSettled(limiter.admitSignIn('ana@example.com', `203.0.113.${failure}`)));
      await limiter.recordFailure('ana@example.com');
    }
    expect(delays).toEqual([0, 0, 1000, 2000, 4000, 4000]);
    const owner = limiter.admitSignIn('ana@example.com', '198.51.100.2');
    expect(await fakeMsUntilSettled(owner)).toBe(4000);
    await expect(owner).resolves.toBeUndefined();
  });

  it('answers other accounts at once while one is slowed', async () => {
    const { limiter } = setup();
    for (let failure = 0; failure < 4; failure++) await limiter.recordFailure('ana@example.com');
    expect(await fakeMsUntilSettled(limiter.admitSignIn('bob@example.com', '203.0.113.1'))).toBe(0);
  });

  it('stops slowing an account once its failures are 15 minutes old', async () => {
    const { limiter } = setup();
    for (let failure = 0; failure < 4; failure++) await limiter.recordFailure('ana@example.com');
    await vi.advanceTimersByTimeAsync(15 * 60 * 1000);
    expect(await fakeMsUntilSettled(limiter.admitSignIn('ana@example.com', '203.0.113.1'))).toBe(0);
  });

  it('keeps the delay capped however long an attack goes on', () => {
    const limits = { maxAttemptsPerAddress: 30, maxFailuresPerAccountAndAddress: 5, maxFailuresPerAccount: 10 };
    expect(accountDelayMs(9, limits)).toBe(0);
    expect(accountDelayMs(10, limits)).toBe(1000);
    expect(accountDelayMs(1e9, limits)).toBe(10_000);
  });

  it('counts parallel guesses from one address against its limit before any of them is answered', async () => {
    const limiter = createLoginLimiter(createMemoryCache(), {
      maxAttemptsPerAddress: 1000,
      maxFailuresPerAccountAndAddress: 3,
      maxFailuresPerAccount: 1000,
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => limiter.admitSignIn('ana@example.com', '203.0.113.9')));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
  });

  it('clears the failures of the address that signs in, not those of other addresses on the account', async () => {
    vi.useFakeTimers();
    const limiter = createLoginLimiter(createMemoryCache(), {
      maxAttemptsPerAddress: 1000,
      maxFailuresPerAccountAndAddress: 2,
      maxFailuresPerAccount: 4,
    });
    for (const address of ['198.51.100.2', '198.51.100.2', '203.0.113.1', '203.0.113.1']) {
      await limiter.admitSignIn('ana@example.com', address);
      await limiter.recordFailure('ana@example.com');
    }
    await limiter.recordSuccess('ana@example.com', '198.51.100.2');
    expect(await fakeMsUntilSettled(limiter.admitSignIn('ana@example.com', '198.51.100.2'))).toBe(1000);
    await expect(limiter.admitSignIn('ana@example.com', '203.0.113.1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
