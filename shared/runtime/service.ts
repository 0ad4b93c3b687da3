import type pg from 'pg';
import type { Cache } from '../cache/cache.ts';
import type { ConfigCache } from '../config-cache/config-cache.ts';
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

/** Listens, and returns the stop that drains first: readiness fails at once, in-flight requests finish. */
export async function listen(name: string, served: { app: App; markDraining: () => void }, ctx: { config: Pick<Config, 'HOST'>; port: number }, release: () => Promise<void> = async () => {}): Promise<StartedService> {
  const address = await served.app.listen({ host: ctx.config.HOST, port: ctx.port });
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
