import { randomUUID } from 'node:crypto';
import type { CountedEvaluations, EvaluationRecord, OutgoingBatch } from './evaluation-event.ts';
import { minuteOf } from './evaluation-event.ts';

export interface BufferStats {
  /** Raw events waiting (a bulk request's record holds one per flag). */
  buffered: number;
  /** Raw events given up for room; they are still counted (in `counts`). */
  droppedRaw: number;
  countedOnly: number;
}

/**
 * Evaluation records waiting to be sent, with a hard bound on the raw events they hold. When full, the oldest
 * record is dropped but its evaluations are still counted, in a compact (flag, environment, variant, reason, rule,
 * minute) → count map, so counts stay exact while raw detail is lost. Recording is O(1) (amortised) and never
 * blocks or fails an evaluation.
 */
export function createEventBuffer(maxEvents: number) {
  // A queue of records: `records[head]` is the oldest; the array is compacted once half of it is taken.
  let records: (EvaluationRecord | undefined)[] = [];
  let head = 0;
  let events = 0;
  const counts = new Map<string, CountedEvaluations>();
  let droppedRaw = 0;

  function addCount(entry: CountedEvaluations): void {
    const [flagKey, environment, variant, reason, ruleId, minute, n] = entry;
    const id = `${flagKey}\u0000${environment}\u0000${variant}\u0000${reason}\u0000${ruleId}\u0000${minute}`;
    const existing = counts.get(id);
    if (existing) existing[6] += n;
    else counts.set(id, [flagKey, environment, variant, reason, ruleId, minute, n]);
  }

  function countOnly(record: EvaluationRecord): void {
    const minute = minuteOf(record.at);
    for (const result of record.results)
      addCount([result.flagKey, record.environment, result.variant ?? null, result.reason, result.ruleId ?? null, minute, 1]);
    droppedRaw += record.results.length;
  }

  /** Takes the oldest record off the queue. */
  function shift(): EvaluationRecord {
    const oldest = records[head]!;
    records[head] = undefined;
    head += 1;
    events -= oldest.results.length;
    if (head > 1024 && head * 2 > records.length) {
      records = records.slice(head);
      head = 0;
    }
    return oldest;
  }

  return {
    record(record: EvaluationRecord): void {
      const n = record.results.length;
      if (n === 0) return;
      if (n > maxEvents) {
        countOnly(record);
        return;
      }
      while (events + n > maxEvents) countOnly(shift());
      records.push(record);
      events += n;
    },

    /**
     * Takes the oldest records, whole, until they hold at least `max` raw events (or all there are), and every
     * compact count, as one batch (or undefined if there is nothing).
     */
    take(max: number): OutgoingBatch | undefined {
      if (events === 0 && counts.size === 0) return undefined;
      const taken: EvaluationRecord[] = [];
      let n = 0;
      while (events > 0 && n < max) {
        const record = shift();
        taken.push(record);
        n += record.results.length;
      }
      const takenCounts = [...counts.values()];
      counts.clear();
      return { batchId: randomUUID().replaceAll('-', ''), records: taken, counts: takenCounts, events: n };
    },

    /** Puts a batch that could not be sent back, ahead of newer records (as much as fits; the rest is counted). */
    giveBack(batch: OutgoingBatch): void {
      for (const entry of batch.counts) addCount(entry);
      const back: EvaluationRecord[] = [];
      for (let i = batch.records.length - 1; i >= 0; i--) {
        const record = batch.records[i]!;
        if (events + record.results.length > maxEvents) {
          countOnly(record);
          continue;
        }
        back.push(record);
        events += record.results.length;
      }
      back.reverse();
      records = [...back, ...records.slice(head)];
      head = 0;
    },

    /** Raw events waiting. */
    get size() {
      return events;
    },

    stats(): BufferStats {
      let countedOnly = 0;
      for (const entry of counts.values()) countedOnly += entry[6];
      return { buffered: events, droppedRaw, countedOnly };
    },
  };
}

export type EventBuffer = ReturnType<typeof createEventBuffer>;
