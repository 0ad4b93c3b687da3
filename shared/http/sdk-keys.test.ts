import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSdkKeyVerifier } from './sdk-keys.ts';

// A stand-in for the auth service's POST /auth/api-keys/verify: valid keys by value, counting the calls.
const valid = new Map<string, { keyId: string; environment: string }>();
let calls = 0;
let server: Server;
let authUrl: string;
/** A grant the verifier may give at once (a connection's remembered key) or as a promise, as a promise. */
const settle = <T>(value: T | Promise<T>): Promise<T> => Promise.resolve(value);

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls += 1;
      const grant = valid.get((JSON.parse(body) as { key: string }).key);
      response.writeHead(grant ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(grant ?? { title: 'no' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  authUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('SDK key verifier', () => {
  it('asks auth once per key and time-to-live, and forgets a revoked key when it expires', async () => {
    let clock = 0;
    const verifier = createSdkKeyVerifier({ authUrl, ttlMs: 5_000, now: () => clock });
    valid.set('tm_key_a', { keyId: 'a', environment: 'production' });
    calls = 0;
    const [one, two] = await Promise.all([settle(verifier.verify('tm_key_a')), settle(verifier.verify('tm_key_a'))]);
    expect(one).toEqual({ keyId: 'a', environment: 'production' });
    expect(two).toEqual(one);
    expect(calls).toBe(1);
    valid.delete('tm_key_a');
    clock = 4_999;
    await expect(settle(verifier.verify('tm_key_a'))).resolves.toEqual(one);
    clock = 5_001;
    await expect(settle(verifier.verify('tm_key_a'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(calls).toBe(2);
  });

  it('lets a connection that sends the same key skip the look-up, within the same time-to-live only', async () => {
    let clock = 0;
    // One entry: verifying a second key empties the shared cache, so only the connection still remembers the first.
    const verifier = createSdkKeyVerifier({ authUrl, ttlMs: 5_000, maxEntries: 1, now: () => clock });
    const [first, second] = [{}, {}];
    valid.set('tm_key_b', { keyId: 'b', environment: 'staging' });
    valid.set('tm_key_c', { keyId: 'c', environment: 'development' });
    calls = 0;
    await expect(settle(verifier.verify('tm_key_b', first))).resolves.toMatchObject({ keyId: 'b' });
    await expect(settle(verifier.verify('tm_key_c', second))).resolves.toMatchObject({ keyId: 'c' });
    await expect(settle(verifier.verify('tm_key_b', first))).resolves.toMatchObject({ keyId: 'b' });
    expect(calls).toBe(2);
    // Remembered by the connection: the grant itself, at once.
    expect(verifier.verify('tm_key_b', first)).toEqual({ keyId: 'b', environment: 'staging' });
    // Another key on the same connection is checked on its own, never taken for the remembered one.
    await expect(settle(verifier.verify('tm_key_x', first))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(calls).toBe(3);
    valid.delete('tm_key_b');
    clock = 5_001;
    await expect(settle(verifier.verify('tm_key_b', first))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('answers 503 when auth cannot be reached, and asks again next time', async () => {
    const verifier = createSdkKeyVerifier({ authUrl: 'http://127.0.0.1:9' });
    await expect(settle(verifier.verify('tm_key_d'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(settle(verifier.verify('tm_key_d'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
