import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerUrl } from '../testing/postgres.ts';
import { createLogger } from '../logging/logger.ts';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy.ts';
import { createPool } from './database.ts';

describe('database pool', () => {
  let proxy: TcpProxy;
  const uncaught: unknown[] = [];
  const record = (error: unknown) => void uncaught.push(error);
  beforeAll(async () => {
    const target = new URL(testServerUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    process.on('uncaughtException', record);
  });
  afterAll(async () => {
    process.off('uncaughtException', record);
    await proxy.close();
  });

  it('survives the server dropping a connection that is checked out: the caller gets the error, the process goes on', async () => {
    const url = new URL(testServerUrl);
    Object.assign(url, { hostname: '127.0.0.1', port: String(proxy.port) });
    const pool = createPool(
      { DATABASE_POOL_MAX: 2, DATABASE_SSL: 'off', DATABASE_URL: undefined },
      { logger: createLogger('silent', 'database-test'), connectionString: url.toString() },
    );
    try {
      const client = await pool.connect();
      proxy.cut();
      // Both the idle moment and the query see the drop; neither may escape as an uncaught 'error'.
      await new Promise((r) => setTimeout(r, 100));
      await expect(client.query('select 1')).rejects.toThrow();
      client.release(true);
      proxy.restore();
      expect((await pool.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
      expect(uncaught).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});
