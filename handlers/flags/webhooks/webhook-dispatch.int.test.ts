import { randomUUID } from 'node:crypto';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, jsonb } from '../../../shared/db/database.ts';
import { createTestDatabase, type TestDatabase } from '../../../shared/testing/postgres.ts';
import { createFlagService } from '../flag-service.ts';
import type { FlagsDatabase } from '../flag-store.postgres.ts';
import { createFlagStore, migrateFlags } from '../flags-app.ts';
import { flagsSchema } from '../migrations/index.ts';
import { createScheduleService } from '../schedules/schedule-service.ts';
import { createWebhookDispatch } from './webhook-dispatch.ts';
import { createPostgresWebhookStore, type WebhooksDatabase } from './webhook-store.postgres.ts';

const actor = { userId: '00000000-0000-4000-8000-000000000001', email: 'editor@example.com', role: 'editor' as const };
const hour = 3600_000;

/**
 * Runs `between` once, right after the first query that reads `table` has its answer and before the next query: a
 * concurrent transaction committing at the worst moment for whoever read it, every time rather than now and then.
 */
class CommitBetween implements KyselyPlugin {
  readonly #reads = new WeakSet<object>();
  readonly #table: string;
  #between: (() => Promise<void>) | undefined;
  constructor(table: string, between: () => Promise<void>) {
    this.#table = table;
    this.#between = between;
  }
  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    if (node.kind === 'SelectQueryNode' && JSON.stringify(node).includes(`"${this.#table}"`)) this.#reads.add(queryId);
    return node;
  }
  async transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const between = this.#between;
    if (between && this.#reads.has(queryId)) {
      this.#between = undefined;
      await between();
    }
    return result;
  }
  get ran(): boolean {
    return this.#between === undefined;
  }
}

/**
 * The fan-out against PostgreSQL, with the release worker's and people's transactions committing while it reads: the
 * order one flag’s events reach a webhook in, and that none is skipped (a late commit) or dropped (a paused webhook).
 */
