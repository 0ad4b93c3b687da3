import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../api/client.ts';
import type { Page, WebhookDelivery } from '../api/types.ts';
import {
  answerOf,
  checkUrl,
  coveredByGroup,
  deliveryPollMs,
  describeDelivery,
  deliveryTone,
  describeFilters,
  duePollMs,
  eventLabel,
  groupOf,
  lastAnswerOf,
  nextAttemptOf,
  normalizeFilters,
  overduePollMs,
  refreshLimit,
  subscribableEventTypes,
  subscribesTo,
  urlErrorOf,
  verifySnippet,
  waitingPollMs,
  webhookPatch,
  withFilter,
  withOlder,
  withRefreshed,
} from './webhooks.ts';

const now = Date.parse('2025-03-12T10:00:00.000Z');
const at = (ms: number) => new Date(now + ms).toISOString();

function delivery(id: number, fields: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: String(id),
    eventId: `evt_${id}`,
    eventType: 'flag.updated',
    flagKey: 'checkout',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at(0),
    lastStatusCode: null,
    lastError: null,
    createdAt: at(-1000),
    closedAt: null,
    payload: {},
    attemptLog: [],
    ...fields,
  };
}

describe('the events a webhook subscribes to', () => {
  it('offers every subscribable event type of the contract, grouped by its prefix, without the test event', () => {
    expect(subscribableEventTypes).toHaveLength(23);
    expect(subscribableEventTypes).not.toContain('webhook.test');
    expect(groupOf('flag.environment-updated')).toBe('flag.*');
    expect(groupOf('schedule.conflicted')).toBe('schedule.*');
    expect(groupOf('plan.rolled-back')).toBe('plan.*');
    expect(groupOf('change-request.applied')).toBe('change-request.*');
    expect(eventLabel('plan.rolled-back')).toBe('Release plan rolled back');
    expect(eventLabel('webhook.test')).toBe('Test event');
    expect(eventLabel('flag.renamed')).toBe('flag.renamed');
  });

  it('sends "*" alone, a ticked group instead of its types, and the rest once each in the form’s order', () => {
    expect(normalizeFilters(['plan.*', '*', 'flag.created'])).toEqual(['*']);
    expect(normalizeFilters(['plan.rolled-back', 'flag.created', 'flag.*', 'plan.paused'])).toEqual([
      'flag.*',
      'plan.paused',
      'plan.rolled-back',
    ]);
    expect(normalizeFilters(['schedule.failed', 'schedule.failed'])).toEqual(['schedule.failed']);
    expect(normalizeFilters([])).toEqual([]);
  });

  it('keeps what else was ticked when "all events" is unticked again', () => {
    let filters = withFilter([], 'plan.*', true);
    filters = withFilter(filters, 'flag.deleted', true);
    filters = withFilter(filters, '*', true);
    expect(normalizeFilters(filters)).toEqual(['*']);
    filters = withFilter(filters, '*', false);
    expect(normalizeFilters(filters)).toEqual(['plan.*', 'flag.deleted']);
    expect(withFilter(filters, 'flag.deleted', true)).toEqual(['plan.*', 'flag.deleted']);
  });

  it('says which single types a wider choice already covers', () => {
    expect(coveredByGroup(['plan.*'], 'plan.paused')).toBe(true);
    expect(coveredByGroup(['plan.paused'], 'plan.paused')).toBe(false);
    expect(coveredByGroup(['*'], 'flag.created')).toBe(true);
    expect(subscribesTo(['plan.paused'], 'plan.paused')).toBe(true);
    expect(subscribesTo(['flag.*'], 'plan.paused')).toBe(false);
  });

  it('describes a subscription in words', () => {
    expect(describeFilters(['*'])).toEqual(['All events']);
    expect(describeFilters(['plan.rolled-back', 'flag.*'])).toEqual(['Flag changes', 'Release plan rolled back']);
  });
});

