import { sql, type Kysely, type Selectable } from 'kysely';
import { jsonb } from '../../../shared/db/database.ts';
import type { WebhookEvent } from '../../../shared/contracts/webhooks-api.ts';
import { toDelivery, type WebhooksDatabase } from './webhook-store.postgres.ts';
import { toReleaseEvent } from '../flag-store.postgres.ts';
import { auditEventOf, payloadOf, releaseEventOf, subscribes, type Webhook, type WebhookDelivery } from './webhook.ts';

/** A delivery the worker holds for one attempt, with what it needs to send it. */
export interface ClaimedDelivery extends WebhookDelivery {
  target: Pick<Webhook, 'url' | 'secret' | 'format'>;
}

/** What an attempt came to. */
export interface AttemptResult {
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

/** The pause before the next try after `attempts` failures: doubling from the base, capped, with a little jitter. */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random = Math.random): number {
  const doubled = Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxMs);
  return Math.round(doubled * (0.9 + 0.2 * random()));
}

/** An event waiting for fan-out, with the project of its flag: a project's webhooks receive its flags' events only. */
type SourceRow = { at: Date; source: 0 | 1; id: number; project: string; event: WebhookEvent };

/**
 * The webhook worker's side of the flags database. Events come from the audit trail (flag changes) and the release
 * events, both written in the transactions that made them; fanning out turns each into one delivery per matching
 * webhook and marks it handed over, in one transaction, so an event is queued once or not at all. Sending takes the
 * oldest due delivery of each lane (a webhook and a flag): one flag's events reach a receiver in the order they
 * happened, even when it was down for a while.
 */
