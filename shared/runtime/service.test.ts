import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fastify } from 'fastify';
import type { App } from '../http/server.ts';
import { assertPortFree, listen } from './service.ts';

describe('listening on a port that is taken', () => {
  let holder: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => holder?.close(resolve) ?? resolve(undefined));
  });

  async function occupyPort(): Promise<number> {
    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    return (holder.address() as { port: number }).port;
  }

  it('names the port and the role, and says how to run a second ToggleMaster, instead of a bare EADDRINUSE', async () => {
    const port = await occupyPort();
    const app = fastify() as unknown as App;
    const failure = listen('auth', { app, markDraining: () => {} }, { config: { HOST: '127.0.0.1' }, port });
    await expect(failure).rejects.toThrow(`auth cannot listen on 127.0.0.1:${port}: the port is already in use`);
    await expect(failure).rejects.toThrow('PORT_OFFSET=');
    await app.close();
  });

  it('checks a port before anything is started on it', async () => {
    const port = await occupyPort();
    await expect(assertPortFree('console', '127.0.0.1', port)).rejects.toThrow(`console cannot listen on 127.0.0.1:${port}`);
    await new Promise((resolve) => holder!.close(resolve));
    holder = undefined;
    await expect(assertPortFree('console', '127.0.0.1', port)).resolves.toBeUndefined();
  });
});
