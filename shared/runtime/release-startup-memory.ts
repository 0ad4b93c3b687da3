import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One memory-reducing garbage collection once a role has started. Starting a role allocates a lot that dies at once
 * (schemas built and compiled, modules evaluated), so V8 grows its young generation to its largest (16 MB of
 * semi-space in Node 24) and, with no allocation afterwards, never shrinks it back: an idle evaluation process kept
 * ~15 MB of empty young generation. A collection asked to reduce the footprint shrinks it and compacts the old
 * generation (~16 MB less RSS; docs/benchmarks.md, Memory and cold start). It regrows under load as V8 needs it;
 * the heap limits stay Node's defaults.
 */
export function releaseStartupMemory(): void {
  // `gc` is exposed to a new context only (the way Jest's --logHeapUsage does it); this process's globals are untouched.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

let pending: NodeJS.Timeout | undefined;

/**
 * The same, a moment from now (`delayMs`), once however often it is asked for meanwhile: after a role started, and
 * after a large load (the evaluation service's whole environment read and compiled), whose garbage V8 would
 * otherwise keep as committed pages. The collection is synchronous and takes tens of milliseconds (more on a busy
 * machine): done before listening it made every start that much later (a sixth of the evaluation service's
 * spawn → ready time); a second after the start the readiness probe has had its answer, and the pause falls at most
 * on the first requests of a new instance, once.
 */
export function releaseMemorySoon(delayMs = 1_000): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    releaseStartupMemory();
  }, delayMs).unref();
}
