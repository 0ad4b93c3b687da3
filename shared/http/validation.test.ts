import { Type } from 'typebox';
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
      name: 'test', title: 'test', logger: pino({ level: 'silent' }), bodyLimit: 1024, trustProxy: false,
      routes: (scope) => {
        scope.get('/items/:key', {
          schema: {
            params: Type.Object({ key: Type.String({ pattern: '^[a-z]+$' }) }),
            querystring: Type.Object({ limit: Type.Integer({ minimum: 1, default: 10 }), on: Type.Optional(Type.Boolean()) }),
          },
        }, async (request) => ({ key: request.params.key, ...request.query }));
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
