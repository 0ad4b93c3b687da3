import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { createFlagService } from '../flag-service.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import { createScheduleService } from './schedule-service.ts';

/** Scheduled changes through the flags API, on the in-memory store, with a clock the test moves. */
describe('scheduled changes', () => {
  // The API plans with the real clock; the worker's clock is moved past the planned times.
  let clock = new Date();
  const store = createFlagStore();
  const alarms: { id: string; runAt: Date }[] = [];
  const alarm = { set: async (s: { id: string; runAt: Date }) => void alarms.push({ id: s.id, runAt: s.runAt }) };
  // The release worker's side: the same service code over the same store.
  const worker = createScheduleService({
    store,
    flags: createFlagService({ store, environments: ['development', 'production'], now: () => clock }),
    alarm,
    onAlarmFailure: () => {},
    now: () => clock,
  });
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let editor: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    editor = await tokenFor('editor', 'planner@example.com');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier, alarm }));
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${editor}`, ...headers }, ...(payload ? { payload } : {}) });
  const newFlag = async (key: string) => {
    const res = await call('POST', '/flags', { key, name: key, type: 'boolean', environments: { production: { enabled: false } } });
    expect(res.statusCode, res.body).toBe(201);
  };
  const schedule = (key: string, change: object, runAt: Date, version = '"1"') =>
    call('POST', `/flags/${key}/environments/production/schedules`, { runAt: runAt.toISOString(), change }, { 'if-match': version });
  /** A time `s` seconds from now, by the real clock the API plans with. */
  const inSeconds = (s: number) => new Date(Date.now() + s * 1000);

  it('plans a change for a time, sets its alarm, and applies it once when due, naming the schedule and its author', async () => {
    await newFlag('launch');
    const created = await schedule('launch', { enabled: true }, inSeconds(60));
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect(created.json()).toMatchObject({ status: 'pending', plannedVersion: 1, createdBy: { email: 'planner@example.com' } });
    expect(alarms.at(-1)).toMatchObject({ id });
    expect(await worker.run(id)).toBe('not-due');
    clock = inSeconds(60);
    expect(await worker.run(id)).toBe('applied');
    expect(await worker.run(id)).toBe('not-pending');
    const flag = await call('GET', '/flags/launch');
    expect(flag.json()).toMatchObject({ version: 2, environments: { production: { enabled: true } } });
    const history = await call('GET', '/flags/launch/history');
    expect(history.json<{ items: unknown[] }>().items[0]).toMatchObject({
      action: 'environment-updated',
      actor: { email: 'planner@example.com' },
      cause: { scheduleId: id },
    });
    expect((await call('GET', '/flags/launch/schedules')).json()).toMatchObject({ items: [{ id, status: 'applied' }] });
    expect((await call('GET', '/flags/launch/release-events')).json()).toMatchObject({
      items: [{ type: 'schedule.applied', scheduleId: id, environment: 'production', actor: { email: 'planner@example.com' } }],
    });
  });

  it('records a conflict, and changes nothing, when a field it changes moved after it was planned', async () => {
    await newFlag('moved');
    const { id } = (await schedule('moved', { enabled: true, offVariant: 'on' }, inSeconds(30))).json<{ id: string }>();
    // Someone turned it on by hand meanwhile: the plan was made on a state that is gone.
    expect((await call('PATCH', '/flags/moved/environments/production', { enabled: true })).statusCode).toBe(200);
    clock = inSeconds(30);
    expect(await worker.run(id)).toBe('conflicted');
    const [listed] = (await call('GET', '/flags/moved/schedules')).json<{ items: { status: string; outcome: string }[] }>().items;
    expect(listed).toMatchObject({ status: 'conflicted' });
    expect(listed?.outcome).toContain('enabled changed after this was planned');
    expect((await call('GET', '/flags/moved/release-events')).json()).toMatchObject({
      items: [{ type: 'schedule.conflicted', scheduleId: id, actor: null, detail: listed?.outcome }],
    });
    expect((await call('GET', '/flags/moved')).json()).toMatchObject({ version: 2, environments: { production: { offVariant: 'off' } } });
  });

  it('applies changes planned one after another on different fields, and over unrelated edits of the flag', async () => {
    await newFlag('chained');
    const on = (await schedule('chained', { enabled: true }, inSeconds(30))).json<{ id: string }>().id;
    const split = {
      rollout: [
        { variant: 'on', weight: 50 },
        { variant: 'off', weight: 50 },
      ],
    };
    const half = (await schedule('chained', { defaultServe: split }, inSeconds(60))).json<{ id: string }>().id;
    // Someone edits another environment and the flag's description meanwhile.
    expect((await call('PATCH', '/flags/chained/environments/development', { enabled: true }, { 'if-match': '"1"' })).statusCode).toBe(200);
    clock = inSeconds(30);
    expect(await worker.run(on)).toBe('applied');
    clock = inSeconds(60);
    expect(await worker.run(half)).toBe('applied');
    expect((await call('GET', '/flags/chained')).json()).toMatchObject({
      environments: { production: { enabled: true, defaultServe: split } },
    });
  });

  it('lists every pending change first, then the latest that ended', async () => {
    await newFlag('listed');
    const ids = [];
    for (const seconds of [300, 200, 100])
      ids.push((await schedule('listed', { enabled: true }, inSeconds(seconds))).json<{ id: string }>().id);
    expect((await call('DELETE', `/flags/listed/schedules/${ids[2]!}`)).statusCode).toBe(204);
    const listed = (await call('GET', '/flags/listed/schedules')).json<{ items: { id: string; status: string }[] }>().items;
    expect(listed.map((s) => [s.id, s.status])).toEqual([
      [ids[1], 'pending'],
      [ids[0], 'pending'],
      [ids[2], 'cancelled'],
    ]);
  });

  it('refuses at once a change that could not be made, a time not ahead, and a stale If-Match', async () => {
    await newFlag('checked');
    expect((await schedule('checked', { offVariant: 'no-such-variant' }, inSeconds(60))).statusCode).toBe(400);
    expect((await schedule('checked', { enabled: true }, inSeconds(-1))).statusCode).toBe(400);
    expect((await schedule('checked', { enabled: true }, inSeconds(60), '"7"')).statusCode).toBe(412);
    expect(
      (
        await call('POST', '/flags/checked/environments/nowhere/schedules', {
          runAt: inSeconds(60).toISOString(),
          change: { enabled: true },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('moves a pending change (planned again on the current version) and cancels one, which then never runs', async () => {
    await newFlag('editable');
    const created = await schedule('editable', { enabled: true }, inSeconds(60));
    const { id } = created.json<{ id: string }>();
    const moved = await call('PATCH', `/flags/editable/schedules/${id}`, { runAt: inSeconds(120).toISOString() }, { 'if-match': '"1"' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ version: 2 });
    expect(
      (await call('PATCH', `/flags/editable/schedules/${id}`, { runAt: inSeconds(90).toISOString() }, { 'if-match': '"1"' })).statusCode,
    ).toBe(412);
    expect((await call('DELETE', `/flags/editable/schedules/${id}`)).statusCode).toBe(204);
    clock = inSeconds(200);
    expect(await worker.run(id)).toBe('not-pending');
    expect((await call('DELETE', `/flags/editable/schedules/${id}`)).statusCode).toBe(409);
    expect((await call('GET', '/flags/editable')).json()).toMatchObject({ environments: { production: { enabled: false } } });
  });

  it('never applies a change to an archived flag: one left pending by a race with the archive fails at its time, saying why', async () => {
    await newFlag('archived-meanwhile');
    const created = await schedule('archived-meanwhile', { enabled: true }, inSeconds(60));
    const { id } = created.json<{ id: string; version: number }>();
    const pending = (await store.getSchedule(id))!;
    expect((await call('DELETE', '/flags/archived-meanwhile')).statusCode).toBe(204);
    expect((await store.getSchedule(id))?.status).toBe('cancelled');
    // Planned by someone who read the flag just before the archive committed: inserted after it, still pending.
    await store.insertSchedule({ ...pending, id: '99999999-9999-4999-8999-999999999999' });
    clock = inSeconds(60);
    expect(await worker.run('99999999-9999-4999-8999-999999999999')).toBe('failed');
    expect(await store.getSchedule('99999999-9999-4999-8999-999999999999')).toMatchObject({
      status: 'failed',
      outcome: 'the flag is archived',
    });
    expect((await call('GET', '/flags/archived-meanwhile')).json()).toMatchObject({
      version: 2,
      environments: { production: { enabled: false } },
    });
  });
});
