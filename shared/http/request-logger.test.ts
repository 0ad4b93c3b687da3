import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyRequestLogger } from './request-logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('lazyRequestLogger', () => {
  it('writes enabled lines with the request bindings, and makes no child for disabled ones', async () => {
    const { logger, lines } = capture('warn');
    const child = vi.spyOn(logger, 'child');
    const log = lazyRequestLogger(logger, { reqId: 'r-1' }, {});
    log.info({ a: 1 }, 'not written');
    log.debug('not written');
    expect(child).not.toHaveBeenCalled();
    log.warn({ b: 2 }, 'written');
    log.error('also written');
    await new Promise((resolve) => setImmediate(resolve));
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toMatchObject([
      { reqId: 'r-1', b: 2, msg: 'written', level: 40 },
      { reqId: 'r-1', msg: 'also written', level: 50 },
    ]);
    expect(log.level).toBe('warn');
  });

  it('follows a change of the parent level, and gives real children', async () => {
    const { logger, lines } = capture('warn');
    const log = lazyRequestLogger(logger, { reqId: 'r-2' }, {});
    logger.level = 'debug';
    log.debug('now written');
    log.child({ part: 'x' }).info('from a child');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toMatchObject([
      { reqId: 'r-2', msg: 'now written' },
      { reqId: 'r-2', part: 'x', msg: 'from a child' },
    ]);
  });

  it('leaves a route with its own level to pino', () => {
    const { logger } = capture('warn');
    const log = lazyRequestLogger(logger, { reqId: 'r-3' }, { level: 'debug' });
    expect(log.level).toBe('debug');
  });
});
