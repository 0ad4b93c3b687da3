import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One memory-reducing garbage collection once a role has started. Starting a role allocates a lot that dies at once
 * (schemas built and compiled, modules evaluated), so V8 grows its young generation to its largest (16 MB of
 * semi-space in Node 24) and, with no allocation afterwards, never shrinks it back: an idle evaluation process kept
 * ~15 MB of empty young generation. A collection asked to reduce the footprint shrinks it and compacts the old
 * generation (~16 MB less RSS; docs/benchmarks.md, Memory and cold start). It regrows under load as V8 needs it;
 * the heap limits stay Node's defaults. It takes a few milliseconds, before any request is waiting.
 */
export function releaseStartupMemory(): void {
  // `gc` is exposed to a new context only (the way Jest's --logHeapUsage does it); this process's globals are untouched.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
