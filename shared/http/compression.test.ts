import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codingFor, compressionThreshold, createCompressedBodies, etagFor, negotiateCoding } from './compression.ts';

describe('content coding negotiation (RFC 9110 §12.5.3)', () => {
  it('takes the acceptable coding with the highest q, brotli on a tie, none when neither is acceptable', () => {
    expect(negotiateCoding(undefined)).toBeUndefined();
    expect(negotiateCoding('')).toBeUndefined();
    expect(negotiateCoding('identity')).toBeUndefined();
    expect(negotiateCoding('deflate, zstd')).toBeUndefined();
    expect(negotiateCoding('gzip, deflate')).toBe('gzip');
    expect(negotiateCoding('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiateCoding('GZIP;Q=0.9, br;q=0.8')).toBe('gzip');
    expect(negotiateCoding('br;q=0, gzip')).toBe('gzip');
    expect(negotiateCoding('br;q=0, gzip;q=0')).toBeUndefined();
    expect(negotiateCoding('*')).toBe('br');
    expect(negotiateCoding('*;q=0')).toBeUndefined();
    expect(negotiateCoding('br;q=0, *')).toBe('gzip');
    expect(negotiateCoding(['gzip', 'br;q=0.1'])).toBe('gzip');
  });

  it('compresses only from the threshold on, and weakens the ETag of a compressed answer', () => {
    expect(codingFor('br', compressionThreshold - 1)).toBeUndefined();
    expect(codingFor('br', compressionThreshold)).toBe('br');
    expect(etagFor('"abc"', undefined)).toBe('"abc"');
    expect(etagFor('"abc"', 'gzip')).toBe('W/"abc"');
    expect(etagFor('W/"abc"', 'br')).toBe('W/"abc"');
  });
});

describe('compressed bodies kept by ETag', () => {
  it('makes each (coding, ETag) once, and lets the least recently used go past the byte bound', () => {
    const body = (seed: number) => JSON.stringify(Array.from({ length: 200 }, (_, i) => `${seed}-${i * 7919}`));
    const made: string[] = [];
    const bodies = createCompressedBodies(2_000);
    const get = (etag: string, seed: number) =>
      bodies.get('gzip', etag, () => {
        made.push(etag);
        return body(seed);
      });
    const first = get('"a"', 1);
    expect(gunzipSync(first).toString('utf8')).toBe(body(1));
    expect(get('"a"', 1)).toBe(first);
    expect(made).toEqual(['"a"']);
    for (let i = 0; i < 10; i++) get(`"${i}"`, i + 2);
    expect(bodies.bytes).toBeLessThanOrEqual(2_000);
    get('"a"', 1);
    expect(made.filter((etag) => etag === '"a"')).toHaveLength(2);
  });
});
