import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { createHttpServer } from './server.ts';
import { AppError } from './problem.ts';

/** The client address a service sees for a request from 127.0.0.1 carrying this X-Forwarded-For. */
async function clientAddress(trustProxyVariable: string | undefined, forwardedFor: string): Promise<string> {
  const config = loadConfig(trustProxyVariable === undefined ? {} : { TRUST_PROXY: trustProxyVariable });
  const { app } = await createHttpServer({
    name: 'test',
    title: 'test',
    logger: pino({ level: 'silent' }),
    bodyLimit: 1024,
    trustProxy: config.TRUST_PROXY,
    routes: (scope) => void scope.get('/ip', async (request) => ({ ip: request.ip })),
  });
  try {
    const response = await app.inject({ url: '/ip', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': forwardedFor } });
    return response.json<{ ip: string }>().ip;
  } finally {
    await app.close();
  }
}

describe('client address behind a load balancer (TRUST_PROXY)', () => {
  // The client sent "X-Forwarded-For: 6.6.6.6"; the load balancer (127.0.0.1 here) appended the address it saw.
  const forged = '6.6.6.6, 203.0.113.9';

  it('believes only the load balancer named by address or CIDR: a forged entry cannot pick the address', async () => {
    expect(await clientAddress('127.0.0.0/8', forged)).toBe('203.0.113.9');
    expect(await clientAddress('10.0.101.0/24, 127.0.0.1', forged)).toBe('203.0.113.9');
  });

  it('takes the socket address when off, and the first entry when every hop is trusted', async () => {
    expect(await clientAddress(undefined, forged)).toBe('127.0.0.1');
    expect(await clientAddress('false', forged)).toBe('127.0.0.1');
    expect(await clientAddress('true', forged)).toBe('6.6.6.6');
  });

  it('refuses a value that is neither a boolean nor addresses', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY/);
  });
});

describe('errors of the infrastructure', () => {
  const answerTo = async (error: Error) => {
    const { app } = await createHttpServer({
      name: 'test',
      title: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      trustProxy: false,
      routes: (scope) =>
        void scope.get('/fail', async () => {
          throw error;
        }),
    });
    try {
      return await app.inject({ url: '/fail' });
    } finally {
      await app.close();
    }
  };

  it('answers an unreachable database or cache 503 with Retry-After, hiding the cause', async () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ]) {
      const res = await answerTo(error);
      expect(res.statusCode, error.message).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(res.body).not.toContain(error.message);
    }
  });

  it('tells when to come back on every 503, also one a route raised itself', async () => {
    const res = await answerTo(new AppError('SERVICE_UNAVAILABLE', 'The targeting service does not answer'));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
  });

  it('still answers any other failure 500 INTERNAL, with no Retry-After', async () => {
    const res = await answerTo(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }));
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'INTERNAL' });
    expect(res.headers['retry-after']).toBeUndefined();
  });
});

describe('API documentation, built on its first request', () => {
  it('describes every route with its schemas and the shared ones, serves the UI, and answers an unknown asset 404', async () => {
    const { app } = await createHttpServer({
      name: 'test',
      title: 'Test service',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      trustProxy: false,
      routes: (scope) => {
        scope.post(
          '/things/:id',
          {
            schema: {
              params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
              body: { type: 'object', properties: { name: { type: 'string' } } },
              response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, 400: { $ref: 'Problem#' } },
            },
          },
          async () => ({ ok: true }),
        );
        scope.get('/hidden', { schema: { hide: true } }, async () => ({}));
      },
    });
    try {
      const document = (await app.inject({ url: '/docs/test/json' })).json<{
        info: { title: string };
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
        components: { schemas: Record<string, unknown> };
      }>();
      expect(document.info.title).toBe('Test service');
      expect(Object.keys(document.paths)).toEqual(['/things/{id}']);
      expect(Object.keys(document.paths['/things/{id}']!.post!.responses)).toEqual(['200', '400']);
      expect(Object.keys(document.components.schemas)).toContain('Problem');
      const page = await app.inject({ url: '/docs/test' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect((await app.inject({ url: '/docs/test/static/swagger-ui.css' })).statusCode).toBe(200);
      const missing = await app.inject({ url: '/docs/test/static/nothing-here.js' });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
      // The routes themselves still validate and serialise (each on its first request).
      expect((await app.inject({ method: 'POST', url: '/things/1', payload: { name: 7 } })).statusCode).toBe(400);
      expect((await app.inject({ method: 'POST', url: '/things/1', payload: { name: 'a' } })).json()).toEqual({ ok: true });
    } finally {
      await app.close();
    }
  });
});
