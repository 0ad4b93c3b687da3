import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import type { FlagStore } from '../flag-store.ts';
import type { FlagRulesClient } from '../../../shared/clients/targeting-client.ts';
import type { Rule, RuleSpec } from '../../../shared/contracts/targeting-model.ts';

type Request = {
  id: string;
  status: string;
  approvals: unknown[];
  diff: unknown[];
  result: { scheduleId?: string; releasePlanId?: string };
};

describe('change requests on a protected environment', () => {
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let store: FlagStore;
  /** Targeting, as far as change requests of rules ask it: the rules there are, and setting them. */
  let rules: Rule[] = [];
  const set: { changeRequestId: string; rules: RuleSpec[] }[] = [];
  const targeting: FlagRulesClient = {
    listRulesOfFlag: async (flagKey) => rules.filter((r) => r.flagKey === flagKey),
    listRulesIn: async () => [],
    deleteRule: async () => {},
    copyRules: async () => [],
    async setRules(input, changeRequestId) {
      set.push({ changeRequestId, rules: input.rules });
      return [];
    },
  };
  const tokens: Record<'admin' | 'ann' | 'bob' | 'cat' | 'viewer', string> = { admin: '', ann: '', bob: '', cat: '', viewer: '' };

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    tokens.admin = await tokenFor('admin');
    tokens.ann = await tokenFor('editor', 'ann@example.com', '00000000-0000-4000-8000-0000000000a1');
    tokens.bob = await tokenFor('editor', 'bob@example.com', '00000000-0000-4000-8000-0000000000b1');
    tokens.cat = await tokenFor('editor', 'cat@example.com', '00000000-0000-4000-8000-0000000000c1');
    tokens.viewer = await tokenFor('viewer');
    store = createFlagStore();
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier, targeting }));
    expect((await call('admin', 'POST', '/flags', { key: 'checkout', name: 'Checkout', type: 'boolean' })).statusCode).toBe(201);
    const protect = await call('admin', 'PATCH', '/flags/environments/production', { protected: true, requiredApprovals: 2 });
    expect(protect.statusCode).toBe(200);
  });
  afterAll(async () => {
    await app.close();
  });

  function call(who: keyof typeof tokens, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: Record<string, unknown>) {
    return app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload === undefined ? {} : { payload }) });
  }
  const open = async (body: Record<string, unknown>) => {
    const opened = await call('ann', 'POST', '/flags/checkout/environments/production/change-requests', body);
    expect(opened.statusCode, opened.body).toBe(201);
    return opened.json<Request>();
  };
  const act = (who: keyof typeof tokens, id: string, action: string, comment?: string) =>
    call(who, 'POST', `/flags/change-requests/${id}/${action}`, comment ? { comment } : {});

  it('refuses direct changes there — state, schedules, release plans — saying to open a change request', async () => {
    const direct = await call('admin', 'PATCH', '/flags/checkout/environments/production', { enabled: true });
    expect(direct.statusCode).toBe(409);
    expect(direct.json()).toMatchObject({ code: 'CHANGE_REQUEST_REQUIRED' });
    const schedule = await call('ann', 'POST', '/flags/checkout/environments/production/schedules', {
      runAt: new Date(Date.now() + 60_000).toISOString(),
      change: { enabled: true },
    });
    expect(schedule.json()).toMatchObject({ code: 'CHANGE_REQUEST_REQUIRED' });
    const plan = await call('ann', 'POST', '/flags/checkout/environments/production/release-plans', {
      milestones: [{ serve: { variant: 'on' }, holdSeconds: 60 }],
    });
    expect(plan.json()).toMatchObject({ code: 'CHANGE_REQUEST_REQUIRED' });
    // Other environments are not protected.
    expect((await call('ann', 'PATCH', '/flags/checkout/environments/development', { enabled: true })).statusCode).toBe(200);
  });

  it('applies a change only with the approvals it needs, never its author’s, and once', async () => {
    const request = await open({ change: { enabled: true }, description: 'launch' });
    expect(request).toMatchObject({ status: 'open', diff: [{ path: '/enabled', before: false, after: true }] });
    expect((await act('ann', request.id, 'approve')).statusCode).toBe(403);
    expect((await act('viewer', request.id, 'approve')).statusCode).toBe(403);
    expect((await act('bob', request.id, 'apply')).statusCode).toBe(409);
    expect((await act('bob', request.id, 'approve', 'looks right')).json()).toMatchObject({
      status: 'open',
      approvals: [{ email: 'bob@example.com' }],
    });
    expect((await act('bob', request.id, 'approve')).statusCode).toBe(409);
    expect((await act('bob', request.id, 'apply')).statusCode).toBe(409);
    expect((await act('cat', request.id, 'approve')).json()).toMatchObject({ status: 'approved' });
    const applied = await act('bob', request.id, 'apply');
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({ status: 'applied', appliedBy: { email: 'bob@example.com' } });
    expect((await act('cat', request.id, 'apply')).statusCode).toBe(409);

    const flag = (await call('viewer', 'GET', '/flags/checkout')).json<{ environments: { production: { enabled: boolean } } }>();
    expect(flag.environments.production.enabled).toBe(true);
    const history = (await call('viewer', 'GET', '/flags/checkout/history')).json<{
      items: { environment: string; actor: { email: string }; cause: unknown }[];
    }>();
    const entries = history.items.filter((e) => e.environment === 'production');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: { email: 'ann@example.com' },
      cause: { changeRequestId: request.id, approvedBy: [{ email: 'bob@example.com' }, { email: 'cat@example.com' }] },
    });
    const events = (await call('viewer', 'GET', '/flags/checkout/release-events')).json<{ items: { type: string }[] }>();
    expect(events.items.map((e) => e.type).reverse()).toEqual([
      'change-request.opened',
      'change-request.approved',
      'change-request.approved',
      'change-request.applied',
    ]);
  });

  it('refuses to apply a request whose field moved since it was planned, and closes it as conflicted', async () => {
    const first = await open({ change: { enabled: false } });
    const second = await open({ change: { enabled: false, offVariant: 'off' } });
    for (const id of [first.id, second.id])
      for (const who of ['bob', 'cat'] as const) expect((await act(who, id, 'approve')).statusCode).toBe(200);
    expect((await act('bob', first.id, 'apply')).statusCode).toBe(200);
    const refused = await act('bob', second.id, 'apply');
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toMatch(/enabled changed after this was planned/);
    expect((await call('viewer', 'GET', `/flags/change-requests/${second.id}`)).json()).toMatchObject({ status: 'conflicted' });
  });

  it('creates an approved schedule or release plan as its author’s, in the protected environment', async () => {
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await open({ schedule: { runAt, change: { enabled: true } } });
    const planned = await open({ releasePlan: { milestones: [{ serve: { variant: 'on' }, holdSeconds: 60 }] } });
    for (const id of [scheduled.id, planned.id]) for (const who of ['bob', 'cat'] as const) await act(who, id, 'approve');
    const schedule = (await act('cat', scheduled.id, 'apply')).json<Request>();
    expect(schedule.result.scheduleId).toBeDefined();
    expect((await store.getSchedule(schedule.result.scheduleId!))?.createdBy.email).toBe('ann@example.com');
    const plan = (await act('cat', planned.id, 'apply')).json<Request>();
    expect((await store.getPlan(plan.result.releasePlanId!))?.status).toMatch(/active|completed/);
  });

  it('is rejected with a reason by a reviewer, or withdrawn by its author; a request that could never apply is refused at once', async () => {
    const request = await open({ change: { defaultServe: { variant: 'off' } } });
    expect((await act('bob', request.id, 'reject')).statusCode).toBe(400);
    expect((await act('bob', request.id, 'reject', 'not this week')).json()).toMatchObject({
      status: 'rejected',
      rejection: { comment: 'not this week' },
    });
    const withdrawn = await open({ change: { defaultServe: { variant: 'off' } } });
    expect((await act('bob', withdrawn.id, 'cancel')).statusCode).toBe(403);
    expect((await act('ann', withdrawn.id, 'cancel')).json()).toMatchObject({ status: 'cancelled' });
    const impossible = await call('ann', 'POST', '/flags/checkout/environments/production/change-requests', {
      change: { offVariant: 'nope' },
    });
    expect(impossible.statusCode).toBe(400);
    const two = await call('ann', 'POST', '/flags/checkout/environments/production/change-requests', {
      change: { enabled: true },
      releasePlan: { templateId: '00000000-0000-4000-8000-000000000000' },
    });
    expect(two.statusCode).toBe(400);
    const waiting = (await call('viewer', 'GET', '/flags/change-requests?waiting=true')).json<{ items: Request[] }>();
    expect(waiting.items.every((r) => r.status === 'open' || r.status === 'approved')).toBe(true);
  });

  it('proposes a flag’s rules there whole, against the rules as they were, and has targeting set them once approved', async () => {
    const rule = {
      name: 'Brazil',
      conditions: [{ attribute: 'country', operator: 'eq' as const, values: ['BR'] }],
      segments: [],
      serve: { variant: 'on' },
    };
    const existing = { ...rule, id: 'r1', flagKey: 'checkout', environment: 'production', priority: 0, name: 'Old' } as Rule;
    rules = [existing];
    const request = await open({ rules: [rule] });
    // The rules are compared whole (a list): before, the rules as they were; after, as proposed.
    expect(request.diff).toMatchObject([{ before: [{ name: 'Old' }], after: [{ name: 'Brazil' }] }]);
    for (const who of ['bob', 'cat'] as const) await act(who, request.id, 'approve');
    expect((await act('bob', request.id, 'apply')).json()).toMatchObject({ status: 'applied' });
    expect(set).toEqual([{ changeRequestId: request.id, rules: [rule] }]);

    // Rules that moved since it was opened: not forced.
    const late = await open({ rules: [] });
    for (const who of ['bob', 'cat'] as const) await act(who, late.id, 'approve');
    rules = [{ ...existing, name: 'Changed meanwhile' }];
    const refused = await act('bob', late.id, 'apply');
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toMatch(/the rules changed after this was planned/);
    expect(set).toHaveLength(1);
  });
});
