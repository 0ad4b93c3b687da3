import { createServer } from 'node:net';
import type pg from 'pg';
import type { Cache } from '../cache/cache.ts';
import type { ConfigCache } from '../propagation/config-cache.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { App } from '../http/server.ts';

/** What a service role is given by the process that starts it (a single-role process or the all-in-one one). */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  /** The pool of the service's own database (auth, flags, targeting). */
  pool?: pg.Pool;
  cache: Cache;
  /** The shared configuration cache the owning services publish to and evaluation reads. */
  configCache: ConfigCache;
  port: number;
}

export interface StartedService {
  name: string;
  app: App;
  url: string;
  /** Stop taking work (readiness turns 503), finish in-flight requests, release what the service holds. */
  stop(): Promise<void>;
}

/** A port this process needs is taken (most often by a second `npm start`): said in words, with the way out. */
export class PortInUseError extends Error {
  readonly role: string;
  readonly port: number;

  constructor(role: string, host: string, port: number) {
    super(
      `${role} cannot listen on ${host}:${port}: the port is already in use (by another ToggleMaster, such as an earlier \`npm start\`, or another program). ` +
        'Stop that one, or run this one on other ports: `PORT_OFFSET=100 DATA_DIR=.togglemaster-2 npm start` moves every port of the all-in-one process up by 100 ' +
        '(with data of its own), and PORT=<port> sets the port of a single service.',
    );
    this.name = 'PortInUseError';
    this.role = role;
    this.port = port;
  }
}

const isAddressInUse = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';

/** Fails with PortInUseError when the port is taken, before anything is started that would need undoing. */
export async function assertPortFree(role: string, host: string, port: number): Promise<void> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    throw isAddressInUse(error) ? new PortInUseError(role, host, port) : error;
  }
  await new Promise((resolve) => probe.close(resolve));
}

/** Listens, and returns the stop that drains first: readiness fails at once, in-flight requests finish. */
export async function listen(
  name: string,
  served: { app: App; markDraining: () => void },
  ctx: { config: Pick<Config, 'HOST'>; port: number },
  release: () => Promise<void> = async () => {},
): Promise<StartedService> {
  let address: string;
  try {
    address = await served.app.listen({ host: ctx.config.HOST, port: ctx.port });
  } catch (error) {
    throw isAddressInUse(error) ? new PortInUseError(name, ctx.config.HOST, ctx.port) : error;
  }
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  return {
    name,
    app: served.app,
    url,
    async stop() {
      served.markDraining();
      await served.app.close();
      await release();
    },
  };
}
