import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, createPool } from '../../../shared/db/database.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import type { StartedService } from '../../../shared/runtime/service.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';
import { flagsSchema } from '../migrations/index.ts';
import { startWebhookWorker } from '../webhook-worker.ts';
import { createTargetGuard } from './target-guard.ts';
import { createPostgresWebhookStore, type WebhooksDatabase } from './webhook-store.postgres.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; flagKey: string | null; data: { version?: number } };
}

/** A receiver on loopback that records what it is sent, and can be down (not listening at all) for a while. */
async function startReceiver() {
  const received: Received[] = [];
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          received.push({ headers: request.headers, body, event: JSON.parse(body) as Received['event'] });
          response.writeHead(204).end();
        });
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    received,
    url: () => `http://127.0.0.1:${port}/hooks/togglemaster`,
    up: listen,
    down: () =>
      new Promise<void>((resolve) => {
        server!.closeAllConnections();
        server!.close(() => resolve());
      }),
  };
}

/** The receiver's check, as docs/webhooks.md writes it. */
function verified(secret: string, header: string | undefined, rawBody: string): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Webhooks end to end on real servers: flag changes and the release automation's events are fanned out from the flags
 * database by the webhook worker, signed, sent to a receiver on loopback (opened by WEBHOOK_ALLOWED_NETWORKS), retried
 * while it is down and delivered in order per flag when it is back.
 */
