import pg from 'pg';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { AppError } from '../http/problem.ts';
import { freePort } from '../testing/free-port.ts';
import { isTransientInfrastructureError } from './transient-errors.ts';

/** What pg throws for an error the server sent: the SQLSTATE in `code`. */
const serverError = (code: string, message = 'from the server') => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('isTransientInfrastructureError', () => {
  it('is true for what pg throws when the database is unreachable (a real client, a port nobody listens on)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), connectionTimeoutMillis: 2_000 });
    const error: unknown = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isTransientInfrastructureError(error)).toBe(true);
  });

  it('is true for what ioredis throws while Redis is away, with the offline queue off or on (real clients)', async () => {
    const port = await freePort();
    const offline = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, retryStrategy: () => 50 });
    const queued = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    for (const redis of [offline, queued]) redis.on('error', () => {});
    try {
      const errors = await Promise.all(
        [offline, queued].map((redis) =>
          redis.get('k').then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      );
      expect(errors.map((e) => (e as Error).name)).toEqual(['Error', 'MaxRetriesPerRequestError']);
      for (const error of errors) expect(isTransientInfrastructureError(error), String(error)).toBe(true);
    } finally {
      offline.disconnect();
      queued.disconnect();
    }
  });

  it('is true for connection-level SQLSTATEs: class 08, class 53, and the server shutting down or starting', () => {
    for (const code of ['08000', '08001', '08003', '08006', '08P01', '53000', '53100', '53200', '53300', '57P01', '57P02', '57P03']) {
      expect(isTransientInfrastructureError(serverError(code)), code).toBe(true);
    }
  });

  it('is true for the messages of pg, pg-pool and ioredis that carry no code', () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Connection is closed.',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'LOADING Redis is loading the dataset in memory',
      "READONLY You can't write against a read only replica.",
    ]) {
      expect(isTransientInfrastructureError(new Error(message)), message).toBe(true);
    }
  });

  it('looks through causes and the errors of an AggregateError (fetch, and Node connecting to each address)', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8003'), { code: 'ECONNREFUSED' });
    expect(isTransientInfrastructureError(new TypeError('fetch failed', { cause: refused }))).toBe(true);
    expect(isTransientInfrastructureError(new AggregateError([new Error('other'), refused]))).toBe(true);
    expect(isTransientInfrastructureError(new Error('wrapped', { cause: serverError('57P01') }))).toBe(true);
  });

  it('is false for everything else: constraint and syntax errors, bugs, refusals, non-errors', () => {
    for (const error of [
      serverError('23505', 'duplicate key value violates unique constraint'),
      serverError('22P05', 'unsupported Unicode escape sequence'),
      serverError('42601', 'syntax error'),
      serverError('57014', 'canceling statement due to statement timeout'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new AppError('CONFLICT', 'Only a message that starts with "Connection terminated" counts'),
      new Error('ERR wrong number of arguments for command'),
      Object.assign(new Error('bad file'), { code: 'ENOENT' }),
      'ECONNREFUSED',
      undefined,
      null,
    ]) {
      expect(isTransientInfrastructureError(error), String(error)).toBe(false);
    }
  });

  it('stops at a cause that loops back on itself', () => {
    const error = new Error('outer') as Error & { cause?: unknown };
    error.cause = error;
    expect(isTransientInfrastructureError(error)).toBe(false);
  });
});
