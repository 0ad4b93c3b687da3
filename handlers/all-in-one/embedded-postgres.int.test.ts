import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';

describe('embedded PostgreSQL (PGlite over the wire protocol)', () => {
  let dir: string;
  let postgres: EmbeddedPostgres;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tm-embedded-'));
    postgres = await startEmbeddedPostgres(join(dir, 'pglite'));
  }, 60_000);
  afterAll(async () => {
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps concurrent connections apart: parameterised queries of other shapes and open transactions never mix', async () => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 6 });
    try {
      await pool.query('create table counts (id int primary key, n int not null)');
      await pool.query('insert into counts values (1, 0)');
      // Statements of different parameter counts, each on its own connection, all at once: interleaved on the one
      // session, one's Bind would meet another's Parse.
      const one = (i: number) => pool.query<{ v: number }>('select $1::int as v', [i]).then((r) => expect(r.rows[0]!.v).toBe(i));
      const two = (i: number) =>
        pool.query<{ v: number }>('select $1::int + $2::int as v', [i, 1]).then((r) => expect(r.rows[0]!.v).toBe(i + 1));
      const transaction = async () => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const { rows } = await client.query<{ n: number }>('select n from counts where id = $1 for update', [1]);
          await client.query('update counts set n = $1 where id = $2', [rows[0]!.n + 1, 1]);
          await client.query('commit');
        } finally {
          client.release();
        }
      };
      await Promise.all(Array.from({ length: 200 }, (_, i) => [one(i), two(i), ...(i % 10 === 0 ? [transaction()] : [])]).flat());
      expect((await pool.query<{ n: number }>('select n from counts where id = 1')).rows[0]!.n).toBe(20);
    } finally {
      await pool.end();
    }
  }, 60_000);
});
