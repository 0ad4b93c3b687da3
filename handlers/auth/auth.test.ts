import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, decodeJwt } from 'jose';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { buildAuthApp, createAuthStore } from './auth-app.ts';

const config = testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000' });
const password = 'correct horse battery';

async function setup() {
  const store = createAuthStore();
  const built = await buildAuthApp({ config, logger: createLogger('silent', 'auth'), store, cache: createMemoryCache() });
  await built.service.bootstrapAdmin('admin@example.com', password);
  const token = async (email: string, pw = password) => {
    const res = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: pw } });
    return (res.json<{ accessToken: string }>()).accessToken;
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
    expect(reg.statusCode).toBe(201);
    expect(reg.json()).toMatchObject({ email: 'ana@example.com', role: 'viewer' });
    expect(reg.json()).not.toHaveProperty('passwordHash');

    const login = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'ana@example.com', password } });
    expect(login.statusCode).toBe(200);
    const body = login.json<{ accessToken: string; tokenType: string; expiresIn: number }>();
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: config.ACCESS_TOKEN_TTL_SECONDS });
    expect(decodeJwt(body.accessToken)).toMatchObject({ role: 'viewer', email: 'ana@example.com', aud: 'togglemaster', iss: 'togglemaster' });

    const validate = await ctx.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${body.accessToken}` } });
    expect(validate.statusCode).toBe(200);
    expect(validate.json()).toMatchObject({ email: 'ana@example.com', role: 'viewer' });
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const wrong = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'admin@example.com', password: 'nope-nope-nope' } });
    const unknown = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'ghost@example.com', password: 'nope-nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.headers['content-type']).toContain('application/problem+json');
  });

  it('locks an account after too many failures, even for the right password', async () => {
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'locked@example.com', password } });
    for (let i = 0; i < 3; i++) {
      const res = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'locked@example.com', password: 'wrong-password-x' } });
      expect(res.statusCode).toBe(401);
    }
    const blocked = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'locked@example.com', password } });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rejects a token signed by another key, with another algorithm, for another audience, or expired', async () => {
    const admin = decodeJwt(await ctx.token('admin@example.com'));
    const other = await generateKeyPair('ES256');
    const claims = { email: admin.email, role: 'admin' };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: ctx.keys.kid }).setSubject(admin.sub!).setIssuer('togglemaster').setAudience('togglemaster').setIssuedAt().setExpirationTime('5m').sign(other.privateKey);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(admin.sub!).setIssuer('togglemaster').setAudience('togglemaster').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('x'.repeat(32)));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, sub: admin.sub, iss: 'togglemaster', aud: 'togglemaster', exp: 9e9, iat: 1 })).toString('base64url')}.`;
    const principal = { userId: admin.sub!, email: String(admin.email), role: 'admin' as const };
    const wrongAudience = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'someone-else', ttlSeconds: 300 });
    const wrongIssuer = await ctx.keys.sign(principal, { issuer: 'evil', audience: 'togglemaster', ttlSeconds: 300 });
    const expired = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'togglemaster', ttlSeconds: -30 });
    const valid = await ctx.keys.sign(principal, { issuer: 'togglemaster', audience: 'togglemaster', ttlSeconds: 300 });
    expect((await ctx.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${valid}` } })).statusCode).toBe(200);
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
    const users = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${admin}` } })).json<{ items: { id: string; email: string }[] }>().items;
    await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'editor@example.com', password } });
    const editorId = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${admin}` } })).json<{ items: { id: string; email: string }[] }>().items.find((u) => u.email === 'editor@example.com')!.id;
    await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${editorId}`, headers: { authorization: `Bearer ${admin}` }, payload: { role: 'editor' } });
    const editor = await ctx.token('editor@example.com');
    expect((await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: { authorization: `Bearer ${editor}` } })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${users[0]!.id}`, headers: { authorization: `Bearer ${editor}` }, payload: { role: 'viewer' } })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: '/auth/api-keys', headers: { authorization: `Bearer ${editor}` }, payload: { environment: 'development', name: 'e' } })).statusCode).toBe(201);
  });

  it('lets an admin promote a user but never remove the last admin', async () => {
    const admin = await ctx.token('admin@example.com');
    const auth = { authorization: `Bearer ${admin}` };
    const users = (await ctx.app.inject({ method: 'GET', url: '/auth/users', headers: auth })).json<{ items: { id: string; email: string }[] }>().items;
    const viewer = users.find((u) => u.email === 'viewer@example.com')!;
    const self = users.find((u) => u.email === 'admin@example.com')!;
    const promoted = await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${viewer.id}`, headers: auth, payload: { role: 'editor' } });
    expect(promoted.json()).toMatchObject({ role: 'editor' });
    const demoteSelf = await ctx.app.inject({ method: 'PATCH', url: `/auth/users/${self.id}`, headers: auth, payload: { role: 'viewer' } });
    expect(demoteSelf.statusCode).toBe(409);
  });

  it('creates an API key once, verifies it, and refuses it after revocation', async () => {
    const auth = { authorization: `Bearer ${await ctx.token('admin@example.com')}` };
    const created = await ctx.app.inject({ method: 'POST', url: '/auth/api-keys', headers: auth, payload: { environment: 'production', name: 'web' } });
    expect(created.statusCode).toBe(201);
    const { id, key } = created.json<{ id: string; key: string }>();
    const listed = (await ctx.app.inject({ method: 'GET', url: '/auth/api-keys', headers: auth })).json<{ items: Record<string, unknown>[] }>();
    expect(listed.items.find((k) => k.id === id)).not.toHaveProperty('key');
    expect(JSON.stringify(listed)).not.toContain(key);

    const ok = await ctx.app.inject({ method: 'POST', url: '/auth/api-keys/verify', payload: { key } });
    expect(ok.json()).toMatchObject({ keyId: id, environment: 'production' });
    expect((await ctx.app.inject({ method: 'DELETE', url: `/auth/api-keys/${id}`, headers: auth })).statusCode).toBe(204);
    const revoked = await ctx.app.inject({ method: 'POST', url: '/auth/api-keys/verify', payload: { key } });
    expect(revoked.statusCode).toBe(401);
  });

  it('refuses an API key for an unknown environment', async () => {
    const auth = { authorization: `Bearer ${await ctx.token('admin@example.com')}` };
    const res = await ctx.app.inject({ method: 'POST', url: '/auth/api-keys', headers: auth, payload: { environment: 'staging', name: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ detail: string }>().detail).toContain('staging');
  });

  it('answers malformed JSON, a wrong content type, unknown fields and an oversized body with problem+json', async () => {
    const cases = [
      { payload: '{"email":', headers: { 'content-type': 'application/json' }, status: 400, code: 'MALFORMED_JSON' },
      { payload: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { payload: JSON.stringify({ email: 'x@example.com', password, admin: true }), headers: { 'content-type': 'application/json' }, status: 400, code: 'VALIDATION_FAILED' },
      { payload: JSON.stringify({ email: 'x@example.com', password: 'x'.repeat(300_000) }), headers: { 'content-type': 'application/json' }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
    ];
    const before = (await ctx.store.countUsers());
    for (const c of cases) {
      const res = await ctx.app.inject({ method: 'POST', url: '/auth/register', payload: c.payload, headers: c.headers });
      expect(res.statusCode, c.code).toBe(c.status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ code: c.code, status: c.status, requestId: res.headers['x-request-id'] });
    }
    expect(await ctx.store.countUsers()).toBe(before);
  });
});
