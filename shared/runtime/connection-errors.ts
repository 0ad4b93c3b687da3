import type { EventEmitter } from 'node:events';
import type { Logger } from '../logging/logger.ts';

/**
 * Listens to a connection's 'error' events (an emitter without a listener would crash the process) and logs them
 * without flooding: a client that reconnects every 200 ms during an outage raises five errors a second. The first
 * error of an outage is logged with its stack, then at most one every `everyMs` with how many were left out; the
 * next 'ready' (ioredis, BullMQ) ends the outage and says so.
 */
export function logConnectionErrors(emitter: EventEmitter, logger: Logger, connection: string, options: { everyMs?: number } = {}): void {
  const everyMs = options.everyMs ?? 30_000;
  let lastLogged = 0;
  let leftOut = 0;
  let failing = false;
  emitter.on('error', (error: unknown) => {
    const now = Date.now();
    if (failing && now - lastLogged < everyMs) {
      leftOut += 1;
      return;
    }
    logger.warn(
      { err: error, connection, ...(leftOut > 0 ? { errorsLeftOut: leftOut } : {}) },
      failing ? 'connection still failing' : 'connection failed; reconnecting',
    );
    failing = true;
    lastLogged = now;
    leftOut = 0;
  });
  emitter.on('ready', () => {
    if (!failing) return;
    logger.info({ connection, errorsLeftOut: leftOut }, 'connection restored');
    failing = false;
    leftOut = 0;
  });
}
