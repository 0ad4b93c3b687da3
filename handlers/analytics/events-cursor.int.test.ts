import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../../shared/dynamo/analytics-table.ts';
import { startLocalAws, type LocalAws } from '../../shared/local-aws.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildAnalyticsApp, createAnalyticsStore } from './analytics-app.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import { fixedFlagProjects } from './fixed-flag-projects.ts';

const now = Date.UTC(2026, 10, 24, 12, 0);
const cursorOf = (text: string) => Buffer.from(text).toString('base64url');

/** Cursors that are well-formed in the URL but decode to something no page of ours ever handed out. */
const forged = {
  'not JSON': cursorOf('not json'),
  'JSON null': cursorOf('null'),
  'a number': cursorOf('42'),
  'an object of the wrong shape': cursorOf('{"day":"2026-11-24","sk":{"S":"x"}}'),
  'a NUL inside': cursorOf('{"day":"2026-11-24","sk":"a\\u0000b"}'),
  'a bare NUL': cursorOf('"\\u0000"'),
};

describe.each([
  ['in memory', async () => ({ store: createAnalyticsStore(), stop: async () => {} })],
  [
    'on the DynamoDB stand-in',
    async () => {
      const aws: LocalAws = await startLocalAws();
      const config = { ...testConfig(), AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint };
      const client = createDynamoClient(config);
      const table = `analytics-${randomBytes(3).toString('hex')}`;
      await ensureAnalyticsTable(client, table);
      // The store's clock is the API's: the sample is kept by when its message arrived.
      return { store: createAnalyticsStore({ client, table, now: () => now }), stop: () => aws.stop() };
    },
  ],
] as const)('event cursors %s', (_name, makeStore) => {
  let store: AnalyticsStore;
  let stop: () => Promise<void>;
  let app: Awaited<ReturnType<typeof buildAnalyticsApp>>['app'];
  let viewer: string;

  beforeAll(async () => {
    ({ store, stop } = await makeStore());
    const { verifier, tokenFor } = await testTokens();
    viewer = await tokenFor('viewer');
    ({ app } = await buildAnalyticsApp({
      config: testConfig(),
      logger: createLogger('silent', 'analytics'),
      store,
      verifier,
      projects: fixedFlagProjects({ checkout: 'default', elsewhere: 'beta' }, ['default', 'beta']),
      now: () => now,
    }));
    // Between them, events of another project's flag: read past, never answered, never cutting a page short.
    const events = [1, 2, 3].flatMap((i) => [
      ['checkout', 'production', 'on', 'DEFAULT', null, `k${i}`, now - i * 60_000] as const,
      ['elsewhere', 'production', 'on', 'DEFAULT', null, `k${i}`, now - i * 60_000 + 30_000] as const,
    ]);
    await store.writeBatch({ batchId: 'cursor-batch', events: events.map((e) => [...e]), counts: [] }, 30 * 86_400_000);
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await stop?.();
  });

  const list = (cursor?: string) =>
    app.inject({
      url: `/analytics/events?environment=production&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      headers: { authorization: `Bearer ${viewer}` },
    });

  it('pages with the cursor it handed out', async () => {
    const first = (await list()).json<{ items: { flagKey: string }[]; nextCursor: string }>();
    expect(first.items.map((e) => e.flagKey)).toEqual(['checkout', 'checkout']);
    const rest = await list(first.nextCursor);
    expect(rest.statusCode, rest.body).toBe(200);
    expect(rest.json()).toMatchObject({ items: [{ flagKey: 'checkout' }], nextCursor: null });
  });

  it('refuses a cursor that decodes to anything else with 400 naming the cursor, never a 500', async () => {
    for (const [what, cursor] of Object.entries(forged)) {
      const res = await list(cursor);
      expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
      expect(res.json(), what).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'querystring/cursor' }] });
    }
  });
});