describe('webhook fan-out, with writers committing while it reads', () => {
  let test: TestDatabase<FlagsDatabase>;
  const webhooksDb = () => createDatabase<WebhooksDatabase>(test.pool, flagsSchema);
  const flags = () => createFlagService({ store: createFlagStore(test.db), environments: ['development', 'production'] });

  const addWebhook = async (enabled = true) => {
    const at = new Date();
    const id = randomUUID();
    await createPostgresWebhookStore(webhooksDb()).insert({
      id,
      project: 'default',
      name: id,
      url: 'https://hooks.example.com/togglemaster',
      events: ['flag.*', 'schedule.*'],
      format: 'json',
      enabled,
      secret: 'whsec_test',
      createdBy: actor,
      createdAt: at,
      updatedAt: at,
      version: 1,
    });
    return id;
  };
  /** Fans out until nothing waits. */
  const drain = async () => {
    const dispatch = createWebhookDispatch(webhooksDb(), flagsSchema);
    while ((await dispatch.fanOut(500, hour)).events > 0);
  };
  /** The event types queued for one webhook about one flag, in the order they will be sent (the lane's). */
  const queued = async (webhookId: string, flagKey: string) =>
    (
      await webhooksDb()
        .selectFrom('webhook_deliveries')
        .select('event_type')
        .where('webhook_id', '=', webhookId)
        .where('flag_key', '=', flagKey)
        .orderBy('id')
        .execute()
    ).map((d) => d.event_type);

  beforeAll(async () => {
    test = await createTestDatabase<FlagsDatabase>('flags');
    await migrateFlags(test.db);
  });
  afterAll(() => test?.drop());

  it('sends a scheduled change’s flag change before its schedule.applied, though it commits while the fan-out reads', async () => {
    const webhookId = await addWebhook();
    const service = flags();
    const schedules = createScheduleService({
      store: createFlagStore(test.db),
      flags: service,
      alarm: { set: async () => {} },
      onAlarmFailure: () => {},
    });
    await service.create({ key: 'scheduled', name: 'Scheduled', type: 'boolean' }, actor);
    const schedule = await schedules.create(
      'scheduled',
      'production',
      { runAt: new Date(Date.now() + 200).toISOString(), change: { enabled: true } },
      undefined,
      actor,
    );
    await drain();
    await new Promise((r) => setTimeout(r, 300));

    // The release worker applies the schedule (its audit entry and release event, one transaction) while the fan-out
    // is between reading the audit trail and reading the release events.
    let outcome: string | undefined;
    const gate = new CommitBetween('flag_audit', async () => {
      outcome = await schedules.run(schedule.id);
    });
    await createWebhookDispatch(webhooksDb().withPlugin(gate), flagsSchema).fanOut(500, hour);
    expect(gate.ran).toBe(true);
    expect(outcome).toBe('applied');
    await drain();

    expect(await queued(webhookId, 'scheduled')).toEqual(['flag.created', 'flag.environment-updated', 'schedule.applied']);
  });

  it('sends an event that commits after a later one was handed over (no cursor passes it)', async () => {
    const webhookId = await addWebhook();
    const service = flags();
    await service.create({ key: 'slow-writer', name: 'Slow writer', type: 'boolean' }, actor);
    await drain();

    // A writer takes an audit id, then waits before committing; a later one commits and is fanned out meanwhile.
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const slow = test.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('flag_audit')
        .values({
          flag_key: 'slow-writer',
          action: 'environment-updated',
          environment: 'production',
          actor_id: actor.userId,
          actor_email: actor.email,
          at: new Date(),
          version: 2,
          before: null,
          after: null,
          changes: jsonb([{ path: '/enabled', before: false, after: true }]),
          cause: null,
        })
        .execute();
      written();
      await committing;
    });
    await wrote;
    await service.create({ key: 'fast-writer', name: 'Fast writer', type: 'boolean' }, actor);
    await drain();
    expect(await queued(webhookId, 'fast-writer')).toEqual(['flag.created']);
    expect(await queued(webhookId, 'slow-writer')).toEqual(['flag.created']);

    commit();
    await slow;
    await drain();
    expect(await queued(webhookId, 'slow-writer')).toEqual(['flag.created', 'flag.environment-updated']);
    const left = await webhooksDb().selectFrom('flag_audit').select('id').where('webhook_at', 'is', null).execute();
    expect(left).toEqual([]);
  });

  it('keeps a flag change before its release event behind a backlog, though an earlier id carries a later time', async () => {
    const webhookId = await addWebhook();
    const service = flags();
    for (const key of ['busy', 'behind-a-backlog']) await service.create({ key, name: key, type: 'boolean' }, actor);
    await drain();

    // A full page of waiting audit entries timed after the scheduled change below: their writer took its time before
    // it inserted them, a second behind the release worker, which inserts its pair later, so with higher ids.
    const now = Date.now();
    const audit = (flagKey: string, at: number) => ({
      flag_key: flagKey,
      action: 'environment-updated' as const,
      environment: 'production',
      actor_id: actor.userId,
      actor_email: actor.email,
      at: new Date(at),
      version: 2,
      before: null,
      after: null,
      changes: jsonb([{ path: '/enabled', before: false, after: true }]),
      cause: null,
    });
    await test.db
      .insertInto('flag_audit')
      .values([1, 2, 3].map(() => audit('busy', now + 1_000)))
      .execute();
    await test.db.transaction().execute(async (tx) => {
      await tx.insertInto('flag_audit').values(audit('behind-a-backlog', now)).execute();
      await tx
        .insertInto('release_events')
        .values({
          type: 'schedule.applied',
          flag_key: 'behind-a-backlog',
          environment: 'production',
          schedule_id: randomUUID(),
          release_plan_id: null,
          milestone: null,
          actor_id: actor.userId,
          actor_email: actor.email,
          detail: null,
          data: null,
          created_at: new Date(now + 1),
          delivered_at: null,
        })
        .execute();
    });
    const dispatch = createWebhookDispatch(webhooksDb(), flagsSchema);
    while ((await dispatch.fanOut(3, hour)).events > 0);

    expect(await queued(webhookId, 'behind-a-backlog')).toEqual(['flag.created', 'flag.environment-updated', 'schedule.applied']);
  });

  it('queues the events that happen while a webhook is paused, to go out when it is enabled again', async () => {
    const webhookId = await addWebhook(false);
    await flags().create({ key: 'while-paused', name: 'While paused', type: 'boolean' }, actor);
    await drain();
    expect(await queued(webhookId, 'while-paused')).toEqual(['flag.created']);
    const dispatch = createWebhookDispatch(webhooksDb(), flagsSchema);
    const claimedFor = async () => (await dispatch.claim(100, hour)).filter((d) => d.webhookId === webhookId).map((d) => d.flagKey);
    expect(await claimedFor()).toEqual([]);
    await webhooksDb().updateTable('webhooks').set({ enabled: true }).where('id', '=', webhookId).execute();
    expect(await claimedFor()).toEqual(['while-paused']);
  });
});
