import murmurhash from 'murmurhash';
import { bucketCount, weightScale } from '../contracts/weights.ts';

/**
 * Sticky percentage splits. bucket = MurmurHash3 x86 32-bit (the `murmurhash` package's v3, seed 0) of the UTF-8
 * bytes of `${salt}/${value}`, modulo 100,000. Slices take consecutive ranges in the order they are listed, each
 * weight × 1000 buckets wide: [0, w0), [w0, w0+w1), ...
 *
 * The hash is computed over bytes written into reusable buffers (one per length) instead of letting the package
 * encode the string (it builds a TextEncoder per call): same bytes, same hash, no garbage on the hot path. Non-ASCII
 * input and very long input take the package's own string path. bucketing.test.ts pins both against known vectors.
 */

const maxPooledLength = 512;
const pool: Array<Uint8Array | undefined> = [];

/** The bucket in [0, 100000) of a value under a salt. */
export function bucketOf(salt: string, value: string): number {
  return hashOf(salt, value) % bucketCount;
}

/** MurmurHash3 x86 32 (seed 0) of the UTF-8 bytes of `${salt}/${value}`. */
export function hashOf(salt: string, value: string): number {
  const saltLength = salt.length;
  const length = saltLength + 1 + value.length;
  if (length <= maxPooledLength) {
    let buffer = pool[length];
    if (buffer === undefined) {
      buffer = new Uint8Array(length);
      pool[length] = buffer;
    }
    let ascii = true;
    for (let i = 0; i < saltLength; i++) {
      const code = salt.charCodeAt(i);
      if (code > 0x7f) {
        ascii = false;
        break;
      }
      buffer[i] = code;
    }
    if (ascii) {
      buffer[saltLength] = 0x2f; // '/'
      const offset = saltLength + 1;
      for (let i = 0; i < value.length; i++) {
        const code = value.charCodeAt(i);
        if (code > 0x7f) {
          ascii = false;
          break;
        }
        buffer[offset + i] = code;
      }
      if (ascii) return murmurhash.v3(buffer, 0);
    }
  }
  return murmurhash.v3(`${salt}/${value}`, 0);
}

/** A rollout's slices as cumulative bucket thresholds: slice i holds buckets [ends[i-1], ends[i]). */
export interface Thresholds {
  readonly ends: Int32Array;
  /** The weights total exactly 100 (100,000 buckets); anything else is a configuration the engine refuses to serve. */
  readonly complete: boolean;
}

export function thresholdsOf(weights: readonly number[]): Thresholds {
  const ends = new Int32Array(weights.length);
  let total = 0;
  for (const [i, weight] of weights.entries()) {
    const scaled = Number.isFinite(weight) && weight > 0 ? Math.round(weight * weightScale) : 0;
    total += scaled;
    ends[i] = Math.min(total, bucketCount);
  }
  return { ends, complete: total === bucketCount };
}

/** The index of the slice that holds a bucket, or -1 when no slice does (weights short of 100). */
export function sliceOf(ends: Int32Array, bucket: number): number {
  for (let i = 0; i < ends.length; i++) if (bucket < (ends[i] ?? 0)) return i;
  return -1;
}
