import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagRulesClient } from '../../shared/clients/targeting-client.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { AppError } from '../../shared/http/problem.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { callAs } from '../../shared/testing/inject.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import type { FlagStore } from './flag-store.ts';
import { buildFlagsApp } from './flags-app.ts';

interface Harness {
  store: FlagStore;
  close: () => Promise<void>;
}

type FlagAnswer = {
  key: string;
  version: number;
  archivedAt: string | null;
  archivedBy: { userId: string; email: string } | null;
  environments: Record<string, { enabled: boolean; defaultServe: unknown; offVariant: string; prerequisites: unknown[] }>;
};
type Problem = { code: string; detail: string; errors?: { path: string; message: string }[] };

/**
 * Archive instead of delete (issue 18), run on the in-memory store (unit) and on PostgreSQL (integration): DELETE
 * archives, an archived flag is listed apart and refuses changes, restore brings it back as it was, and only an
 * admin purges — an archived flag, with its targeting rules first.
 */
export function flagsArchiveContract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(name, () => {
    let harness: Harness;
    let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
    let tokens: Record<UserRole, string>;
    /** The targeting service as the flags service sees it: rules by flag; what it was asked to delete. */
    let rules: Rule[] = [];
    let targetingDown = false;
    const deletedRules: string[] = [];
    const targeting: FlagRulesClient = {
      async listRulesOfFlag(flagKey) {
        if (targetingDown) throw new AppError('SERVICE_UNAVAILABLE', 'The targeting service does not answer');
        return rules.filter((r) => r.flagKey === flagKey);
      },
      listRulesIn: () => Promise.reject(new Error('not asked here')),
      copyRules: () => Promise.reject(new Error('not asked here')),
      setRules: () => Promise.reject(new Error('not asked here')),
      async deleteRule(id) {
        if (targetingDown) throw new AppError('SERVICE_UNAVAILABLE', 'The targeting service does not answer');
        deletedRules.push(id);
        rules = rules.filter((r) => r.id !== id);
      },
    };
    const rule = (id: string, flagKey: string, environment: string): Rule => ({
      id,
      flagKey,
      environment,
      priority: 0,
      name: '',
      conditions: [],
      segments: [],
      serve: { variant: 'on' },
    });

    beforeAll(async () => {
      harness = await makeHarness();
      const { verifier, tokenFor } = await testTokens();
      tokens = { viewer: await tokenFor('viewer'), editor: await tokenFor('editor'), admin: await tokenFor('admin') };
      ({ app } = await buildFlagsApp({
        config: testConfig(),
        logger: createLogger('silent', 'flags'),
        store: harness.store,
        verifier,
        targeting,
      }));
    });
    afterAll(async () => {
      await app.close();
      await harness.close();
    });

    const call = callAs(
      () => app,
      () => tokens,
    );
    const create = async (key: string, environments?: object) => {
      const res = await call('editor', { method: 'POST', url: '/flags', payload: { key, name: key, type: 'boolean', environments } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<FlagAnswer>();
    };
    const get = (key: string) => call('viewer', { method: 'GET', url: `/flags/${key}` });
    const archive = (key: string, headers: Record<string, string> = {}) =>
      call('editor', { method: 'DELETE', url: `/flags/${key}`, headers });
    const restore = (key: string, role: UserRole = 'editor') => call(role, { method: 'POST', url: `/flags/${key}/restore` });
    const purge = (key: string, role: UserRole = 'admin') => call(role, { method: 'POST', url: `/flags/${key}/purge` });
    const listKeys = async (query: string) =>
      (await call('viewer', { method: 'GET', url: `/flags?${query}` })).json<{ items: FlagAnswer[] }>().items.map((f) => f.key);
    const actions = async (key: string) =>
      (await call('viewer', { method: 'GET', url: `/flags/${key}/history` }))
        .json<{ items: { action: string }[] }>()
        .items.map((e) => e.action);

    it('archives on DELETE: gone from the default list, listed with archived=true, still answered by GET with who and when', async () => {
      const created = await create('old-banner', { production: { enabled: true } });
      const res = await archive('old-banner', { 'if-match': `"${created.version}"` });
      expect(res.statusCode, res.body).toBe(204);
      expect(await listKeys('q=old-banner')).toEqual([]);
      const archived = (await call('viewer', { method: 'GET', url: '/flags?archived=true&q=old-banner' })).json<{ items: FlagAnswer[] }>();
      expect(archived.items).toMatchObject([{ key: 'old-banner', version: 2, archivedBy: { email: 'editor@example.com' } }]);
      const read = await get('old-banner');
      expect(read.statusCode).toBe(200);
      expect(read.headers.etag).toBe('"2"');
      expect(read.json<FlagAnswer>()).toMatchObject({ archivedAt: archived.items[0]!.archivedAt, environments: created.environments });
      expect(Date.parse(read.json<FlagAnswer>().archivedAt!)).toBeGreaterThan(Date.now() - 60_000);
      expect(await actions('old-banner')).toEqual(['archived', 'created']);
      // Active flags say so too: null, not absent.
      expect((await create('still-active')).archivedAt).toBeNull();
    });

    it('lists archived flags a page at a time with the same filters as the active list', async () => {
      for (const key of ['gone-a', 'gone-b', 'gone-c']) {
        await create(key);
        expect((await archive(key)).statusCode).toBe(204);
      }
      const first = (await call('viewer', { method: 'GET', url: '/flags?archived=true&q=gone-&limit=2' })).json<{
        items: FlagAnswer[];
        nextCursor: string;
      }>();
      expect(first.items.map((f) => f.key)).toEqual(['gone-a', 'gone-b']);
      const second = await listKeys(`archived=true&q=gone-&limit=2&cursor=${first.nextCursor}`);
      expect(second).toEqual(['gone-c']);
      expect(await listKeys('archived=false&q=gone-')).toEqual([]);
      expect(await listKeys('archived=true&type=string&q=gone-')).toEqual([]);
    });

    it('refuses every change to an archived flag with 409 until it is restored, and a second archive', async () => {
      await create('frozen');
      expect((await archive('frozen')).statusCode).toBe(204);
      const attempts = [
        { method: 'PUT', url: '/flags/frozen', payload: { name: 'x', type: 'boolean' } },
        { method: 'PATCH', url: '/flags/frozen/environments/production', payload: { enabled: true } },
        {
          method: 'POST',
          url: '/flags/frozen/environments/production/schedules',
          payload: { runAt: new Date(Date.now() + 3_600_000).toISOString(), change: { enabled: true } },
        },
        {
          method: 'POST',
          url: '/flags/frozen/environments/production/release-plans',
          payload: { milestones: [{ serve: { variant: 'on' }, holdSeconds: 60 }] },
        },
        { method: 'DELETE', url: '/flags/frozen' },
      ] as const;
      for (const attempt of attempts) {
        const res = await call('editor', attempt);
        expect(res.statusCode, `${attempt.method} ${attempt.url}: ${res.body}`).toBe(409);
        expect(res.json<Problem>().detail).toContain('archived');
      }
      expect((await get('frozen')).json<FlagAnswer>().version).toBe(2);
    });

    it('keeps the key taken: creating a flag with it is a 409 that says it is archived and how to free it', async () => {
      await create('taken-key');
      await archive('taken-key');
      const again = await call('editor', { method: 'POST', url: '/flags', payload: { key: 'taken-key', name: 'Again', type: 'boolean' } });
      expect(again.statusCode).toBe(409);
      expect(again.json<Problem>().detail).toMatch(/archived.*restore.*purge/);
    });

    it('restores a flag exactly as it was archived, audited, and refuses to restore an active one', async () => {
      const created = await create('comeback', {
        production: {
          enabled: true,
          defaultServe: {
            rollout: [
              { variant: 'on', weight: 30 },
              { variant: 'off', weight: 70 },
            ],
          },
        },
      });
      await archive('comeback');
      expect((await restore('comeback', 'viewer')).statusCode).toBe(403);
      const res = await restore('comeback');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers.etag).toBe('"3"');
      const restored = res.json<FlagAnswer>();
      expect(restored).toMatchObject({ version: 3, archivedAt: null, archivedBy: null, environments: created.environments });
      expect(await listKeys('q=comeback')).toEqual(['comeback']);
      expect(await listKeys('archived=true&q=comeback')).toEqual([]);
      expect(await actions('comeback')).toEqual(['restored', 'archived', 'created']);
      const twice = await restore('comeback');
      expect(twice.statusCode).toBe(409);
      expect(twice.json<Problem>().detail).toContain('not archived');
      // Changes are accepted again.
      const patched = await call('editor', {
        method: 'PATCH',
        url: '/flags/comeback/environments/production',
        payload: { enabled: false },
      });
      expect(patched.statusCode).toBe(200);
    });

    it('purges for admins only, an archived flag only: its rules first, then the row; its history stays', async () => {
      await create('purged-one');
      rules = [
        rule('11111111-1111-4111-8111-111111111111', 'purged-one', 'production'),
        rule('22222222-2222-4222-8222-222222222222', 'purged-one', 'development'),
        rule('33333333-3333-4333-8333-333333333333', 'someone-else', 'production'),
      ];
      const active = await purge('purged-one');
      expect(active.statusCode).toBe(409);
      expect(active.json<Problem>().detail).toContain('archive it');
      await archive('purged-one');
      expect((await purge('purged-one', 'editor')).statusCode).toBe(403);
      expect((await purge('purged-one', 'viewer')).statusCode).toBe(403);
      expect(deletedRules).toEqual([]);
      expect((await get('purged-one')).statusCode).toBe(200);

      const res = await purge('purged-one');
      expect(res.statusCode, res.body).toBe(204);
      expect(deletedRules.sort()).toEqual(['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']);
      expect(rules.map((r) => r.flagKey)).toEqual(['someone-else']);
      expect((await get('purged-one')).statusCode).toBe(404);
      expect(await listKeys('archived=true&q=purged-one')).toEqual([]);
      const history = await call('viewer', { method: 'GET', url: '/flags/purged-one/history' });
      expect(history.statusCode).toBe(200);
      const items = history.json<{ items: { action: string; actor: { email: string }; before: unknown; after: unknown }[] }>().items;
      expect(items.map((e) => e.action)).toEqual(['purged', 'archived', 'created']);
      expect(items[0]).toMatchObject({ actor: { email: 'admin@example.com' }, after: null, before: { key: 'purged-one' } });
      expect((await purge('purged-one')).statusCode).toBe(404);
      // The key is free again, for a new flag with nothing of the old one.
      expect((await create('purged-one')).version).toBe(1);
    });

    it('purges nothing when targeting cannot remove the rules (503), and finishes once it can', async () => {
      await create('waits-for-targeting');
      await archive('waits-for-targeting');
      rules = [rule('44444444-4444-4444-8444-444444444444', 'waits-for-targeting', 'production')];
      targetingDown = true;
      try {
        expect((await purge('waits-for-targeting')).statusCode).toBe(503);
        expect((await get('waits-for-targeting')).json<FlagAnswer>().archivedAt).not.toBeNull();
      } finally {
        targetingDown = false;
      }
      expect((await purge('waits-for-targeting')).statusCode).toBe(204);
      expect(rules).toEqual([]);
    });

    it('refuses to archive a prerequisite of an active flag, restores a dependent only after its prerequisite, purges none in use', async () => {
      await create('base');
      await create('dependent', { production: { prerequisites: [{ flagKey: 'base', variant: 'on' }] } });
      const refused = await archive('base');
      expect(refused.statusCode).toBe(409);
      expect(refused.json<Problem>().detail).toContain('dependent (production)');
      // Once the dependent is archived, nothing active needs the base.
      expect((await archive('dependent')).statusCode).toBe(204);
      expect((await archive('base')).statusCode).toBe(204);
      // No active flag may take an archived one as a prerequisite.
      await create('newcomer');
      const naming = await call('editor', {
        method: 'PATCH',
        url: '/flags/newcomer/environments/production',
        payload: { prerequisites: [{ flagKey: 'base', variant: 'on' }] },
      });
      expect(naming.statusCode).toBe(400);
      expect(naming.json<Problem>().errors?.[0]).toMatchObject({ path: 'body/prerequisites/0/flagKey' });
      // The dependent would come back with a prerequisite evaluation does not know: refused until the base is back.
      const early = await restore('dependent');
      expect(early.statusCode).toBe(409);
      expect(early.json<Problem>().detail).toContain('archived flag ("base")');
      // The archived dependent still needs the base: it cannot be purged from under it.
      const inUse = await purge('base');
      expect(inUse.statusCode).toBe(409);
      expect(inUse.json<Problem>().detail).toContain('dependent (production, archived)');
      expect((await restore('base')).statusCode).toBe(200);
      expect((await restore('dependent')).statusCode).toBe(200);
    });

    it('cancels pending scheduled changes and pauses running release plans in the same step; a restored flag’s plan can be resumed', async () => {
      const flag = await create('busy');
      const scheduled = await call('editor', {
        method: 'POST',
        url: '/flags/busy/environments/production/schedules',
        headers: { 'if-match': `"${flag.version}"` },
        payload: { runAt: new Date(Date.now() + 3_600_000).toISOString(), change: { enabled: true } },
      });
      expect(scheduled.statusCode, scheduled.body).toBe(201);
      const started = await call('editor', {
        method: 'POST',
        url: '/flags/busy/environments/development/release-plans',
        payload: {
          milestones: [
            { serve: { variant: 'off' }, holdSeconds: 3_600 },
            { serve: { variant: 'on' }, holdSeconds: 60 },
          ],
        },
      });
      expect(started.statusCode, started.body).toBe(201);
      const planId = started.json<{ id: string }>().id;

      expect((await archive('busy')).statusCode).toBe(204);
      const schedules = (await call('viewer', { method: 'GET', url: '/flags/busy/schedules' })).json<{
        items: { status: string; outcome: string }[];
      }>();
      expect(schedules.items).toMatchObject([{ status: 'cancelled', outcome: 'the flag was archived by editor@example.com' }]);
      const plans = (await call('viewer', { method: 'GET', url: '/flags/busy/release-plans' })).json<{
        items: { id: string; status: string; outcome: string; pausedRemainingMs: number }[];
      }>();
      expect(plans.items).toMatchObject([{ id: planId, status: 'paused', outcome: 'the flag was archived by editor@example.com' }]);
      expect(plans.items[0]!.pausedRemainingMs).toBeGreaterThan(3_500_000);
      const events = (await call('viewer', { method: 'GET', url: '/flags/busy/release-events' })).json<{
        items: { type: string; environment: string; actor: { email: string } | null; detail: string }[];
      }>();
      expect(events.items.slice(0, 2)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'schedule.cancelled',
            environment: 'production',
            actor: expect.objectContaining({ email: 'editor@example.com' }) as unknown,
          }),
          expect.objectContaining({
            type: 'plan.paused',
            environment: 'development',
            detail: 'the flag was archived by editor@example.com',
          }),
        ]),
      );
      const resume = await call('editor', { method: 'POST', url: `/flags/busy/release-plans/${planId}/resume` });
      expect(resume.statusCode).toBe(409);
      expect(resume.json<Problem>().detail).toContain('archived');

      expect((await restore('busy')).statusCode).toBe(200);
      const resumed = await call('editor', { method: 'POST', url: `/flags/busy/release-plans/${planId}/resume` });
      expect(resumed.statusCode, resumed.body).toBe(200);
      expect(resumed.json()).toMatchObject({ status: 'active', step: 0 });
    });

    it('archives only the version it was asked to (412 otherwise), and only for editors and admins', async () => {
      await create('contested');
      expect((await archive('contested', { 'if-match': '"7"' })).statusCode).toBe(412);
      expect((await call('viewer', { method: 'DELETE', url: '/flags/contested' })).statusCode).toBe(403);
      expect((await call(null, { method: 'POST', url: '/flags/contested/purge' })).statusCode).toBe(401);
      expect((await get('contested')).json<FlagAnswer>().archivedAt).toBeNull();
      expect((await call('admin', { method: 'DELETE', url: '/flags/contested' })).statusCode).toBe(204);
    });
  });
}
