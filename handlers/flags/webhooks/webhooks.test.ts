import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import { signatureOf } from './signature.ts';
import { createTargetGuard } from './target-guard.ts';
import { retryDelayMs } from './webhook-dispatch.ts';
import { createMemoryWebhookStore } from './webhook-store.memory.ts';
import { auditEventOf, payloadOf, releaseEventOf, subscribes } from './webhook.ts';

/** The receiver's side, exactly as docs/webhooks.md writes it (not the service's own signing code). */
function verifyAsDocumented(secret: string, header: string, rawBody: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=') as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook signatures', () => {
  const secret = 'whsec_test-secret';
  const body = JSON.stringify({ id: 'evt_a1', type: 'flag.updated', summary: 'ünïcode ✓' });

  it('verify with the documented recipe, and fail on any change of body, timestamp or secret', () => {
    const header = signatureOf(secret, 1_760_000_000, body);
    expect(header).toMatch(/^t=1760000000,v1=[0-9a-f]{64}$/);
    expect(verifyAsDocumented(secret, header, body, 1_760_000_010)).toBe(true);
    expect(verifyAsDocumented(secret, header, body.replace('updated', 'created'), 1_760_000_010)).toBe(false);
    expect(verifyAsDocumented('whsec_other', header, body, 1_760_000_010)).toBe(false);
    expect(verifyAsDocumented(secret, header.replace('t=1760000000', 't=1760000001'), body, 1_760_000_010)).toBe(false);
    // A replay ten minutes later is refused by the timestamp check the recipe includes.
    expect(verifyAsDocumented(secret, header, body, 1_760_000_600)).toBe(false);
  });
});