describe('the form', () => {
  it('takes an http(s) URL with a host, and says what is wrong with another', () => {
    expect(checkUrl('https://hooks.example.com/tm')).toBeUndefined();
    expect(checkUrl(' http://127.0.0.1:9000/hook ')).toBeUndefined();
    expect(checkUrl('')).toBe('Enter the URL the events are sent to.');
    expect(checkUrl('hooks.example.com')).toContain('full URL');
    expect(checkUrl('ftp://example.com/x')).toContain('https://');
  });

  it('shows the service’s refusal of a target next to the URL, and nothing there for other failures', () => {
    const detail = 'localhost resolves to 127.0.0.1, an internal address; WEBHOOK_ALLOWED_NETWORKS does not open it';
    expect(urlErrorOf(new ApiError(422, 'UNPROCESSABLE', detail, [{ path: '/url', message: 'internal address' }]))).toBe(detail);
    expect(
      urlErrorOf(
        new ApiError(400, 'VALIDATION_FAILED', 'The request is not valid', [{ path: 'body/url', message: 'must match format "uri"' }]),
      ),
    ).toBe('must match format "uri"');
    expect(urlErrorOf(new ApiError(400, 'VALIDATION_FAILED', 'x', [{ path: 'body/name', message: 'too long' }]))).toBeUndefined();
    expect(urlErrorOf(new ApiError(412, 'PRECONDITION_FAILED', 'changed meanwhile'))).toBeUndefined();
    expect(urlErrorOf(new Error('network'))).toBeUndefined();
  });

  it('sends only the fields that changed', () => {
    const before = {
      name: 'Slack',
      url: 'https://hooks.slack.com/x',
      events: ['flag.*', 'plan.rolled-back'] as const,
      format: 'slack' as const,
    };
    const same = { ...before, events: [...before.events] };
    expect(webhookPatch(before as never, same as never)).toEqual({});
    expect(webhookPatch(before as never, { ...same, events: ['plan.rolled-back', 'flag.*', 'flag.created'] } as never)).toEqual({});
    expect(webhookPatch(before as never, { ...same, name: 'Ops', events: ['*'] } as never)).toEqual({ name: 'Ops', events: ['*'] });
    expect(webhookPatch(before as never, { ...same, url: 'https://example.com/h', format: 'json' } as never)).toEqual({
      url: 'https://example.com/h',
      format: 'json',
    });
  });
});

describe('a delivery in words', () => {
  it('says the receiver’s answer, or why there was none', () => {
    expect(answerOf({ statusCode: 200, error: null })).toBe('HTTP 200');
    expect(answerOf({ statusCode: null, error: 'connect ECONNREFUSED 127.0.0.1:9' })).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(answerOf({ statusCode: 503, error: 'The receiver answered 503: down' })).toBe('HTTP 503: down');
    expect(answerOf({ statusCode: 500, error: 'The receiver answered 500' })).toBe('HTTP 500');
    expect(answerOf({ statusCode: 200, error: 'The answer broke off: aborted' })).toBe('HTTP 200: The answer broke off: aborted');
    expect(lastAnswerOf(delivery(1))).toBe('—');
  });

  it('tells delivered, given up, waiting, retrying and paused apart', () => {
    expect(describeDelivery(delivery(1, { status: 'delivered', attempts: 1, lastStatusCode: 200, closedAt: at(-5_000) }), { now })).toBe(
      'Delivered after 1 attempt (HTTP 200), just now',
    );
    expect(
      describeDelivery(delivery(1, { status: 'failed', attempts: 12, lastStatusCode: 500, closedAt: at(-3 * 3600_000) }), { now }),
    ).toBe('Given up after 12 attempts (HTTP 500), 3 h ago');
    expect(describeDelivery(delivery(1), { now })).toBe('Being sent');
    expect(describeDelivery(delivery(1, { nextAttemptAt: at(8_000) }), { now })).toBe('Waiting to be sent in 8 s');
    expect(describeDelivery(delivery(1, { attempts: 2, lastStatusCode: 503, nextAttemptAt: at(40_000) }), { now })).toBe(
      'Attempt 2 failed (HTTP 503); next try in 40 s',
    );
    expect(describeDelivery(delivery(1), { now, paused: true })).toBe('Waits while the webhook is paused');
    expect(describeDelivery(delivery(1, { attempts: 3, lastError: 'The receiver refused the connection' }), { now })).toBe(
      'Attempt 3 failed (The receiver refused the connection); being tried again',
    );
    expect(describeDelivery(delivery(1, { attempts: 1, lastError: 'timeout' }), { now, paused: true })).toBe(
      'Attempt 1 failed (timeout); waits while the webhook is paused',
    );
  });

  it('marks a delivery being retried apart from one waiting for its first try', () => {
    expect(deliveryTone(delivery(1))).toBe('info');
    expect(deliveryTone(delivery(1, { attempts: 2 }))).toBe('warn');
    expect(deliveryTone(delivery(1, { status: 'delivered', attempts: 2 }))).toBe('on');
    expect(deliveryTone(delivery(1, { status: 'failed', attempts: 9 }))).toBe('off');
  });

  it('says when a pending delivery is tried next', () => {
    expect(nextAttemptOf(delivery(1, { nextAttemptAt: at(-1) }), now)).toBe('now');
    expect(nextAttemptOf(delivery(1, { nextAttemptAt: at(25 * 60_000) }), now)).toBe('in 25 min');
    expect(nextAttemptOf(delivery(1, { status: 'delivered', nextAttemptAt: null }), now)).toBe('—');
  });
});

