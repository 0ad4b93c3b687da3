import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { createHttpServer } from './server.ts';

/** The client address a service sees for a request from 127.0.0.1 carrying this X-Forwarded-For. */
async function clientAddress(trustProxyVariable: string | undefined, forwardedFor: string): Promise<string> {
  const config = loadConfig(trustProxyVariable === undefined ? {} : { TRUST_PROXY: trustProxyVariable });
  const { app } = await createHttpServer({
    name: 'test', title: 'test', logger: pino({ level: 'silent' }), bodyLimit: 1024, trustProxy: config.TRUST_PROXY,
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
