import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { fixedFlags, flagDocument } from '../../shared/testing/flags-client.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { callAs, type TestRequest } from '../../shared/testing/inject.ts';
import { buildTargetingApp } from './targeting-app.ts';
import type { TargetingStore } from './targeting-store.ts';

interface Harness {
  store: TargetingStore;
  /** Everything the store holds, to prove a rejected request wrote nothing. */
  snapshot: () => Promise<unknown>;
  /** Outbox messages written so far, oldest first (the integration harness reads the table). */
  outbox?: () => Promise<unknown[]>;
  close: () => Promise<void>;
}

const checkout = flagDocument('checkout', {
  type: 'string',
  variants: [
    { key: 'old', value: 'old' },
    { key: 'new', value: 'new' },
  ],
  environments: {
    development: { enabled: true, offVariant: 'old', defaultServe: { variant: 'old' }, prerequisites: [] },
    production: { enabled: true, offVariant: 'old', defaultServe: { variant: 'old' }, prerequisites: [] },
  },
});

const retired = flagDocument('retired', { archivedAt: new Date(0).toISOString(), archivedBy: { userId: 'u-1', email: 'a@example.com' } });

/** Two teams' flags: projects alpha and beta (and an empty project, gamma). */
const alphaFlag = flagDocument('alpha-flag', { project: 'alpha' });
const betaFlag = flagDocument('beta-flag', { project: 'beta' });

