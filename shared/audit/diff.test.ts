import { describe, expect, it } from 'vitest';
import { diff } from './diff.ts';

describe('diff', () => {
  it('names each changed leaf by its JSON pointer', () => {
    const changes = diff(
      { name: 'a', env: { prod: { enabled: false }, dev: { enabled: true } } },
      { name: 'b', env: { prod: { enabled: true }, dev: { enabled: true } } },
    );
    expect(changes).toEqual([
      { path: '/env/prod/enabled', before: false, after: true },
      { path: '/name', before: 'a', after: 'b' },
    ]);
  });

  it('treats arrays as one value and reports added and removed fields', () => {
    expect(diff({ tags: ['x'] }, { tags: ['x', 'y'], extra: 1 })).toEqual([
      { path: '/extra', before: null, after: 1 },
      { path: '/tags', before: ['x'], after: ['x', 'y'] },
    ]);
  });

  it('finds nothing between equal documents', () => {
    expect(diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });
});
