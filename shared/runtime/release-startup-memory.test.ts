import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { releaseStartupMemory, releaseMemorySoon } from './release-startup-memory.ts';

const newSpaceMb = () => (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? NaN) / 2 ** 20;

describe('releaseStartupMemory', () => {
  it('gives back the young generation a start-up grew', () => {
    // What a start-up does: many objects that survive a few young collections, then die at once.
    let kept: object[][] = [];
    for (let round = 0; round < 40; round++) kept.push(Array.from({ length: 20_000 }, (_, i) => ({ round, i, text: `item ${i}` })));
    kept = [];
    expect(kept).toHaveLength(0);
    const grown = newSpaceMb();
    expect(grown).toBeGreaterThan(4);
    releaseStartupMemory();
    expect(newSpaceMb()).toBeLessThan(Math.min(2, grown / 2));
  });

  it('collects only after the delay, off the start-up path', async () => {
    let kept: object[][] = [];
    for (let round = 0; round < 40; round++) kept.push(Array.from({ length: 20_000 }, (_, i) => ({ round, i, text: `item ${i}` })));
    kept = [];
    expect(kept).toHaveLength(0);
    const grown = newSpaceMb();
    expect(grown).toBeGreaterThan(4);
    releaseMemorySoon(50);
    // Not yet given back (V8 may still resize it a little on its own meanwhile: an exact figure would be a race).
    expect(newSpaceMb()).toBeGreaterThan(Math.max(2, grown / 2));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(newSpaceMb()).toBeLessThan(Math.min(2, grown / 2));
  });

  it('leaves the process without a global gc', () => {
    releaseStartupMemory();
    expect('gc' in globalThis).toBe(false);
  });
});
