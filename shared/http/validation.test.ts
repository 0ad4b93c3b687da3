import { Type, type TProperties } from 'typebox';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type App } from './server.ts';
import { needsPreparation } from './validation.ts';

describe('needsPreparation', () => {
  it('is false for strings without defaults, however nested', () => {
    expect(needsPreparation(Type.Object({ key: Type.String({ pattern: '^[a-z]+$' }) }))).toBe(false);
    expect(needsPreparation(Type.Object({ 'if-none-match': Type.Optional(Type.String()) }))).toBe(false);
    expect(needsPreparation(Type.Object({ kind: Type.Union([Type.Literal('a'), Type.Literal('b')]) }))).toBe(false);
  });

  it('is true for a default or for anything a string must be converted to', () => {
    expect(needsPreparation(Type.Object({ limit: Type.Optional(Type.String({ default: '10' })) }))).toBe(true);
    expect(needsPreparation(Type.Object({ limit: Type.Integer() }))).toBe(true);
    expect(needsPreparation(Type.Object({ on: Type.Optional(Type.Boolean()) }))).toBe(true);
    expect(needsPreparation(Type.Object({ tags: Type.Array(Type.String()) }))).toBe(true);
    expect(needsPreparation(Type.Object({ n: Type.Union([Type.Literal(1), Type.Literal(2)]) }))).toBe(true);
    expect(needsPreparation({ type: 'object', properties: { n: { enum: [1, 2] } } })).toBe(true);
  });
});

describe('request validation', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await createHttpServer({
      name: 'test',
      title: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      trustProxy: false,
      routes: (scope) => {
        scope.get(
          '/items/:key',
          {
            schema: {
              params: Type.Object({ key: Type.String({ pattern: '^[a-z]+$' }) }),
              querystring: Type.Object({ limit: Type.Integer({ minimum: 1, default: 10 }), on: Type.Optional(Type.Boolean()) }),
            },
          },
          async (request) => ({ key: request.params.key, ...request.query }),
        );
      },
    }));
  });
  afterAll(() => app.close());

  it('converts and defaults query strings, and checks string params as sent', async () => {
    expect((await app.inject({ url: '/items/abc' })).json()).toEqual({ key: 'abc', limit: 10 });
    expect((await app.inject({ url: '/items/abc?limit=5&on=true' })).json()).toEqual({ key: 'abc', limit: 5, on: true });
    const bad = await app.inject({ url: '/items/ABC?limit=zero' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });
});

describe('the NUL character (U+0000), which PostgreSQL cannot store', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await createHttpServer({
      name: 'test',
      title: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024 * 1024,
      trustProxy: false,
      routes: (scope) => {
        scope.post(
          '/items/:key',
          {
            schema: {
              params: Type.Object({ key: Type.String() }),
              querystring: Type.Object({ cursor: Type.Optional(Type.String()), limit: Type.Integer({ default: 10 }) }),
              body: Type.Object({
                name: Type.String(),
                tags: Type.Optional(Type.Array(Type.String())),
                value: Type.Optional(Type.Unknown()),
              }),
            },
          },
          async () => ({ ok: true }),
        );
      },
    }));
  });
  afterAll(() => app.close());

  const post = (url: string, payload: object | string) =>
    app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  const nulRefused = 'must not contain the NUL character (U+0000)';
  const errorsOf = (res: { json: <T>() => T }) => res.json<{ errors: { path: string; message: string }[] }>().errors;

  it('is refused with 400 in any string of the body, naming the field', async () => {
    const res = await post('/items/a', { name: 'x\u0000y' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(errorsOf(res)).toEqual([{ path: 'body/name', message: nulRefused }]);
  });

  it('is found however deep in arrays, free-form values and field names', async () => {
    const res = await post('/items/a', { name: 'ok', tags: ['fine', '\u0000'], value: { deep: [{ text: 'a\u0000' }], 'k\u0000ey': 1 } });
    expect(res.statusCode).toBe(400);
    expect(
      errorsOf(res)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['body/tags/1', 'body/value/deep/0/text', 'body/value/k\\u0000ey']);
  });

  it('is refused in the query string (a cursor too) and in the path', async () => {
    const query = await post('/items/a?cursor=abc%00', { name: 'ok' });
    expect(query.statusCode).toBe(400);
    expect(errorsOf(query)).toEqual([{ path: 'querystring/cursor', message: nulRefused }]);
    const path = await post('/items/a%00b', { name: 'ok' });
    expect(path.statusCode).toBe(400);
    expect(errorsOf(path)).toEqual([{ path: 'params/key', message: nulRefused }]);
  });

  it('is found at the bottom of a value nested far deeper than the call stack, and such a value without one passes', async () => {
    // Written out by hand: JSON.stringify itself recurses, and would overflow before the request is sent.
    const nest = (levels: number, leaf: string) => {
      const open = Array.from({ length: levels }, (_, i) => (i % 2 ? '{"a":' : '[')).join('');
      const close = Array.from({ length: levels }, (_, i) => (i % 2 ? '}' : ']'))
        .reverse()
        .join('');
      return `{"name":"ok","value":${open}${JSON.stringify(leaf)}${close}}`;
    };
    expect((await post('/items/a', nest(50_000, 'clean'))).statusCode).toBe(200);
    const res = await post('/items/a', nest(50_000, 'dirty\u0000'));
    expect(res.statusCode).toBe(400);
    expect(errorsOf(res)[0]?.path).toMatch(/^body\/value\/0\/a\/0\//);
  });

  it('lets everything else through: other control characters, empty strings, non-strings', async () => {
    expect((await post('/items/a?cursor=%01', { name: '\u0001\t', tags: [''], value: { n: 0, b: false, z: null } })).statusCode).toBe(200);
  });
});

describe('unknown fields', () => {
  let app: App;
  beforeAll(async () => {
    ({ app } = await createHttpServer({
      name: 'test',
      title: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      trustProxy: false,
      routes: (scope) => {
        const Closed = <T extends TProperties>(properties: T) => Type.Object(properties, { additionalProperties: false });
        scope.post(
          '/things',
          {
            schema: {
              body: Closed({
                name: Type.String(),
                inner: Type.Optional(Closed({ n: Type.Number() })),
                either: Type.Optional(Type.Union([Closed({ a: Type.String() }), Closed({ b: Type.String() })])),
              }),
            },
          },
          async () => ({ ok: true }),
        );
      },
    }));
  });
  afterAll(() => app.close());

  it('are each reported once, with the clear message', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { name: 'x', owner: 'me', colour: 'red', inner: { n: 1, extra: true } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: unknown[] }>().errors).toEqual([
      { path: 'body', message: 'has unknown field(s): owner, colour' },
      { path: 'body/inner', message: 'has unknown field(s): extra' },
    ]);
  });

  it('are reported once when every branch of a union refuses them', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { name: 'x', either: { z: 1 } } });
    const messages = res.json<{ errors: { path: string; message: string }[] }>().errors.filter((e) => e.message.includes('unknown'));
    expect(messages).toEqual([{ path: 'body/either', message: 'has unknown field(s): z' }]);
  });
});