describe('asking the log again', () => {
  it('polls every 2 s while a delivery is due, by the next try while one waits, and not at all otherwise', () => {
    expect(deliveryPollMs([delivery(1, { status: 'delivered', nextAttemptAt: null })], { now })).toBeUndefined();
    expect(deliveryPollMs([], { now })).toBeUndefined();
    expect(deliveryPollMs([delivery(1)], { now })).toBe(duePollMs);
    expect(deliveryPollMs([delivery(1)], { now, paused: true })).toBeUndefined();
    expect(deliveryPollMs([delivery(1, { nextAttemptAt: at(500) })], { now })).toBe(duePollMs);
    expect(deliveryPollMs([delivery(1, { nextAttemptAt: at(12_000) })], { now })).toBe(12_000);
    expect(deliveryPollMs([delivery(1, { nextAttemptAt: at(600_000) })], { now })).toBe(waitingPollMs);
  });

  it('asks less often when the due deliveries are long overdue (the worker is behind), but not when a new one is due', () => {
    const stuck = delivery(1, { nextAttemptAt: at(-5 * 60_000) });
    expect(deliveryPollMs([stuck], { now })).toBe(overduePollMs);
    expect(deliveryPollMs([stuck, delivery(2, { nextAttemptAt: at(-1_000) })], { now })).toBe(duePollMs);
    expect(deliveryPollMs([stuck, delivery(2, { nextAttemptAt: at(600_000) })], { now })).toBe(overduePollMs);
  });

  it('puts the newest entries asked again in place of those loaded, and keeps the older pages loaded beyond them', () => {
    const loaded: Page<WebhookDelivery> = { items: [delivery(9), delivery(8), delivery(7), delivery(6)], nextCursor: '6' };
    const fresh: Page<WebhookDelivery> = {
      items: [delivery(10), delivery(9, { status: 'delivered' }), delivery(8)],
      nextCursor: '8',
    };
    const merged = withRefreshed(loaded, fresh);
    expect(merged.items.map((d) => d.id)).toEqual(['10', '9', '8', '7', '6']);
    expect(merged.items[1]!.status).toBe('delivered');
    expect(merged.nextCursor).toBe('6');
    // The fresh page reaches as far as what was loaded: it is the list.
    expect(withRefreshed(loaded, { items: [delivery(10), delivery(9), delivery(8), delivery(7), delivery(6)], nextCursor: '6' })).toEqual({
      items: [delivery(10), delivery(9), delivery(8), delivery(7), delivery(6)],
      nextCursor: '6',
    });
    expect(withRefreshed(undefined, fresh)).toBe(fresh);
    const all = { items: [delivery(10)], nextCursor: null };
    expect(withRefreshed(loaded, all)).toBe(all);
  });

  it('appends an older page once, and asks for as many as are shown', () => {
    const loaded: Page<WebhookDelivery> = { items: [delivery(9), delivery(8)], nextCursor: '8' };
    const older = withOlder(loaded, { items: [delivery(8), delivery(7)], nextCursor: null });
    expect(older.items.map((d) => d.id)).toEqual(['9', '8', '7']);
    expect(older.nextCursor).toBeNull();
    expect(refreshLimit(undefined, 20)).toBe(20);
    expect(refreshLimit({ items: Array.from({ length: 45 }, (_, i) => delivery(i)), nextCursor: null }, 20)).toBe(45);
    expect(refreshLimit({ items: Array.from({ length: 300 }, (_, i) => delivery(i)), nextCursor: null }, 20)).toBe(200);
  });
});

describe('the signature check shown beside a new secret', () => {
  // The snippet run as a receiver would: written to a module of its own and imported.
  let verify: (secret: string, header: string, rawBody: string) => boolean;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tm-webhook-snippet-'));
    const file = join(dir, 'verify.mjs');
    await writeFile(file, verifySnippet);
    verify = ((await import(pathToFileURL(file).href)) as { verifyToggleMasterSignature: typeof verify }).verifyToggleMasterSignature;
    await rm(dir, { recursive: true, force: true });
  });
  const secret = 'whsec_test-secret';
  const body = JSON.stringify({ id: 'evt_test_1', type: 'webhook.test' });
  // As docs/webhooks.md says it is sent: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${body}` keyed with the secret>.
  const signed = (t: number, text = body, key = secret) => `t=${t},v1=${createHmac('sha256', key).update(`${t}.${text}`).digest('hex')}`;
  const t = Math.floor(Date.now() / 1000);

  it('accepts a delivery signed with the secret, and refuses another body, another secret or an old timestamp', () => {
    expect(verify(secret, signed(t), body)).toBe(true);
    expect(verify(secret, signed(t), `${body} `)).toBe(false);
    expect(verify(secret, signed(t, body, 'whsec_other'), body)).toBe(false);
    expect(verify(secret, signed(t - 3600), body)).toBe(false);
    expect(verify(secret, 't=1', body)).toBe(false);
  });
});