/** The targeting API's behaviour, run on the in-memory store (unit) and on PostgreSQL (integration). */
export function targetingApiContract(name: string, makeHarness: () => Promise<Harness>): void {
  describe(name, () => {
    let harness: Harness;
    let app: Awaited<ReturnType<typeof buildTargetingApp>>['app'];
    let tokens: Record<UserRole, string>;
    let tokenFor: Awaited<ReturnType<typeof testTokens>>['tokenFor'];

    beforeAll(async () => {
      harness = await makeHarness();
      const made = await testTokens();
      const { verifier } = made;
      tokenFor = made.tokenFor;
      tokens = { viewer: await tokenFor('viewer'), editor: await tokenFor('editor'), admin: await tokenFor('admin') };
      ({ app } = await buildTargetingApp({
        config: testConfig(),
        logger: createLogger('silent', 'targeting'),
        store: harness.store,
        flags: fixedFlags([checkout, flagDocument('gate'), flagDocument('crowd'), retired, alphaFlag, betaFlag], { projects: ['gamma'] }),
        verifier,
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
    const rule = (overrides: Record<string, unknown> = {}) => ({
      flagKey: 'checkout',
      environment: 'production',
      conditions: [{ attribute: 'country', operator: 'in', values: ['BR', 'US'] }],
      serve: { variant: 'new' },
      ...overrides,
    });
    const createRule = (overrides: Record<string, unknown> = {}) =>
      call('editor', { method: 'POST', url: '/targeting/rules', payload: rule(overrides) });
    const order = async () =>
      (await call('viewer', { method: 'GET', url: '/targeting/rules?flagKey=checkout&environment=production' })).json<{
        items: { id: string; name: string; priority: number }[];
      }>().items;

    it('creates segments and rules, lists them in order, and matches a context with an explanation', async () => {
      const segment = await call('editor', {
        method: 'POST',
        url: '/targeting/segments',
        payload: {
          key: 'beta',
          name: 'Beta testers',
          included: ['u-1'],
          conditions: [{ attribute: 'plan', operator: 'eq', values: ['pro'] }],
        },
      });
      expect(segment.statusCode, segment.body).toBe(201);
      const first = await createRule({ name: 'first', segments: ['beta'] });
      expect(first.statusCode, first.body).toBe(201);
      const second = await createRule({
        name: 'second',
        serve: {
          rollout: [
            { variant: 'old', weight: 50 },
            { variant: 'new', weight: 50 },
          ],
        },
      });
      expect(second.statusCode).toBe(201);
      const zeroth = await createRule({
        name: 'zeroth',
        priority: 0,
        conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@corp.example'] }],
      });
      expect(zeroth.json()).toMatchObject({ priority: 0 });
      expect((await order()).map((r) => [r.name, r.priority])).toEqual([
        ['zeroth', 0],
        ['first', 1],
        ['second', 2],
      ]);

      const match = await call('viewer', {
        method: 'POST',
        url: '/targeting/match',
        payload: { flagKey: 'checkout', environment: 'production', context: { targetingKey: 'u-1', country: 'BR' } },
      });
      expect(match.statusCode, match.body).toBe(200);
      const body = match.json<{
        result: { variant: string; reason: string; ruleId: string };
        explanation: { rules: { matched: boolean }[] };
      }>();
      expect(body.result).toMatchObject({ variant: 'new', reason: 'TARGETING_MATCH', ruleId: first.json<{ id: string }>().id });
      expect(body.explanation.rules.map((r) => r.matched)).toEqual([false, true, true]);
      const nobody = await call('viewer', {
        method: 'POST',
        url: '/targeting/match',
        payload: { flagKey: 'checkout', environment: 'production', context: { targetingKey: 'u-9', country: 'FR' } },
      });
      expect(nobody.json()).toMatchObject({ result: { variant: 'old', reason: 'DEFAULT' } });
    });

    it('refuses unknown operators, variants, segments, flags, environments and bad weights, writing nothing', async () => {
      const before = await harness.snapshot();
      const cases: [Record<string, unknown>, string][] = [
        [{ conditions: [{ attribute: 'country', operator: 'resembles', values: ['BR'] }] }, 'body/conditions/0/operator'],
        [{ serve: { variant: 'newest' } }, 'body/serve/variant'],
        [{ segments: ['ghosts'] }, 'body/segments'],
        [{ conditions: [{ attribute: 'x', operator: 'in_segment', values: ['ghosts'] }] }, 'body/segments'],
        [{ flagKey: 'nope' }, 'body/flagKey'],
        [{ environment: 'staging' }, 'body/environment'],
        [
          {
            serve: {
              rollout: [
                { variant: 'old', weight: 60 },
                { variant: 'new', weight: 30 },
              ],
            },
          },
          'body/serve/rollout',
        ],
        [{ conditions: [{ attribute: 'age', operator: 'gt', values: ['old'] }] }, 'body/conditions/0'],
        [{ conditions: [{ attribute: 'v', operator: 'semver_gt', values: ['1.x'] }] }, 'body/conditions/0'],
        [{ conditions: [{ attribute: 'email', operator: 'matches', values: ['(unclosed'] }] }, 'body/conditions/0'],
        [{ owner: 'me' }, 'body'],
      ];
      for (const [overrides, path] of cases) {
        const res = await createRule(overrides);
        expect(res.statusCode, JSON.stringify(overrides)).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        const paths = res.json<{ errors?: { path: string }[] }>().errors?.map((e) => e.path) ?? [];
        expect(
          paths.some((p) => p.startsWith(path)),
          `${JSON.stringify(overrides)} → ${paths.join(', ')}`,
        ).toBe(true);
      }
      expect(await harness.snapshot()).toEqual(before);
    });

    it('reorders rules only with the complete list of them', async () => {
      const current = await order();
      const reversed = [...current].reverse().map((r) => r.id);
      const res = await call('editor', {
        method: 'PUT',
        url: '/targeting/rules/order',
        payload: { flagKey: 'checkout', environment: 'production', ruleIds: reversed },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect((await order()).map((r) => r.id)).toEqual(reversed);
      const partial = await call('editor', {
        method: 'PUT',
        url: '/targeting/rules/order',
        payload: { flagKey: 'checkout', environment: 'production', ruleIds: reversed.slice(1) },
      });
      expect(partial.statusCode).toBe(400);
    });

    it('updates and deletes rules, keeping priorities dense', async () => {
      const [first, second] = await order();
      const updated = await call('editor', {
        method: 'PUT',
        url: `/targeting/rules/${first!.id}`,
        payload: { name: 'renamed', conditions: [], serve: { variant: 'old' } },
      });
      expect(updated.json()).toMatchObject({ name: 'renamed', priority: 0 });
      expect((await call('editor', { method: 'DELETE', url: `/targeting/rules/${first!.id}` })).statusCode).toBe(204);
      const after = await order();
      expect(after[0]).toMatchObject({ id: second!.id, priority: 0 });
      expect(after.map((r) => r.priority)).toEqual(after.map((_, i) => i));
      expect((await call('viewer', { method: 'GET', url: `/targeting/rules/${first!.id}` })).statusCode).toBe(404);
    });

    it('protects a segment in use, and refuses a stale segment write with 412', async () => {
      await call('editor', { method: 'POST', url: '/targeting/segments', payload: { key: 'staff', name: 'Staff', included: ['a'] } });
      const v2 = await call('editor', {
        method: 'PUT',
        url: '/targeting/segments/staff',
        headers: { 'if-match': '"1"' },
        payload: { name: 'Staff', included: ['a', 'b'] },
      });
      expect(v2.headers.etag).toBe('"2"');
      const stale = await call('editor', {
        method: 'PUT',
        url: '/targeting/segments/staff',
        headers: { 'if-match': '"1"' },
        payload: { name: 'Staff', included: [] },
      });
      expect(stale.statusCode).toBe(412);
      await createRule({ conditions: [{ attribute: 'targetingKey', operator: 'in_segment', values: ['staff'] }] });
      const refused = await call('editor', { method: 'DELETE', url: '/targeting/segments/staff' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json<{ detail: string }>().detail).toContain('checkout');

      // Used in a rule's `segments` too; a condition merely listing the key as a value (not a segment condition) is no use.
      await call('editor', { method: 'POST', url: '/targeting/segments', payload: { key: 'listed', name: 'Listed', included: ['a'] } });
      await call('editor', { method: 'POST', url: '/targeting/segments', payload: { key: 'word', name: 'Word', included: ['a'] } });
      await createRule({ conditions: [{ attribute: 'team', operator: 'in', values: ['word'] }], segments: ['listed'] });
      const listed = await call('editor', { method: 'DELETE', url: '/targeting/segments/listed' });
      expect(listed.statusCode).toBe(409);
      expect(listed.json<{ detail: string }>().detail).toContain('checkout (production)');
      expect((await call('editor', { method: 'DELETE', url: '/targeting/segments/word' })).statusCode).toBe(204);
    });

    it('enforces roles, and lets no SDK key read rules or segments (their user lists included)', async () => {
      expect((await call('viewer', { method: 'POST', url: '/targeting/rules', payload: rule() })).statusCode).toBe(403);
      expect((await call(null, { method: 'GET', url: '/targeting/rules' })).statusCode).toBe(401);
      expect((await call('viewer', { method: 'POST', url: '/targeting/segments', payload: { key: 'x', name: 'x' } })).statusCode).toBe(403);
      const sdk = { 'x-api-key': 'tm_some-sdk-key' };
      expect((await call(null, { method: 'GET', url: '/targeting/rules', headers: sdk })).statusCode).toBe(401);
      expect((await call(null, { method: 'GET', url: '/targeting/segments', headers: sdk })).statusCode).toBe(401);
      expect((await call(null, { method: 'POST', url: '/targeting/rules', headers: sdk, payload: rule() })).statusCode).toBe(401);
    });

    // Megabytes of JSON each way, many times: longer than the default 5 s on a busy machine.
    it('holds a segment of 100,000 keys: created, read back, used by a rule, matched, replaced; 100,001 are refused', async () => {
      // ~4 MB of JSON: more than the service's default body limit, and ten times the list limit there was before.
      const keys = Array.from({ length: 100_000 }, (_, i) => `member-${String(i).padStart(6, '0')}-of-the-crowd`);
      const created = await call('editor', {
        method: 'POST',
        url: '/targeting/segments',
        payload: { key: 'crowd', name: 'Crowd', included: keys },
      });
      expect(created.statusCode, created.body.slice(0, 300)).toBe(201);
      const read = await call('viewer', { method: 'GET', url: '/targeting/segments/crowd' });
      const readKeys = read.json<{ included: string[] }>().included;
      expect(readKeys).toHaveLength(100_000);
      expect([...readKeys].sort().join()).toBe(keys.join());
      const used = await createRule({ flagKey: 'crowd', conditions: [], segments: ['crowd'], serve: { variant: 'on' } });
      expect(used.statusCode, used.body).toBe(201);
      const match = async (targetingKey: string) =>
        (
          await call('viewer', {
            method: 'POST',
            url: '/targeting/match',
            payload: { flagKey: 'crowd', environment: 'production', context: { targetingKey } },
          })
        ).json<{ result: { reason: string; ruleId?: string } }>().result;
      expect(await match(keys[99_999]!)).toMatchObject({ reason: 'TARGETING_MATCH', ruleId: used.json<{ id: string }>().id });
      expect((await match('stranger')).reason).not.toBe('TARGETING_MATCH');

      const replaced = await call('editor', {
        method: 'PUT',
        url: '/targeting/segments/crowd',
        payload: { name: 'Crowd', included: [...keys.slice(0, 99_999), 'newcomer'] },
      });
      expect(replaced.statusCode, replaced.body.slice(0, 300)).toBe(200);
      expect((await match('newcomer')).reason).toBe('TARGETING_MATCH');
      expect((await match(keys[99_999]!)).reason).not.toBe('TARGETING_MATCH');
      // The history records the key added and the one removed, not the 100,000 keys twice over.
      const [update] = (await call('viewer', { method: 'GET', url: '/targeting/history?segmentKey=crowd&limit=1' })).json<{
        items: { action: string; changes: unknown[]; before: Record<string, unknown>; after: Record<string, unknown> }[];
      }>().items;
      expect(update).toMatchObject({ action: 'updated', before: { includedCount: 100_000 }, after: { includedCount: 100_000 } });
      expect(update!.after).not.toHaveProperty('included');
      expect(update!.changes).toEqual([
        { path: '/included/added', before: null, after: ['newcomer'] },
        { path: '/included/removed', before: [keys[99_999]], after: null },
      ]);

      // A few keys changed without sending the lists: one more is refused at 100,000, one for one is taken.
      const patch = (payload: object) => call('editor', { method: 'PATCH', url: '/targeting/segments/crowd/keys', payload });
      const overfull = await patch({ included: { add: ['one-more'] } });
      expect(overfull.statusCode).toBe(400);
      expect(overfull.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(overfull.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['body/included/add']);
      const swapped = await patch({ included: { add: ['one-more'], remove: ['newcomer'] } });
      expect(swapped.statusCode, swapped.body).toBe(200);
      expect(swapped.json()).toMatchObject({ key: 'crowd', includedCount: 100_000, excludedCount: 0 });
      expect(swapped.body.length).toBeLessThan(500);
      expect((await match('one-more')).reason).toBe('TARGETING_MATCH');
      expect((await match('newcomer')).reason).not.toBe('TARGETING_MATCH');

      const tooMany = await call('editor', {
        method: 'POST',
        url: '/targeting/segments',
        payload: { key: 'crowd-too-big', name: 'Too big', included: [...keys, 'one-more'] },
      });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(tooMany.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain('body/included');
      expect((await call('viewer', { method: 'GET', url: '/targeting/segments/crowd-too-big' })).statusCode).toBe(404);
      // 100,000 keys of 200 characters: ~20 MB, past the 16 MiB a segment write may send.
      const tooLarge = await call('editor', {
        method: 'POST',
        url: '/targeting/segments',
        payload: { key: 'crowd-too-large', name: 'Too large', included: keys.map((key) => key.padEnd(200, '.')) },
      });
      expect(tooLarge.statusCode).toBe(413);
      expect(tooLarge.headers['content-type']).toMatch(/^application\/problem\+json/);
    }, 60_000);

    it("adds and removes a segment's keys without its lists (PATCH …/keys), with If-Match, in the history", async () => {
      await call('editor', {
        method: 'POST',
        url: '/targeting/segments',
        payload: { key: 'patchy', name: 'Patchy', included: ['a', 'b'], excluded: ['x'] },
      });
      const patch = (payload: object, role: UserRole = 'editor', headers: Record<string, string> = {}) =>
        call(role, { method: 'PATCH', url: '/targeting/segments/patchy/keys', payload, headers });
      const changed = await patch({ included: { add: ['c', 'a', 'd'], remove: ['b', 'd'] }, excluded: { remove: ['x', 'y'] } }, 'editor', {
        'if-match': '"1"',
      });
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.headers.etag).toBe('"2"');
      expect(changed.json()).toMatchObject({ key: 'patchy', project: 'default', version: 2, includedCount: 2, excludedCount: 0 });
      expect((await call('viewer', { method: 'GET', url: '/targeting/segments/patchy' })).json()).toMatchObject({
        included: ['a', 'c'],
        excluded: [],
        version: 2,
      });
      const history = async () =>
        (await call('viewer', { method: 'GET', url: '/targeting/history?segmentKey=patchy' })).json<{
          items: { action: string; changes: unknown[] }[];
        }>().items;
      // `d` was added and removed in the same request: no change of it.
      expect((await history())[0]!.changes).toEqual([
        { path: '/excludedCount', before: 1, after: 0 },
        { path: '/included/added', before: null, after: ['c'] },
        { path: '/included/removed', before: ['b'], after: null },
        { path: '/excluded/removed', before: ['x'], after: null },
      ]);
      if (harness.outbox) expect((await harness.outbox()).at(-1)).toEqual({ kind: 'segment', key: 'patchy' });

      expect((await patch({ included: { add: ['z'] } }, 'editor', { 'if-match': '"1"' })).statusCode).toBe(412);
      // Nothing to change: nothing written, the same version.
      const same = await patch({ included: { add: ['a'], remove: ['nobody'] } });
      expect(same.json()).toMatchObject({ version: 2 });
      expect(await history()).toHaveLength(2);
      expect((await patch({ included: { add: ['z'] } }, 'viewer')).statusCode).toBe(403);
      expect((await patch({ included: { put: ['z'] } })).statusCode).toBe(400);
      expect((await patch({ included: { add: [''] } })).statusCode).toBe(400);
      expect((await call('editor', { method: 'PATCH', url: '/targeting/segments/nothing-here/keys', payload: {} })).statusCode).toBe(404);
    });

    it('records every change in the history, newest first', async () => {
      const res = await call('viewer', { method: 'GET', url: '/targeting/history?flagKey=checkout' });
      const actions = res.json<{ items: { action: string; entity: string; actor: { email: string } }[] }>().items;
      expect(actions.length).toBeGreaterThan(5);
      expect(actions.map((a) => a.action)).toContain('reordered');
      expect(actions.map((a) => a.action)).toContain('deleted');
      expect(actions[0]?.actor.email).toBe('editor@example.com');
      const segmentHistory = await call('viewer', { method: 'GET', url: '/targeting/history?segmentKey=staff' });
      expect(segmentHistory.json<{ items: { action: string }[] }>().items.map((a) => a.action)).toEqual(['updated', 'created']);
    });

    it('writes an outbox message with every change', async () => {
      if (!harness.outbox) return;
      const messages = await harness.outbox();
      expect(messages.length).toBeGreaterThan(8);
      expect(messages).toContainEqual({ kind: 'rules', flagKey: 'checkout', environment: 'production' });
      expect(messages).toContainEqual({ kind: 'segment', key: 'staff' });
    });

    type Listed = {
      id: string;
      environment: string;
      priority: number;
      name: string;
      conditions: unknown;
      segments: unknown;
      serve: unknown;
    };
    const rulesIn = async (environment: string) =>
      (await call('viewer', { method: 'GET', url: `/targeting/rules?flagKey=checkout&environment=${environment}` })).json<{
        items: Listed[];
      }>().items;
    const copy = (payload: Record<string, unknown>, role: UserRole = 'editor') =>
      call(role, {
        method: 'PUT',
        url: '/targeting/rules/copy',
        payload: { flagKey: 'checkout', from: 'production', to: 'development', ...payload },
      });

    it('copies the rules of one environment over those of another: same order, new ids, one audited change', async () => {
      await createRule({ name: 'second', serve: { variant: 'old' } });
      const source = await rulesIn('production');
      expect(source.length).toBeGreaterThan(1);
      const replaced = await createRule({ environment: 'development', name: 'replaced by the copy' });
      expect(replaced.statusCode, replaced.body).toBe(201);
      const newestBefore = (await call('viewer', { method: 'GET', url: '/targeting/history?flagKey=checkout&limit=1' })).json<{
        items: { id: number }[];
      }>().items[0]!.id;
      const outboxBefore = (await harness.outbox?.())?.length ?? 0;

      const res = await copy({});
      expect(res.statusCode, res.body).toBe(200);
      const copies = res.json<{ items: Listed[] }>().items;
      const content = ({ name, priority, conditions, segments, serve }: Listed) => ({ name, priority, conditions, segments, serve });
      expect(copies.map(content)).toEqual(source.map(content));
      expect(copies.every((r) => r.environment === 'development')).toBe(true);
      expect(copies.filter((r) => source.some((s) => s.id === r.id))).toEqual([]);
      expect((await rulesIn('development')).map((r) => r.id)).toEqual(copies.map((r) => r.id));
      expect(await rulesIn('production')).toEqual(source);

      const history = await call('viewer', { method: 'GET', url: '/targeting/history?flagKey=checkout&limit=50' });
      const entries = history
        .json<{ items: { id: number; action: string; entityKey: string; environment: string; actor: { email: string } }[] }>()
        .items.filter((e) => e.id > newestBefore);
      expect(entries.map((e) => [e.action, e.entityKey]).sort()).toEqual(
        [['deleted', replaced.json<{ id: string }>().id], ...copies.map((r) => ['created', r.id])].sort(),
      );
      expect(entries.every((e) => e.environment === 'development' && e.actor.email === 'editor@example.com')).toBe(true);
      if (harness.outbox) {
        // One change to publish for the whole copy.
        expect((await harness.outbox()).slice(outboxBefore)).toEqual([{ kind: 'rules', flagKey: 'checkout', environment: 'development' }]);
      }

      // Copying nothing over something leaves nothing.
      const emptied = await copy({ flagKey: 'gate', from: 'development', to: 'production' });
      expect(emptied.statusCode, emptied.body).toBe(200);
      expect(emptied.json()).toEqual({ items: [] });
    });

    it('refuses a copy for an unknown or archived flag, an unknown environment, or onto itself, writing nothing', async () => {
      const before = await harness.snapshot();
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ to: 'production' }, 'body/to', /environment copied from/],
        [{ to: 'staging' }, 'body/to', /is not an environment/],
        [{ from: 'qa' }, 'body/from', /is not an environment/],
        [{ flagKey: 'nope' }, 'body/flagKey', /names no flag/],
        [{ flagKey: 'retired' }, 'body/flagKey', /archived flag \("retired"\)/],
      ];
      for (const [payload, path, message] of cases) {
        const res = await copy(payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json(), JSON.stringify(payload)).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path }] });
        expect(res.json<{ detail: string }>().detail).toMatch(message);
      }
      expect((await copy({}, 'viewer')).statusCode).toBe(403);
      expect(await harness.snapshot()).toEqual(before);
    });

    describe('in projects', () => {
      /** Account viewers (the default project's) with roles granted in projects by membership. */
      const people = {
        ann: { email: 'ann@example.com', id: '00000000-0000-4000-8000-0000000000a1', projects: { alpha: 'viewer' } },
        eve: { email: 'eve@example.com', id: '00000000-0000-4000-8000-0000000000a2', projects: { alpha: 'editor' } },
        bea: { email: 'bea@example.com', id: '00000000-0000-4000-8000-0000000000b1', projects: { beta: 'editor' } },
      } as const;
      const personal: Partial<Record<keyof typeof people, string>> = {};
      let alphaRule: string;
      let betaRule: string;

      const as = (who: keyof typeof people | 'admin', request: TestRequest) =>
        app.inject({
          ...request,
          headers: { authorization: `Bearer ${who === 'admin' ? tokens.admin : personal[who]}`, ...request.headers },
        });
      const keysOf = async (response: ReturnType<typeof as>) =>
        (await response).json<{ items: { key: string }[] }>().items.map((s) => s.key);
      const refused = async (response: ReturnType<typeof as>, detail: RegExp | string) => {
        const answer = await response;
        expect(answer.statusCode, answer.body).toBe(403);
        expect(answer.json<{ detail: string }>().detail).toMatch(detail);
      };

      beforeAll(async () => {
        for (const [name, person] of Object.entries(people))
          personal[name as keyof typeof people] = await tokenFor('viewer', person.email, person.id, { ...person.projects });
        for (const [project, key] of [
          ['alpha', 'alpha-seg'],
          ['beta', 'beta-seg'],
        ]) {
          const created = await as('admin', {
            method: 'POST',
            url: `/targeting/segments?project=${project}`,
            payload: { key, name: key, included: [`${project}-user`] },
          });
          expect(created.statusCode, created.body).toBe(201);
          expect(created.json()).toMatchObject({ key, project });
        }
        const alpha = await as('eve', {
          method: 'POST',
          url: '/targeting/rules',
          payload: rule({ flagKey: 'alpha-flag', segments: ['alpha-seg'], serve: { variant: 'on' } }),
        });
        expect(alpha.statusCode, alpha.body).toBe(201);
        alphaRule = alpha.json<{ id: string }>().id;
        const beta = await as('bea', {
          method: 'POST',
          url: '/targeting/rules',
          payload: rule({ flagKey: 'beta-flag', segments: ['beta-seg'], serve: { variant: 'on' } }),
        });
        expect(beta.statusCode, beta.body).toBe(201);
        betaRule = beta.json<{ id: string }>().id;
      });

      it("lists a project's segments only, to those who hold a role in it", async () => {
        expect(await keysOf(as('ann', { method: 'GET', url: '/targeting/segments?project=alpha' }))).toEqual(['alpha-seg']);
        expect(await keysOf(as('admin', { method: 'GET', url: '/targeting/segments?project=beta' }))).toEqual(['beta-seg']);
        expect(await keysOf(as('admin', { method: 'GET', url: '/targeting/segments?project=gamma' }))).toEqual([]);
        // The original path: the default project's, as before.
        const defaults = await keysOf(call('viewer', { method: 'GET', url: '/targeting/segments' }));
        expect(defaults).toContain('beta');
        expect(defaults).not.toContain('alpha-seg');
        expect(defaults).not.toContain('beta-seg');
        await refused(as('ann', { method: 'GET', url: '/targeting/segments?project=beta' }), 'You have no role in project beta');
      });

      it('reads and changes a segment in its own project only', async () => {
        const alpha = await as('ann', { method: 'GET', url: '/targeting/segments/alpha-seg' });
        expect(alpha.statusCode, alpha.body).toBe(200);
        expect(alpha.json()).toMatchObject({ key: 'alpha-seg', project: 'alpha' });
        await refused(as('ann', { method: 'GET', url: '/targeting/segments/beta-seg' }), 'You have no role in project beta');
        await refused(as('eve', { method: 'PUT', url: '/targeting/segments/beta-seg', payload: { name: 'mine' } }), 'project beta');
        await refused(as('eve', { method: 'DELETE', url: '/targeting/segments/beta-seg' }), 'project beta');
        await refused(
          as('ann', { method: 'PUT', url: '/targeting/segments/alpha-seg', payload: { name: 'x' } }),
          'needs the editor role in project alpha',
        );
        expect((await as('ann', { method: 'GET', url: '/targeting/segments/no-such-segment' })).statusCode).toBe(404);

        // Sent back as GET answered it, project and all; a segment does not move to another project.
        const same = await as('eve', { method: 'PUT', url: '/targeting/segments/alpha-seg', payload: alpha.json<object>() });
        expect(same.statusCode, same.body).toBe(200);
        expect(same.json()).toMatchObject({ project: 'alpha', version: 2 });
        const moved = await as('eve', {
          method: 'PUT',
          url: '/targeting/segments/alpha-seg',
          payload: { ...same.json<object>(), project: 'beta' },
        });
        expect(moved.statusCode).toBe(400);
        expect(moved.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/project' }] });
      });

      it('creates a segment only where the caller is an editor, in a project there is', async () => {
        const made = await as('eve', {
          method: 'POST',
          url: '/targeting/segments?project=alpha',
          payload: { key: 'alpha-temp', name: 'Temp' },
        });
        expect(made.statusCode, made.body).toBe(201);
        expect(made.json()).toMatchObject({ key: 'alpha-temp', project: 'alpha' });
        await refused(
          as('eve', { method: 'POST', url: '/targeting/segments?project=beta', payload: { key: 'sneaky', name: 'x' } }),
          'You have no role in project beta',
        );
        await refused(
          as('eve', { method: 'POST', url: '/targeting/segments', payload: { key: 'sneaky', name: 'x' } }),
          'needs the editor role in project default',
        );
        await refused(
          as('ann', { method: 'POST', url: '/targeting/segments?project=alpha', payload: { key: 'sneaky', name: 'x' } }),
          'needs the editor role in project alpha',
        );
        const nowhere = await as('admin', {
          method: 'POST',
          url: '/targeting/segments?project=nowhere',
          payload: { key: 'sneaky', name: 'x' },
        });
        expect(nowhere.statusCode, nowhere.body).toBe(404);
        expect(nowhere.json<{ detail: string }>().detail).toContain('No project "nowhere"');
        // Keys are unique across projects.
        expect(
          (await as('bea', { method: 'POST', url: '/targeting/segments?project=beta', payload: { key: 'alpha-temp', name: 'x' } }))
            .statusCode,
        ).toBe(409);
        expect((await as('eve', { method: 'DELETE', url: '/targeting/segments/alpha-temp' })).statusCode).toBe(204);
      });

      it("lets a rule use only segments of its flag's project, naming the other", async () => {
        const before = await harness.snapshot();
        for (const [overrides, what] of [
          [{ segments: ['beta-seg'] }, 'segments'],
          [{ conditions: [{ attribute: 'targetingKey', operator: 'in_segment', values: ['beta-seg'] }] }, 'an in_segment condition'],
        ] as const) {
          const res = await as('eve', {
            method: 'POST',
            url: '/targeting/rules',
            payload: rule({ flagKey: 'alpha-flag', serve: { variant: 'on' }, ...overrides }),
          });
          expect(res.statusCode, what).toBe(400);
          expect(res.json(), what).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/segments' }] });
          expect(res.json<{ detail: string }>().detail).toContain('"beta-seg"');
        }
        const edited = await as('eve', {
          method: 'PUT',
          url: `/targeting/rules/${alphaRule}`,
          payload: { conditions: [], segments: ['beta-seg'], serve: { variant: 'on' } },
        });
        expect(edited.statusCode).toBe(400);
        // Nor may a segment of the default project be used by alpha's flag.
        const fromDefault = await as('eve', {
          method: 'POST',
          url: '/targeting/rules',
          payload: rule({ flagKey: 'alpha-flag', segments: ['beta'], serve: { variant: 'on' } }),
        });
        expect(fromDefault.statusCode).toBe(400);
        expect(await harness.snapshot()).toEqual(before);
      });

      it("guards every rule route in the project of the rule's flag", async () => {
        const listed = await as('ann', { method: 'GET', url: '/targeting/rules?flagKey=alpha-flag' });
        expect(listed.json<{ items: { id: string }[] }>().items.map((r) => r.id)).toEqual([alphaRule]);
        expect((await as('ann', { method: 'GET', url: `/targeting/rules/${alphaRule}` })).statusCode).toBe(200);
        const matched = await as('ann', {
          method: 'POST',
          url: '/targeting/match',
          payload: { flagKey: 'alpha-flag', environment: 'production', context: { targetingKey: 'alpha-user', country: 'BR' } },
        });
        expect(matched.statusCode, matched.body).toBe(200);
        expect(matched.json()).toMatchObject({ result: { variant: 'on', reason: 'TARGETING_MATCH', ruleId: alphaRule } });

        const beta = 'You have no role in project beta';
        await refused(as('ann', { method: 'GET', url: '/targeting/rules?flagKey=beta-flag&environment=production' }), beta);
        await refused(as('ann', { method: 'GET', url: `/targeting/rules/${betaRule}` }), beta);
        await refused(
          as('ann', { method: 'POST', url: '/targeting/match', payload: { flagKey: 'beta-flag', environment: 'production', context: {} } }),
          beta,
        );
        await refused(
          as('eve', { method: 'POST', url: '/targeting/rules', payload: rule({ flagKey: 'beta-flag', serve: { variant: 'on' } }) }),
          beta,
        );
        await refused(
          as('eve', { method: 'PUT', url: `/targeting/rules/${betaRule}`, payload: { conditions: [], serve: { variant: 'off' } } }),
          beta,
        );
        await refused(as('eve', { method: 'DELETE', url: `/targeting/rules/${betaRule}` }), beta);
        await refused(
          as('eve', {
            method: 'PUT',
            url: '/targeting/rules/order',
            payload: { flagKey: 'beta-flag', environment: 'production', ruleIds: [betaRule] },
          }),
          beta,
        );
        await refused(
          as('eve', {
            method: 'PUT',
            url: '/targeting/rules/copy',
            payload: { flagKey: 'beta-flag', from: 'production', to: 'development' },
          }),
          beta,
        );
        await refused(
          as('eve', {
            method: 'PUT',
            url: '/targeting/rules/set',
            payload: { flagKey: 'beta-flag', environment: 'production', rules: [] },
          }),
          beta,
        );
        // A viewer of alpha writes nothing there; an editor of alpha does.
        await refused(
          as('ann', { method: 'PUT', url: `/targeting/rules/${alphaRule}`, payload: { conditions: [], serve: { variant: 'off' } } }),
          'needs the editor role in project alpha',
        );
        await refused(
          as('ann', { method: 'POST', url: '/targeting/rules', payload: rule({ flagKey: 'alpha-flag', serve: { variant: 'on' } }) }),
          'needs the editor role',
        );
        const reordered = await as('eve', {
          method: 'PUT',
          url: '/targeting/rules/order',
          payload: { flagKey: 'alpha-flag', environment: 'production', ruleIds: [alphaRule] },
        });
        expect(reordered.statusCode, reordered.body).toBe(200);
        // The default project's editor has no role in alpha.
        await refused(call('editor', { method: 'DELETE', url: `/targeting/rules/${alphaRule}` }), 'You have no role in project alpha');
        // A flag there is not: 400 naming it, as before (the caller holds the role somewhere).
        const ghost = await as('eve', { method: 'POST', url: '/targeting/rules', payload: rule({ flagKey: 'ghost' }) });
        expect(ghost.statusCode).toBe(400);
        expect(ghost.json()).toMatchObject({ errors: [{ path: 'body/flagKey' }] });
        expect((await as('ann', { method: 'GET', url: '/targeting/rules?flagKey=ghost' })).json()).toEqual({ items: [] });
      });

      it('lists the rules of every flag, of every project, to the organisation admin only', async () => {
        const all = await as('admin', { method: 'GET', url: '/targeting/rules?environment=production' });
        expect(all.statusCode).toBe(200);
        const flagKeys = new Set(all.json<{ items: { flagKey: string }[] }>().items.map((r) => r.flagKey));
        expect([...flagKeys].sort()).toEqual(expect.arrayContaining(['alpha-flag', 'beta-flag', 'checkout']));
        await refused(as('ann', { method: 'GET', url: '/targeting/rules?environment=production' }), 'organisation admin');
        await refused(call('editor', { method: 'GET', url: '/targeting/rules' }), 'organisation admin');
      });

      it("answers a history to those who may see its project's, also once the segment is deleted", async () => {
        type Entries = { items: { project: string; entity: string; entityKey: string; flagKey: string | null; action: string }[] };
        const ofAlpha = (await as('ann', { method: 'GET', url: '/targeting/history?project=alpha' })).json<Entries>().items;
        expect(ofAlpha.length).toBeGreaterThan(2);
        expect(ofAlpha.every((e) => e.project === 'alpha')).toBe(true);
        expect(ofAlpha.map((e) => e.entityKey)).toContain('alpha-seg');
        expect(ofAlpha.map((e) => e.flagKey)).toContain('alpha-flag');
        const ofFlag = (await as('ann', { method: 'GET', url: '/targeting/history?flagKey=alpha-flag' })).json<Entries>().items;
        expect(ofFlag.map((e) => e.action)).toEqual(['reordered', 'created']);
        // The temporary segment was deleted: its history stays alpha's.
        const ofDeleted = (await as('ann', { method: 'GET', url: '/targeting/history?segmentKey=alpha-temp' })).json<Entries>().items;
        expect(ofDeleted.map((e) => e.action)).toEqual(['deleted', 'created']);
        await refused(as('bea', { method: 'GET', url: '/targeting/history?segmentKey=alpha-temp' }), 'You have no role in project alpha');
        await refused(as('ann', { method: 'GET', url: '/targeting/history?project=beta' }), 'You have no role in project beta');
        await refused(as('ann', { method: 'GET', url: '/targeting/history?flagKey=beta-flag' }), 'You have no role in project beta');
        await refused(as('ann', { method: 'GET', url: '/targeting/history?segmentKey=beta-seg' }), 'You have no role in project beta');
        // The default project's history (the original path) holds nothing of alpha or beta.
        const ofDefault = (await call('viewer', { method: 'GET', url: '/targeting/history?limit=200' })).json<Entries>().items;
        expect(ofDefault.length).toBeGreaterThan(0);
        expect(ofDefault.every((e) => e.project === 'default')).toBe(true);
        // Nothing was ever written about it: an empty page.
        expect((await as('ann', { method: 'GET', url: '/targeting/history?segmentKey=never-was' })).json()).toEqual({
          items: [],
          nextCursor: null,
        });
      });
    });
  });
}