export function createWebhookDispatch(db: Kysely<WebhooksDatabase>, schema: string) {
  const fanOutLock = `togglemaster.webhook-fan-out.${schema}`;

  /**
   * The deliveries that can be sent at `now`: pending, due, of an enabled webhook, and the oldest pending one of
   * their lane (the rest of a lane waits behind it). What the worker claims, and what its backlog and KEDA count.
   */
  const dueLaneHeads = (now: Date) =>
    db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where('w.enabled', '=', true)
      .where((w) =>
        w.not(
          w.exists(
            w
              .selectFrom('webhook_deliveries as e')
              .select('e.id')
              .whereRef('e.webhook_id', '=', 'd.webhook_id')
              .whereRef('e.flag_key', '=', 'd.flag_key')
              .where('e.status', '=', 'pending')
              .whereRef('e.id', '<', 'd.id'),
          ),
        ),
      );

  return {
    /**
     * Turns up to `limit` waiting events of each source into deliveries; answers how many events it handled (0 when
     * another worker holds the fan-out: one at a time keeps the order). Webhooks receive the events that happened
     * after they were created.
     */
    async fanOut(limit: number, expiresInMs: number): Promise<{ events: number; deliveries: number }> {
      return db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext(${fanOutLock})) as locked`.execute(tx);
        if (!rows[0]?.locked) return { events: 0, deliveries: 0 };
        // Which events this round takes is read in one statement, so from one snapshot of both sources. Read apart
        // (two statements, two snapshots under READ COMMITTED), a transaction that writes to both — a scheduled
        // change's audit entry and its schedule.applied — could commit between the two reads: its release event
        // would go out this round and its flag change the next, after it. Rows are marked one by one, not passed by
        // a cursor, so one that commits after a later one was taken is taken next round, never skipped. Each page is
        // the earliest in time, not in id: ids are taken at insert, times before it (a writer that takes its time
        // gets a higher id for an earlier change), and the bound below holds only for pages that end in time.
        const waiting = await tx
          .with('audit_page', (db) =>
            db.selectFrom('flag_audit').select('id').where('webhook_at', 'is', null).orderBy('at').orderBy('id').limit(limit),
          )
          .with('release_page', (db) =>
            db.selectFrom('release_events').select('id').where('delivered_at', 'is', null).orderBy('created_at').orderBy('id').limit(limit),
          )
          .selectFrom('audit_page')
          .select([sql<number>`0`.as('source'), 'audit_page.id'])
          .unionAll((eb) => eb.selectFrom('release_page').select([sql<number>`1`.as('source'), 'release_page.id']))
          .execute();
        const auditPage = waiting.filter((w) => w.source === 0).map((w) => w.id);
        const releasePage = waiting.filter((w) => w.source === 1).map((w) => w.id);
        const audits =
          auditPage.length === 0
            ? []
            : await tx
                .selectFrom('flag_audit')
                .select([
                  'id',
                  'flag_key',
                  'project',
                  'action',
                  'environment',
                  'actor_id',
                  'actor_email',
                  'at',
                  'version',
                  'changes',
                  'cause',
                ])
                .where('id', 'in', auditPage)
                .orderBy('id')
                .execute();
        // A release event's project is its flag's (a flag never changes project; one purged since: the default).
        const releases =
          releasePage.length === 0
            ? []
            : await tx
                .selectFrom('release_events as e')
                .leftJoin('flags as f', 'f.key', 'e.flag_key')
                .selectAll('e')
                .select((eb) => eb.fn.coalesce('f.project', sql<string>`'default'`).as('project'))
                .where('e.id', 'in', releasePage)
                .orderBy('e.id')
                .execute();
        if (audits.length === 0 && releases.length === 0) return { events: 0, deliveries: 0 };

        const events: SourceRow[] = [
          ...audits.map((a) => ({
            at: a.at,
            source: 0 as const,
            id: Number(a.id),
            project: a.project,
            event: auditEventOf({
              id: Number(a.id),
              flagKey: a.flag_key,
              action: a.action,
              environment: a.environment,
              actor: { userId: a.actor_id, email: a.actor_email },
              at: a.at,
              version: a.version,
              changes: a.changes,
              cause: a.cause,
            }),
          })),
          ...releases.map((r) => ({
            at: r.created_at,
            source: 1 as const,
            id: Number(r.id),
            project: r.project,
            event: releaseEventOf(toReleaseEvent(r)),
          })),
        ];
        // With a backlog, a full page of one source ends at a time: events of the other source after it wait for the
        // next round (with that source's, not yet read), so that the two interleave in time order.
        const endOf = (times: Date[]) => (times.length === limit ? Math.max(...times.map((at) => at.getTime())) : Infinity);
        const bound = Math.min(endOf(audits.map((a) => a.at)), endOf(releases.map((r) => r.created_at)));
        const handled = events
          .filter((e) => e.at.getTime() <= bound)
          .sort((a, b) => a.at.getTime() - b.at.getTime() || a.source - b.source || a.id - b.id);

        // Paused webhooks too: their events wait in their lanes and go out when they are enabled again (not sent:
        // dueLaneHeads takes enabled webhooks only). Skipped here, a pause would lose them.
        const hooks = await tx.selectFrom('webhooks').selectAll().execute();
        const now = new Date();
        const deliveries = handled.flatMap(({ event, project }) =>
          hooks
            .filter(
              (h) => h.project === project && h.created_at.getTime() <= Date.parse(event.occurredAt) && subscribes(h.events, event.type),
            )
            .map((h) => ({
              webhook_id: h.id,
              event_id: event.id,
              event_type: event.type,
              flag_key: event.flagKey ?? '',
              payload: jsonb(payloadOf(h.format, event)),
              status: 'pending' as const,
              next_attempt_at: now,
              expires_at: new Date(now.getTime() + expiresInMs),
              last_status_code: null,
              last_error: null,
              created_at: now,
              closed_at: null,
            })),
        );
        // Inserted in event order: ids give each lane its order.
        for (let i = 0; i < deliveries.length; i += 500)
          await tx
            .insertInto('webhook_deliveries')
            .values(deliveries.slice(i, i + 500))
            .onConflict((c) => c.columns(['webhook_id', 'event_id']).doNothing())
            .execute();
        const auditIds = handled.filter((e) => e.source === 0).map((e) => e.id);
        const releaseIds = handled.filter((e) => e.source === 1).map((e) => e.id);
        if (auditIds.length > 0) await tx.updateTable('flag_audit').set({ webhook_at: now }).where('id', 'in', auditIds).execute();
        if (releaseIds.length > 0)
          await tx.updateTable('release_events').set({ delivered_at: now }).where('id', 'in', releaseIds).execute();
        return { events: handled.length, deliveries: deliveries.length };
      });
    },

    /**
     * Takes up to `limit` due deliveries, each the oldest pending one of its lane, of an enabled webhook, and holds
     * them for `leaseMs` (a worker that dies holding one leaves it to be taken again then). Counts the attempt.
     */
    async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
      const now = new Date();
      const claimed = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ next_attempt_at: new Date(now.getTime() + leaseMs), attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', () =>
          dueLaneHeads(now).select('d.id').orderBy('d.next_attempt_at').orderBy('d.id').limit(limit).forUpdate('d').skipLocked(),
        )
        .returningAll()
        .execute();
      if (claimed.length === 0) return [];
      const hooks = await db
        .selectFrom('webhooks')
        .select(['id', 'url', 'secret', 'format'])
        .where('id', 'in', [...new Set(claimed.map((c) => c.webhook_id))])
        .execute();
      const byId = new Map(hooks.map((h) => [h.id, h]));
      return claimed.flatMap((row: Selectable<WebhooksDatabase['webhook_deliveries']>) => {
        const hook = byId.get(row.webhook_id);
        return hook ? [{ ...toDelivery(row), target: hook }] : [];
      });
    },

    /** Records an attempt: delivered (2xx), tried again later, or given up once past its time. Answers which. */
    async record(delivery: ClaimedDelivery, result: AttemptResult, retry: RetryPolicy): Promise<'delivered' | 'retrying' | 'failed'> {
      const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
      const outcome = ok ? 'delivered' : result.at >= delivery.expiresAt ? 'failed' : 'retrying';
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('webhook_attempts')
          .values({
            delivery_id: delivery.id,
            at: result.at,
            status_code: result.statusCode,
            error: result.error,
            duration_ms: result.durationMs,
          })
          .execute();
        await tx
          .updateTable('webhook_deliveries')
          .set({
            status: outcome === 'retrying' ? 'pending' : outcome,
            last_status_code: result.statusCode,
            last_error: result.error,
            next_attempt_at: outcome === 'retrying' ? new Date(result.at.getTime() + retryDelayMs(delivery.attempts, retry)) : result.at,
            closed_at: outcome === 'retrying' ? null : result.at,
          })
          .where('id', '=', delivery.id)
          .execute();
      });
      return outcome;
    },

    /**
     * What the worker's gauges show: deliveries not delivered yet (behind a failing one, or of a paused webhook,
     * too), those that can be sent now, and how long the one due longest has waited since it became due (the
     * workers falling behind, not a receiver retried for an hour).
     */
    async backlog(): Promise<{ pending: number; due: number; oldestDueSeconds: number }> {
      const now = new Date();
      const pending = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      const due = await dueLaneHeads(now)
        .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('d.next_attempt_at').as('oldest')])
        .executeTakeFirstOrThrow();
      const oldest = due.oldest ? (now.getTime() - new Date(due.oldest).getTime()) / 1000 : 0;
      return { pending: Number(pending.n), due: Number(due.n), oldestDueSeconds: Math.max(0, oldest) };
    },

    /** Deletes up to `limit` closed deliveries (and their attempts) closed before `before`; answers how many. */
    async prune(before: Date, limit: number): Promise<number> {
      const deleted = await db
        .deleteFrom('webhook_deliveries')
        .where('id', 'in', (eb) =>
          eb.selectFrom('webhook_deliveries').select('id').where('closed_at', '<', before).where('status', '!=', 'pending').limit(limit),
        )
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },
  };
}

export type WebhookDispatch = ReturnType<typeof createWebhookDispatch>;