describe('the target guard', () => {
  const names: Record<string, string[]> = {
    'hooks.example.com': ['93.184.215.14'],
    'metadata.example': ['169.254.169.254'],
    'loopback.example': ['127.0.0.1'],
    'mixed.example': ['93.184.215.14', '10.1.2.3'],
    'v6-loopback.example': ['::1'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'ula.example': ['fd00::1'],
  };
  const resolve = async (host: string): Promise<LookupAddress[]> => {
    const found = names[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const refusedBy = async (policy: Parameters<typeof createTargetGuard>[0], url: string) =>
    (await createTargetGuard(policy, resolve).check(new URL(url)))?.message;

  it('refuses hosts that resolve to loopback, link-local, private or mapped-loopback addresses', async () => {
    const none = { allowedNetworks: [] };
    expect(await refusedBy(none, 'https://hooks.example.com/x')).toBeUndefined();
    for (const url of [
      'http://metadata.example/latest/meta-data/',
      'http://loopback.example:6379/',
      'https://mixed.example/',
      'http://v6-loopback.example/',
      'http://mapped.example/',
      'http://ula.example/',
    ])
      expect(await refusedBy(none, url), url).toMatch(/internal address/);
  });

  it('refuses IP literals in every spelling the URL parser accepts for loopback and metadata', async () => {
    const none = { allowedNetworks: [] };
    for (const url of [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::1]/',
      'http://[::ffff:7f00:1]/',
      'http://169.254.169.254/',
    ])
      expect(await refusedBy(none, url), url).toMatch(/internal address/);
    expect(await refusedBy(none, 'http://93.184.215.14/')).toBeUndefined();
  });

  it('opens exactly the networks WEBHOOK_ALLOWED_NETWORKS lists', async () => {
    const policy = { allowedNetworks: ['127.0.0.1', '10.0.0.0/8'] };
    expect(await refusedBy(policy, 'http://loopback.example/')).toBeUndefined();
    expect(await refusedBy(policy, 'https://mixed.example/')).toBeUndefined();
    expect(await refusedBy(policy, 'http://127.0.0.2/')).toMatch(/internal address/);
    expect(await refusedBy(policy, 'http://metadata.example/')).toMatch(/internal address/);
  });

  it('keeps to WEBHOOK_ALLOWED_HOSTS when set, and refuses other schemes, credentials and unknown names', async () => {
    const policy = { allowedNetworks: [], allowedHosts: ['*.example.com', 'hooks.slack.com'] };
    expect(await refusedBy(policy, 'https://hooks.example.com/')).toBeUndefined();
    expect(await refusedBy(policy, 'https://example.com/')).toMatch(/WEBHOOK_ALLOWED_HOSTS/);
    expect(await refusedBy(policy, 'https://evil.com/')).toMatch(/WEBHOOK_ALLOWED_HOSTS/);
    expect(await refusedBy({ allowedNetworks: [] }, 'ftp://hooks.example.com/')).toMatch(/http/);
    expect(await refusedBy({ allowedNetworks: [] }, 'https://user:pw@hooks.example.com/')).toMatch(/credentials/);
    expect(await refusedBy({ allowedNetworks: [] }, 'https://nowhere.example/')).toMatch(/does not resolve/);
  });

  it('refuses at connection time a name that resolves to an internal address then (DNS rebinding)', async () => {
    const guard = createTargetGuard({ allowedNetworks: [] }, resolve);
    const looked = await new Promise<{ error: Error | null; address: unknown }>((done) =>
      guard.lookup('metadata.example', { all: true }, (error, address) => done({ error, address })),
    );
    expect(looked.error?.message).toMatch(/internal address/);
    const fine = await new Promise<{ error: Error | null; address: unknown; family?: number }>((done) =>
      guard.lookup('hooks.example.com', {}, (error, address, family) => done({ error, address, family })),
    );
    expect(fine).toEqual({ error: null, address: '93.184.215.14', family: 4 });
  });
});

describe('webhook events', () => {
  const actor = { userId: 'u1', email: 'ann@example.com' };
  const audit = auditEventOf({
    id: 7,
    flagKey: 'new-checkout',
    action: 'environment-updated',
    environment: 'production',
    actor,
    at: new Date('2026-12-01T10:00:00Z'),
    version: 3,
    changes: [{ path: '/enabled', before: false, after: true }],
    cause: null,
  });

  it('say what happened in a sentence and carry the change', () => {
    expect(audit).toMatchObject({ id: 'evt_a7', type: 'flag.environment-updated', flagKey: 'new-checkout', environment: 'production' });
    expect(audit.summary).toBe('ann@example.com changed new-checkout in production (enabled: false → true)');
    const rollback = releaseEventOf({
      id: 9,
      type: 'plan.rolled-back',
      flagKey: 'new-checkout',
      environment: 'production',
      scheduleId: null,
      releasePlanId: 'p1',
      milestone: 1,
      actor: null,
      detail: 'guardrail checkout-error breached',
      data: null,
      at: new Date('2026-12-01T10:05:00Z'),
    });
    expect(rollback.summary).toBe(
      'Release plan rolled back (milestone 2) on new-checkout in production: guardrail checkout-error breached',
    );
    expect(rollback.id).toBe('evt_r9');
  });

  it('are filtered by type, group or everything; the test event reaches every webhook', () => {
    expect(subscribes(['*'], 'plan.paused')).toBe(true);
    expect(subscribes(['flag.*'], 'flag.created')).toBe(true);
    expect(subscribes(['flag.*'], 'plan.paused')).toBe(false);
    expect(subscribes(['plan.rolled-back', 'schedule.applied'], 'schedule.applied')).toBe(true);
    expect(subscribes(['plan.rolled-back'], 'plan.paused')).toBe(false);
    expect(subscribes(['plan.rolled-back'], 'webhook.test')).toBe(true);
  });

  it('take Slack’s shape on request, with its markup characters escaped', () => {
    const slack = payloadOf('slack', { ...audit, summary: 'a <b> & c' }) as { text: string };
    expect(slack).toEqual({ text: 'ToggleMaster: a &lt;b&gt; &amp; c' });
    expect(payloadOf('json', audit)).toBe(audit);
  });

  it('retry after a doubling pause, capped', () => {
    const policy = { baseMs: 1_000, maxMs: 60_000 };
    const middle = () => 0.5;
    expect([1, 2, 3, 7, 20].map((n) => retryDelayMs(n, policy, middle))).toEqual([1_000, 2_000, 4_000, 60_000, 60_000]);
    expect(retryDelayMs(1, policy, () => 0)).toBe(900);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1_100);
  });
});

describe('webhooks API', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let admin: string;
  let editor: string;
  const resolve = async (host: string): Promise<LookupAddress[]> =>
    host === 'internal.example' ? [{ address: '10.0.0.5', family: 4 }] : [{ address: '93.184.215.14', family: 4 }];

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    admin = await tokenFor('admin');
    editor = await tokenFor('editor');
    ({ app } = await buildFlagsApp({
      config: testConfig(),
      logger: createLogger('silent', 'flags'),
      store: createFlagStore(),
      webhookStore: createMemoryWebhookStore(),
      targetGuard: createTargetGuard({ allowedNetworks: [] }, resolve),
      verifier,
    }));
  });
  afterAll(async () => {
    await app.close();
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: Record<string, unknown>,
    token = admin,
    headers: Record<string, string> = {},
  ) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(payload === undefined ? {} : { payload }) });

  it('creates a webhook, shows its secret once, and never again', async () => {
    const created = await call('POST', '/webhooks', {
      name: 'ops',
      url: 'https://hooks.example.com/tm',
      events: ['flag.*', 'plan.rolled-back'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json<{ id: string; secret: string; format: string; enabled: boolean }>();
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({ format: 'json', enabled: true });
    const listed = await call('GET', '/webhooks');
    expect(listed.body).not.toContain(body.secret);
    const one = await call('GET', `/webhooks/${body.id}`);
    expect(one.headers.etag).toBe('"1"');
    expect(one.body).not.toContain(body.secret);
    const rotated = await call('POST', `/webhooks/${body.id}/rotate-secret`);
    expect(rotated.json<{ secret: string }>().secret).not.toBe(body.secret);
  });

  it('refuses an internal target with a 422 naming the URL, unknown events, and non-admins', async () => {
    const internal = await call('POST', '/webhooks', { name: 'x', url: 'http://internal.example/', events: ['*'] });
    expect(internal.statusCode).toBe(422);
    expect(internal.json()).toMatchObject({ code: 'UNPROCESSABLE', errors: [{ path: '/url' }] });
    expect(internal.json<{ detail: string }>().detail).toMatch(/internal address/);
    const metadata = await call('POST', '/webhooks', { name: 'x', url: 'http://169.254.169.254/latest', events: ['*'] });
    expect(metadata.statusCode).toBe(422);
    const unknown = await call('POST', '/webhooks', { name: 'x', url: 'https://hooks.example.com/', events: ['flag.exploded'] });
    expect(unknown.statusCode).toBe(400);
    const editorTry = await call('POST', '/webhooks', { name: 'x', url: 'https://hooks.example.com/', events: ['*'] }, editor);
    expect(editorTry.statusCode).toBe(403);
    expect((await call('GET', '/webhooks', undefined, editor)).statusCode).toBe(403);
  });

  it('updates with If-Match, pauses, queues a test event, and deletes', async () => {
    const created = (await call('POST', '/webhooks', { name: 'a', url: 'https://hooks.example.com/a', events: ['*'] })).json<{
      id: string;
    }>();
    const stale = await call('PATCH', `/webhooks/${created.id}`, { enabled: false }, admin, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    const paused = await call('PATCH', `/webhooks/${created.id}`, { enabled: false, format: 'slack' }, admin, { 'if-match': '"1"' });
    expect(paused.json()).toMatchObject({ enabled: false, format: 'slack', version: 2 });
    const moved = await call('PATCH', `/webhooks/${created.id}`, { url: 'http://internal.example/' });
    expect(moved.statusCode).toBe(422);
    const test = await call('POST', `/webhooks/${created.id}/test`);
    expect(test.statusCode).toBe(202);
    const log = await call('GET', `/webhooks/${created.id}/deliveries`);
    expect(log.json()).toMatchObject({
      items: [
        {
          id: test.json<{ deliveryId: string }>().deliveryId,
          eventType: 'webhook.test',
          status: 'pending',
          payload: { text: expect.stringMatching(/^ToggleMaster: Test event/) as unknown },
        },
      ],
    });
    const again = await call('POST', `/webhooks/${created.id}/deliveries/${test.json<{ deliveryId: string }>().deliveryId}/redeliver`);
    expect(again.statusCode).toBe(409);
    expect((await call('DELETE', `/webhooks/${created.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/webhooks/${created.id}`)).statusCode).toBe(404);
    expect((await call('GET', `/webhooks/${created.id}/deliveries`)).statusCode).toBe(404);
  });
});