describe('webhooks, delivered by the webhook worker', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;
  let worker: StartedService;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let secret: string;
  let webhookId: string;

  const setEnabled = async (key: string, enabled: boolean) => {
    const changed = await platform.call('PATCH', `${platform.urls.flags}/flags/${key}/environments/production`, { enabled });
    expect(changed.status).toBe(200);
  };
  const createFlag = async (key: string) => {
    const created = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key,
      name: key,
      type: 'boolean',
      environments: { production: { enabled: false } },
    });
    expect(created.status).toBe(201);
  };
  const eventsOf = (flagKey: string) => receiver.received.filter((r) => r.event.flagKey === flagKey).map((r) => r.event);

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({
      redisUrl: redis.url,
      evaluationInstances: 1,
      overrides: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '250', WEBHOOK_RETRY_MAX_MS: '2000' },
    });
    worker = await platform.startWorker('webhook-worker');
    receiver = await startReceiver();
    const created = await platform.call<{ id: string; secret: string }>('POST', `${platform.urls.flags}/webhooks`, {
      name: 'receiver',
      url: receiver.url(),
      events: ['flag.*', 'schedule.*'],
    });
    expect(created.status).toBe(201);
    ({ id: webhookId, secret } = created.body);
  }, 60_000);
  afterAll(async () => {
    await receiver?.down().catch(() => {});
    await platform?.stop();
    await redis?.stop();
  });

  it('sends a flag change signed with the webhook’s secret, verifiable with the documented recipe', async () => {
    await createFlag('signed-flag');
    await until(() => eventsOf('signed-flag').length === 1, { limitMs: 10_000 });
    const [delivery] = receiver.received.filter((r) => r.event.flagKey === 'signed-flag');
    expect(delivery!.event).toMatchObject({ type: 'flag.created', flagKey: 'signed-flag' });
    expect(delivery!.headers['togglemaster-event-type']).toBe('flag.created');
    expect(delivery!.headers['togglemaster-event-id']).toBe(delivery!.event.id);
    expect(verified(secret, delivery!.headers['togglemaster-signature'] as string, delivery!.body)).toBe(true);
    expect(verified(`${secret}x`, delivery!.headers['togglemaster-signature'] as string, delivery!.body)).toBe(false);
  });

  it('holds every event while the receiver is down for 30 s and delivers them all when it returns, in order per flag', async () => {
    const flags = ['down-a', 'down-b'];
    for (const key of flags) await createFlag(key);
    await until(() => flags.every((key) => eventsOf(key).length === 1), { limitMs: 10_000 });
    await receiver.down();
    const downAt = Date.now();
    // Ten changes per flag spread over the 30 s, interleaved between the two flags.
    for (let i = 0; i < 10; i++) {
      for (const key of flags) await setEnabled(key, i % 2 === 0);
      await new Promise((r) => setTimeout(r, 2_900));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));
    expect(flags.map((key) => eventsOf(key).length)).toEqual([1, 1]);
    const log = await platform.call<{ items: { status: string; attempts: number; lastError: string | null }[] }>(
      'GET',
      `${platform.urls.flags}/webhooks/${webhookId}/deliveries?limit=200`,
    );
    const waiting = log.body.items.filter((d) => d.status === 'pending');
    expect(waiting.length).toBe(20);
    expect(Math.max(...waiting.map((d) => d.attempts))).toBeGreaterThan(3);
    expect(waiting.find((d) => d.attempts > 0)?.lastError).toMatch(/refused the connection/);
    // The worker's gauges say so: 20 waiting; the backlog is the receiver's, not the workers' (nothing due for long).
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_deliveries_pending(\{[^}]*\})? 20$/m);
    expect(Number(/^webhook_deliveries_due_oldest_seconds(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1])).toBeLessThan(5);

    await receiver.up();
    await until(() => flags.every((key) => new Set(eventsOf(key).map((e) => e.id)).size === 11), { limitMs: 30_000, everyMs: 100 });
    for (const key of flags) {
      const versions = eventsOf(key).map((e) => e.data.version);
      expect(versions, key).toEqual([...versions].sort((a, b) => a! - b!));
      expect(new Set(versions).size, key).toBe(11);
    }
  }, 90_000);

  it('delivers the release automation’s events too: a scheduled change applied', async () => {
    await createFlag('scheduled');
    const releaseWorker = await platform.startWorker('release-worker');
    // Far enough ahead to be in the future still when the flags service reads it on a loaded machine (a 400 otherwise).
    const scheduled = await platform.call('POST', `${platform.urls.flags}/flags/scheduled/environments/production/schedules`, {
      runAt: new Date(Date.now() + 3_000).toISOString(),
      change: { enabled: true },
    });
    expect(scheduled.status).toBe(201);
    await until(() => eventsOf('scheduled').some((e) => e.type === 'schedule.applied'), { limitMs: 20_000, everyMs: 50 });
    expect(eventsOf('scheduled').map((e) => e.type)).toEqual(['flag.created', 'flag.environment-updated', 'schedule.applied']);
    await platform.stopService(releaseWorker);
  }, 40_000);

  it('sends the test event, and logs each attempt with the receiver’s status code', async () => {
    const test = await platform.call<{ deliveryId: string }>('POST', `${platform.urls.flags}/webhooks/${webhookId}/test`);
    expect(test.status).toBe(202);
    await until(() => receiver.received.some((r) => r.event.type === 'webhook.test'), { limitMs: 10_000 });
    await until(
      async () => {
        const log = await platform.call<{ items: { id: string; status: string }[] }>(
          'GET',
          `${platform.urls.flags}/webhooks/${webhookId}/deliveries`,
        );
        return log.body.items.find((d) => d.id === test.body.deliveryId)?.status === 'delivered';
      },
      { limitMs: 5_000 },
    );
    const log = await platform.call<{ items: { id: string; attemptLog: { statusCode: number | null }[] }[] }>(
      'GET',
      `${platform.urls.flags}/webhooks/${webhookId}/deliveries`,
    );
    expect(log.body.items.find((d) => d.id === test.body.deliveryId)?.attemptLog).toEqual([expect.objectContaining({ statusCode: 204 })]);
  });

  it('refuses at connection time a target whose name resolves to loopback now, unless allow-listed (DNS rebinding)', async () => {
    await platform.stopService(worker);
    // Saved while the name pointed somewhere public (as the API's check saw it), it resolves to loopback now.
    const pool = createPool(platform.config, { logger: createLogger('silent', 'test'), connectionString: platform.databaseUrl });
    const store = createPostgresWebhookStore(createDatabase<WebhooksDatabase>(pool, flagsSchema));
    const port = new URL(receiver.url()).port;
    const at = new Date();
    await store.insert({
      id: '00000000-0000-4000-8000-000000000001',
      project: 'default',
      name: 'rebinding',
      url: `http://rebind.example:${port}/hooks/togglemaster`,
      events: ['flag.*'],
      format: 'json',
      enabled: true,
      secret: 'whsec_rebinding',
      createdBy: { userId: 'u', email: 'admin@example.com' },
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const strict = await startWebhookWorker({
      config: platform.config,
      logger: createLogger('silent', 'test'),
      port: 0,
      pool,
      guard: createTargetGuard({ allowedNetworks: [] }, resolve),
    });
    try {
      await createFlag('rebound');
      const lastErrorOf = async (id: string) =>
        (
          await platform.call<{ items: { flagKey: string; lastError: string | null }[] }>(
            'GET',
            `${platform.urls.flags}/webhooks/${id}/deliveries`,
          )
        ).body.items.find((d) => d.flagKey === 'rebound')?.lastError;
      await until(async () => (await lastErrorOf('00000000-0000-4000-8000-000000000001')) != null, { limitMs: 10_000, everyMs: 100 });
      expect(await lastErrorOf('00000000-0000-4000-8000-000000000001')).toMatch(/rebind\.example \(127\.0\.0\.1\) is an internal address/);
      // The same worker, allowed nothing internal, refuses the literal loopback target of the first webhook too.
      await until(async () => (await lastErrorOf(webhookId)) != null, { limitMs: 10_000, everyMs: 100 });
      expect(await lastErrorOf(webhookId)).toMatch(/127\.0\.0\.1 is an internal address/);
      expect(eventsOf('rebound')).toEqual([]);
    } finally {
      await strict.stop();
      await pool.end();
    }
  }, 30_000);
});
