import { randomUUID } from 'node:crypto';
import type { CountedEvaluations, EvaluationEvent, EventBatch } from './evaluation-event.ts';
import { messageSchemaName, minuteOf } from './evaluation-event.ts';

export interface BufferStats {
  buffered: number;
  /** Raw events given up for room; they are still counted (in `counts`). */
  droppedRaw: number;
  countedOnly: number;
}

/**
 * Events waiting to be sent, with a hard bound. When full, the oldest raw event is dropped but its evaluation is
 * still counted, in a compact (flag, environment, variant, reason, rule, minute) → count map, so counts stay
 * exact while raw detail is lost. Recording is O(1) and never blocks or fails an evaluation.
 */
export function createEventBuffer(maxEvents: number) {
  // A ring of raw events: `head` is the oldest, `size` how many there are.
  const ring: (EvaluationEvent | undefined)[] = new Array<EvaluationEvent | undefined>(maxEvents);
  let head = 0;
  let size = 0;
  const counts = new Map<string, CountedEvaluations>();
  let droppedRaw = 0;

  function countOnly(event: EvaluationEvent, n = 1): void {
    const [flag, environment, variant, reason, ruleId, , at] = event;
    const minute = minuteOf(at);
    const id = `${flag}\u0000${environment}\u0000${variant}\u0000${reason}\u0000${ruleId}\u0000${minute}`;
    const entry = counts.get(id);
    if (entry) entry[6] += n;
    else counts.set(id, [flag, environment, variant, reason, ruleId, minute, n]);
  }

  return {
    record(event: EvaluationEvent): void {
      if (size === maxEvents) {
        countOnly(ring[head]!);
        droppedRaw += 1;
        ring[head] = event;
        head = (head + 1) % maxEvents;
        return;
      }
      ring[(head + size) % maxEvents] = event;
      size += 1;
    },

    /** Takes up to `maxEvents` of the oldest events, and every compact count, as one batch (or undefined if empty). */
    take(max: number): EventBatch | undefined {
      if (size === 0 && counts.size === 0) return undefined;
      const n = Math.min(max, size);
      const events: EvaluationEvent[] = new Array<EvaluationEvent>(n);
      for (let i = 0; i < n; i++) {
        events[i] = ring[head]!;
        ring[head] = undefined;
        head = (head + 1) % maxEvents;
      }
      size -= n;
      const taken = [...counts.values()];
      counts.clear();
      return { schema: messageSchemaName, batchId: randomUUID().replaceAll('-', ''), events, counts: taken };
    },

    /** Puts a batch that could not be sent back, ahead of newer events (as much as fits; the rest is counted). */
    giveBack(batch: EventBatch): void {
      for (const entry of batch.counts) countOnly([entry[0], entry[1], entry[2], entry[3], entry[4], null, entry[5]], entry[6]);
      for (let i = batch.events.length - 1; i >= 0; i--) {
        const event = batch.events[i]!;
        if (size === maxEvents) {
          countOnly(event);
          droppedRaw += 1;
          continue;
        }
        head = (head - 1 + maxEvents) % maxEvents;
        ring[head] = event;
        size += 1;
      }
    },

    get size() {
      return size;
    },

    stats(): BufferStats {
      let countedOnly = 0;
      for (const entry of counts.values()) countedOnly += entry[6];
      return { buffered: size, droppedRaw, countedOnly };
    },
  };
}

export type EventBuffer = ReturnType<typeof createEventBuffer>;
