import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { callAs, type TestRequest } from '../../shared/testing/inject.ts';
import { buildFlagsApp } from './flags-app.ts';
import type { FlagStore } from './flag-store.ts';

interface Harness {
  store: FlagStore;
  /** A snapshot of everything the store holds, to prove a rejected request wrote nothing. */
  snapshot: () => Promise<unknown>;
  close: () => Promise<void>;
}

/**
 * The flags API's behaviour, run once on the in-memory store (unit) and once on PostgreSQL (integration), so both
 * stores are held to one contract.
 */
export function flagsApiContract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(name, () => {
    let harness: Harness;
    let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
    let tokens: Record<UserRole, string>;

    beforeAll(async () => {
      harness = await makeHarness();
      const { verifier, tokenFor } = await testTokens();
      tokens = { viewer: await tokenFor('viewer'), editor: await tokenFor('editor'), admin: await tokenFor('admin') };
      ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store: harness.store, verifier }));
    });
    afterAll(async () => {
      await app.close();
      await harness.close();
    });

    const call = callAs(
      () => app,
      () => tokens,
    );
    const create = (payload: Record<string, unknown>) => call('editor', { method: 'POST', url: '/flags', payload });

    it('creates, reads, updates and archives a flag of every type', async () => {
      const cases = [
        { type: 'boolean', variants: undefined, value: true },
        {
          type: 'string',
          variants: [
            { key: 'blue', value: 'blue' },
            { key: 'green', value: 'green' },
          ],
          value: 'blue',
        },
        {
          type: 'number',
          variants: [
            { key: 'low', value: 10 },
            { key: 'high', value: 99.5 },
          ],
          value: 10,
        },
        {
          type: 'json',
          variants: [
            { key: 'a', value: { limits: [1, 2] } },
            { key: 'b', value: { limits: [] } },
          ],
          value: { limits: [1, 2] },
        },
      ];
      for (const c of cases) {
        const key = `crud-${c.type}`;
        const created = await create({ key, name: `CRUD ${c.type}`, type: c.type, variants: c.variants, tags: ['crud'] });
        expect(created.statusCode, created.body).toBe(201);
        expect(created.headers.etag).toBe('"1"');
        const flag = created.json<{ variants: { value: unknown }[]; environments: Record<string, { enabled: boolean }> }>();
        expect(flag.variants[0]?.value).toEqual(c.value);
        expect(Object.keys(flag.environments).sort()).toEqual(['development', 'production']);
        expect(flag.environments.production?.enabled).toBe(false);

        const read = await call('viewer', { method: 'GET', url: `/flags/${key}` });
        expect(read.json()).toEqual(created.json());

        const updated = await call('editor', {
          method: 'PUT',
          url: `/flags/${key}`,
          headers: { 'if-match': '"1"' },
          payload: { name: 'Renamed', type: c.type, variants: c.variants, description: 'now described' },
        });
        expect(updated.statusCode, updated.body).toBe(200);
        expect(updated.json()).toMatchObject({ name: 'Renamed', description: 'now described', version: 2 });

        expect((await call('editor', { method: 'DELETE', url: `/flags/${key}` })).statusCode).toBe(204);
        const archived = await call('viewer', { method: 'GET', url: `/flags/${key}` });
        expect(archived.json()).toMatchObject({ key, version: 3, archivedBy: { email: 'editor@example.com' } });
        expect(archived.json<{ archivedAt: string | null }>().archivedAt).not.toBeNull();
      }
    });

    it('refuses variants whose values do not match the flag type, writing nothing', async () => {
      const before = await harness.snapshot();
      for (const [type, value] of [
        ['boolean', 'yes'],
        ['string', 5],
        ['number', '5'],
        ['number', null],
      ] as const) {
        const res = await create({ key: `bad-${type}`, name: 'x', type, variants: [{ key: 'v', value }] });
        expect(res.statusCode, `${type} ${String(value)}`).toBe(400);
        expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/variants/0/value' }] });
      }
      const dup = await create({
        key: 'dup-variants',
        name: 'x',
        type: 'string',
        variants: [
          { key: 'a', value: 'a' },
          { key: 'a', value: 'b' },
        ],
      });
      expect(dup.statusCode).toBe(400);
      expect(await harness.snapshot()).toEqual(before);
    });

    it('answers a duplicate key with 409', async () => {
      expect((await create({ key: 'twice', name: 'Twice', type: 'boolean' })).statusCode).toBe(201);
      const again = await create({ key: 'twice', name: 'Twice', type: 'boolean' });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'CONFLICT' });
    });

    it('refuses a write made against a stale version with 412, leaving the flag as it was', async () => {
      await create({ key: 'contended', name: 'Contended', type: 'boolean' });
      const first = await call('editor', {
        method: 'PATCH',
        url: '/flags/contended/environments/production',
        headers: { 'if-match': '"1"' },
        payload: { enabled: true },
      });
      expect(first.statusCode).toBe(200);
      expect(first.headers.etag).toBe('"2"');
      const stale = await call('editor', {
        method: 'PATCH',
        url: '/flags/contended/environments/production',
        headers: { 'if-match': '"1"' },
        payload: { enabled: false },
      });
      expect(stale.statusCode).toBe(412);
      expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED' });
      const stalePut = await call('editor', {
        method: 'PUT',
        url: '/flags/contended',
        headers: { 'if-match': '"1"' },
        payload: { name: 'x', type: 'boolean' },
      });
      expect(stalePut.statusCode).toBe(412);
      const staleDelete = await call('editor', { method: 'DELETE', url: '/flags/contended', headers: { 'if-match': '"1"' } });
      expect(staleDelete.statusCode).toBe(412);
      const now = (await call('viewer', { method: 'GET', url: '/flags/contended' })).json<{
        version: number;
        name: string;
        environments: { production: { enabled: boolean } };
      }>();
      expect(now).toMatchObject({ version: 2, name: 'Contended', environments: { production: { enabled: true } } });
    });

    it('enforces roles: viewers read, only editors and admins write, nobody anonymous', async () => {
      await create({ key: 'guarded', name: 'Guarded', type: 'boolean' });
      const writes: TestRequest[] = [
        { method: 'POST', url: '/flags', payload: { key: 'guarded-2', name: 'x', type: 'boolean' } },
        { method: 'PUT', url: '/flags/guarded', payload: { name: 'x', type: 'boolean' } },
        { method: 'PATCH', url: '/flags/guarded/environments/development', payload: { enabled: true } },
        { method: 'DELETE', url: '/flags/guarded' },
      ];
      const before = await harness.snapshot();
      for (const write of writes) {
        expect((await call('viewer', write)).statusCode, `${write.method} ${write.url}`).toBe(403);
        expect((await call(null, write)).statusCode, `${write.method} ${write.url}`).toBe(401);
      }
      for (const url of ['/flags', '/flags/guarded', '/flags/guarded/history', '/flags/environments']) {
        expect((await call(null, { method: 'GET', url })).statusCode, url).toBe(401);
        expect((await call('viewer', { method: 'GET', url })).statusCode, url).toBe(200);
      }
      expect(await harness.snapshot()).toEqual(before);
      expect((await call('admin', writes[2]!)).statusCode).toBe(200);
    });

    it('rejects malformed JSON, a wrong content type, unknown fields and oversized bodies with problem+json and no write', async () => {
      const before = await harness.snapshot();
      const cases: [TestRequest, number, string][] = [
        [{ method: 'POST', url: '/flags', payload: '{"key":', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON'],
        [{ method: 'POST', url: '/flags', payload: 'key=x', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [
          { method: 'POST', url: '/flags', payload: { key: 'x-unknown', name: 'x', type: 'boolean', owner: 'me' } },
          400,
          'VALIDATION_FAILED',
        ],
        [{ method: 'POST', url: '/flags', payload: { key: 'Not A Slug', name: 'x', type: 'boolean' } }, 400, 'VALIDATION_FAILED'],
        [
          {
            method: 'POST',
            url: '/flags',
            payload: { key: 'x-big', name: 'x', type: 'string', variants: [{ key: 'a', value: 'a'.repeat(300_000) }] },
          },
          413,
          'PAYLOAD_TOO_LARGE',
        ],
        [{ method: 'PATCH', url: '/flags/guarded/environments/development', payload: { enabled: 'yes' } }, 400, 'VALIDATION_FAILED'],
        [{ method: 'PATCH', url: '/flags/guarded/environments/development', payload: {} }, 400, 'VALIDATION_FAILED'],
        [{ method: 'GET', url: '/flags?limit=0' }, 400, 'VALIDATION_FAILED'],
        [{ method: 'GET', url: '/flags?color=red' }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [options, status, code] of cases) {
        const res = await call('editor', options);
        expect(res.statusCode, `${options.method} ${options.url} ${JSON.stringify(options.payload ?? null).slice(0, 40)}`).toBe(status);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ code, status, requestId: res.headers['x-request-id'] });
      }
      expect(await harness.snapshot()).toEqual(before);
    });

    it('validates environment state: known variants, one serve form, weights totalling 100 with three decimals', async () => {
      await create({
        key: 'rollout',
        name: 'Rollout',
        type: 'string',
        variants: [
          { key: 'a', value: 'A' },
          { key: 'b', value: 'B' },
          { key: 'c', value: 'C' },
        ],
      });
      const patch = (payload: object) => call('editor', { method: 'PATCH', url: '/flags/rollout/environments/production', payload });
      const ok = await patch({
        enabled: true,
        defaultServe: {
          rollout: [
            { variant: 'a', weight: 33.333 },
            { variant: 'b', weight: 33.333 },
            { variant: 'c', weight: 33.334 },
          ],
          bucketBy: 'accountId',
        },
      });
      expect(ok.statusCode, ok.body).toBe(200);
      const before = await harness.snapshot();
      for (const [payload, path] of [
        [
          {
            defaultServe: {
              rollout: [
                { variant: 'a', weight: 50 },
                { variant: 'b', weight: 40 },
              ],
            },
          },
          'body/defaultServe/rollout',
        ],
        [
          {
            defaultServe: {
              rollout: [
                { variant: 'a', weight: 50.0001 },
                { variant: 'b', weight: 49.9999 },
              ],
            },
          },
          'body/defaultServe/rollout/0/weight',
        ],
        [{ defaultServe: { variant: 'zzz' } }, 'body/defaultServe/variant'],
        [{ defaultServe: { variant: 'a', rollout: [{ variant: 'a', weight: 100 }] } }, 'body/defaultServe'],
        [{ offVariant: 'nope' }, 'body/offVariant'],
      ] as const) {
        const res = await patch(payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain(path);
      }
      expect(
        (await call('editor', { method: 'PATCH', url: '/flags/rollout/environments/staging', payload: { enabled: true } })).statusCode,
      ).toBe(404);
      expect(await harness.snapshot()).toEqual(before);
    });

    it('refuses to remove a variant an environment still serves', async () => {
      const res = await call('editor', {
        method: 'PUT',
        url: '/flags/rollout',
        payload: { name: 'Rollout', type: 'string', variants: [{ key: 'a', value: 'A' }] },
      });
      expect(res.statusCode).toBe(409);
      expect(res.json<{ detail: string }>().detail).toContain('"b"');
    });

    it('accepts prerequisites, refuses unknown ones and cycles, and protects a flag others depend on', async () => {
      await create({ key: 'parent', name: 'Parent', type: 'boolean' });
      await create({ key: 'child', name: 'Child', type: 'boolean' });
      const setPrereq = (key: string, prerequisites: object) =>
        call('editor', { method: 'PATCH', url: `/flags/${key}/environments/production`, payload: { prerequisites } });
      expect((await setPrereq('child', [{ flagKey: 'parent', variant: 'on' }])).statusCode).toBe(200);
      const cycle = await setPrereq('parent', [{ flagKey: 'child', variant: 'on' }]);
      expect(cycle.statusCode).toBe(400);
      expect(cycle.json<{ detail: string }>().detail).toContain('cycle');
      expect((await setPrereq('parent', [{ flagKey: 'parent', variant: 'on' }])).statusCode).toBe(400);
      expect((await setPrereq('parent', [{ flagKey: 'ghost', variant: 'on' }])).statusCode).toBe(400);
      expect((await setPrereq('parent', [{ flagKey: 'child', variant: 'maybe' }])).statusCode).toBe(400);
      // The same edge in another environment is not a cycle of production's.
      expect(
        (
          await call('editor', {
            method: 'PATCH',
            url: '/flags/parent/environments/development',
            payload: { prerequisites: [{ flagKey: 'child', variant: 'on' }] },
          })
        ).statusCode,
      ).toBe(200);
      const deleteParent = await call('editor', { method: 'DELETE', url: '/flags/parent' });
      expect(deleteParent.statusCode).toBe(409);
      expect(deleteParent.json<{ detail: string }>().detail).toContain('child');
    });

    it('lists with filters by tag, type and text, a page at a time', async () => {
      for (let i = 0; i < 5; i++)
        await create({
          key: `page-${i}`,
          name: `Paged ${i}`,
          type: i % 2 ? 'string' : 'boolean',
          variants: i % 2 ? [{ key: 'x', value: 'x' }] : undefined,
          tags: ['paged', ...(i === 3 ? ['special'] : [])],
          description: i === 4 ? 'the 100% odd_one' : '',
        });
      const first = (await call('viewer', { method: 'GET', url: '/flags?tag=paged&limit=2' })).json<{
        items: { key: string }[];
        nextCursor: string;
      }>();
      expect(first.items.map((f) => f.key)).toEqual(['page-0', 'page-1']);
      const second = (await call('viewer', { method: 'GET', url: `/flags?tag=paged&limit=2&cursor=${first.nextCursor}` })).json<{
        items: { key: string }[];
        nextCursor: string | null;
      }>();
      expect(second.items.map((f) => f.key)).toEqual(['page-2', 'page-3']);
      const third = (await call('viewer', { method: 'GET', url: `/flags?tag=paged&limit=2&cursor=${second.nextCursor}` })).json<{
        items: { key: string }[];
        nextCursor: string | null;
      }>();
      expect(third).toMatchObject({ items: [{ key: 'page-4' }], nextCursor: null });
      const strings = (await call('viewer', { method: 'GET', url: '/flags?tag=paged&type=string' })).json<{ items: { key: string }[] }>();
      expect(strings.items.map((f) => f.key)).toEqual(['page-1', 'page-3']);
      const special = (await call('viewer', { method: 'GET', url: '/flags?tag=special' })).json<{ items: { key: string }[] }>();
      expect(special.items.map((f) => f.key)).toEqual(['page-3']);
      const text = (await call('viewer', { method: 'GET', url: `/flags?q=${encodeURIComponent('100% ODD_')}` })).json<{
        items: { key: string }[];
      }>();
      expect(text.items.map((f) => f.key)).toEqual(['page-4']);
      const wildcard = (await call('viewer', { method: 'GET', url: `/flags?q=${encodeURIComponent('%')}&tag=paged` })).json<{
        items: { key: string }[];
      }>();
      expect(wildcard.items.map((f) => f.key)).toEqual(['page-4']);
    });

    it('keeps an audit trail of every change with who, when, the changed fields and before/after', async () => {
      await create({ key: 'audited', name: 'Audited', type: 'boolean' });
      await call('editor', { method: 'PATCH', url: '/flags/audited/environments/production', payload: { enabled: true } });
      await call('admin', { method: 'PUT', url: '/flags/audited', payload: { name: 'Audited!', type: 'boolean' } });
      await call('editor', { method: 'DELETE', url: '/flags/audited' });
      const res = await call('viewer', { method: 'GET', url: '/flags/audited/history' });
      expect(res.statusCode).toBe(200);
      const { items } = res.json<{
        items: {
          action: string;
          actor: { email: string };
          version: number;
          environment: string | null;
          changes: { path: string; before: unknown; after: unknown }[];
          before: unknown;
          after: unknown;
        }[];
      }>();
      expect(items.map((e) => e.action)).toEqual(['archived', 'updated', 'environment-updated', 'created']);
      expect(items[1]).toMatchObject({
        actor: { email: 'admin@example.com' },
        version: 3,
        changes: [{ path: '/name', before: 'Audited', after: 'Audited!' }],
      });
      expect(items[2]).toMatchObject({
        environment: 'production',
        actor: { email: 'editor@example.com' },
        changes: [{ path: '/environments/production/enabled', before: false, after: true }],
      });
      expect(items[3]).toMatchObject({ before: null, after: { key: 'audited', version: 1 } });
      expect(items[0]).toMatchObject({
        before: { key: 'audited', name: 'Audited!', archivedAt: null },
        after: { key: 'audited', archivedBy: { email: 'editor@example.com' } },
        changes: expect.arrayContaining([expect.objectContaining({ path: '/archivedAt', before: null })]) as unknown,
      });
      const paged = await call('viewer', { method: 'GET', url: '/flags/audited/history?limit=3' });
      const rest = await call('viewer', {
        method: 'GET',
        url: `/flags/audited/history?limit=3&cursor=${paged.json<{ nextCursor: string }>().nextCursor}`,
      });
      expect(rest.json<{ items: { action: string }[] }>().items.map((e) => e.action)).toEqual(['created']);
      expect((await call('viewer', { method: 'GET', url: '/flags/never-existed/history' })).statusCode).toBe(404);
    });

    it('lets no SDK key read or write flags: evaluation reads the configuration from the shared cache', async () => {
      await create({ key: 'sdk-invisible', name: 'SDK invisible', type: 'boolean', environments: { production: { enabled: true } } });
      const sdk = { 'x-api-key': 'tm_some-sdk-key' };
      expect((await call(null, { method: 'GET', url: '/flags/sdk-invisible', headers: sdk })).statusCode).toBe(401);
      expect((await call(null, { method: 'GET', url: '/flags?q=sdk-invisible', headers: sdk })).statusCode).toBe(401);
      expect(
        (
          await call(null, {
            method: 'PATCH',
            url: '/flags/sdk-invisible/environments/production',
            headers: sdk,
            payload: { enabled: false },
          })
        ).statusCode,
      ).toBe(401);
    });
  });
}
