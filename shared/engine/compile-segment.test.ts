import { describe, expect, it } from 'vitest';
import type { Segment } from '../contracts/targeting-model.ts';
import { compileSegment, recompileSegment } from './compile-segment.ts';

const segment = (included: string[], excluded: string[] = []): Segment => ({
  key: 'crowd',
  name: 'Crowd',
  description: '',
  conditions: [],
  included,
  excluded,
});
const sorted = (keys: Iterable<string>) => [...keys].sort();

describe('recompileSegment', () => {
  it('changes only the keys that changed, in the sets it had, and answers as a whole compile would', () => {
    const before = segment(
      Array.from({ length: 1_000 }, (_, i) => `member-${String(i).padStart(4, '0')}`),
      ['banned-1'],
    );
    const previous = compileSegment(before);
    const { included: previousIncluded } = previous;
    // One key replaced, one added at each end, the excluded list emptied.
    const after = segment(sorted([...before.included.filter((k) => k !== 'member-0500'), 'aaa-first', 'member-0500x', 'zzz-last']), []);
    const next = recompileSegment(previous, before, after);
    expect(next.included).toBe(previousIncluded);
    expect(sorted(next.included)).toEqual(after.included);
    expect([...next.excluded]).toEqual([]);
    expect(next.included.has('member-0500')).toBe(false);
    expect(next.included.has('member-0500x')).toBe(true);
  });

  it('compiles the lists whole when either is out of order, or when the sets no longer match the source', () => {
    const before = segment(['a', 'b', 'c']);
    const unordered = segment(['c', 'a', 'd']);
    const next = recompileSegment(compileSegment(before), before, unordered);
    expect(sorted(next.included)).toEqual(['a', 'c', 'd']);
    const fromUnordered = recompileSegment(compileSegment(unordered), unordered, before);
    expect(sorted(fromUnordered.included)).toEqual(['a', 'b', 'c']);
    // A compiled segment that is not the source's (sizes differ): compiled whole, not patched.
    const stale = recompileSegment(compileSegment(segment(['a'])), before, segment(['b', 'c']));
    expect(sorted(stale.included)).toEqual(['b', 'c']);
  });

  it('agrees with a whole compile over random changes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    let source = segment(sorted(Array.from({ length: 200 }, (_, i) => `k${i}`)), sorted(['x1', 'x2']));
    let compiled = compileSegment(source);
    for (let round = 0; round < 50; round++) {
      const included = new Set(source.included);
      for (let n = 0; n < 5; n++) {
        const key = `k${Math.floor(random() * 400)}`;
        if (random() < 0.5) included.delete(key);
        else included.add(key);
      }
      const excluded = random() < 0.3 ? [`x${Math.floor(random() * 5)}`] : source.excluded;
      const next = {
        ...segment(sorted(included), sorted(excluded)),
        conditions: [{ attribute: 'plan', operator: 'eq' as const, values: [`p${round}`] }],
      };
      compiled = recompileSegment(compiled, source, next);
      const whole = compileSegment(next);
      expect(sorted(compiled.included)).toEqual(sorted(whole.included));
      expect(sorted(compiled.excluded)).toEqual(sorted(whole.excluded));
      expect(compiled.conditions).toEqual(whole.conditions);
      source = next;
    }
  });
});
