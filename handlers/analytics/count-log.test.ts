import { describe, expect, it } from 'vitest';
import { idsPerItem, itemBytes, totalItemsOf } from './count-log.dynamo.ts';
import { logPartition, logShardOf, logShards } from './counter-keys.ts';

describe('the counter items', () => {
  it("cuts a busy minute's batch ids into items under DynamoDB's 400 KB, every id in one of them", () => {
    // 1M evaluations/s: ~15,000 messages a minute in one part, ids of up to 64 characters.
    const batches = Array.from({ length: 15_000 }, (_, i) => `${String(i).padStart(8, '0')}${'x'.repeat(56)}`);
    const { ids, total } = totalItemsOf('production', 'b07', Date.UTC(2026, 11, 4, 12, 0), [], batches, 3, 'attempt-1');
    expect(ids).toHaveLength(Math.ceil(batches.length / idsPerItem));
    expect(total.idsItems?.N).toBe(String(ids.length));
    for (const item of ids) expect(itemBytes(item)).toBeLessThan(400 * 1024);
    expect(new Set(ids.flatMap((item) => item.batches?.SS ?? []))).toEqual(new Set(batches));
    expect(ids.map((item) => item.sk?.S)).toEqual(ids.map((_, i) => `2026-12-04T12:00#attempt-1#${i}`));
  });

  it('keeps a few batch ids inside the total', () => {
    const { ids, total } = totalItemsOf('production', 'a', Date.UTC(2026, 11, 4, 12, 0), [], ['batch-0001', 'batch-0002'], 1, 'k');
    expect(ids).toEqual([]);
    expect(total.batches?.SS).toEqual(['batch-0001', 'batch-0002']);
  });

  it("spreads the log's items over its shards by batch, shard 0 being the key without a suffix", () => {
    const arrival = Date.UTC(2026, 11, 4, 12, 0);
    const shards = new Map<number, number>();
    for (let i = 0; i < 4_000; i++) {
      const shard = logShardOf(`batch-${i}`);
      shards.set(shard, (shards.get(shard) ?? 0) + 1);
    }
    expect([...shards.keys()].sort()).toEqual(Array.from({ length: logShards }, (_, i) => i));
    for (const count of shards.values()) expect(count).toBeGreaterThan(800);
    expect(logPartition('production', 'b07', arrival, 0)).toBe('CL#production#b07#2026-12-04');
    expect(logPartition('production', 'b07', arrival, 2)).toBe('CL#production#b07#2026-12-04#s2');
  });
});
