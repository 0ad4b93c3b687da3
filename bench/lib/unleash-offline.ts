/**
 * What the in-process benchmarks (bench/engine/engine.bench.ts, bench/engine/provider-throughput.bench.ts) share to run
 * unleash-client beside ToggleMaster in one process: a network trip-wire, and the peer loaded from its own folder
 * (never a dependency of the product; only the parts used are typed here).
 */
import { createRequire } from 'node:module';
import net from 'node:net';

/**
 * Records every socket the process opens and refuses anything but 127.0.0.1: proof that neither side evaluates over
 * the network: `attempts` are the hosts tried (empty at the end of a sound run); `remove()` puts sockets back as they were.
 */
export function installNetworkTripWire(): { attempts: string[]; remove(): void } {
  const connectAttempts: string[] = [];
  const socketPrototype = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => unknown };
  const originalConnect = socketPrototype.connect;
  socketPrototype.connect = function guardedConnect(this: unknown, ...args: unknown[]): unknown {
    const first = args[0];
    let host = 'localhost';
    if (typeof first === 'object' && first !== null) {
      const options = first as { host?: unknown; path?: unknown };
      host = typeof options.host === 'string' ? options.host : typeof options.path === 'string' ? `ipc:${options.path}` : 'localhost';
    } else if (typeof args[1] === 'string') {
      host = args[1];
    }
    connectAttempts.push(host);
    if (host !== '127.0.0.1') throw new Error(`benchmark trip-wire: something tried to reach ${host}`);
    return originalConnect.apply(this, args);
  };
  return {
    attempts: connectAttempts,
    remove: () => {
      socketPrototype.connect = originalConnect;
    },
  };
}

export interface UnleashContext {
  userId: string;
  properties: Record<string, string | number>;
}
export interface UnleashClient {
  isEnabled(name: string, context: UnleashContext): boolean;
  destroy(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}
export interface UnleashModule {
  Unleash: new (config: Record<string, unknown>) => UnleashClient;
  InMemStorageProvider: new () => unknown;
}
export interface UnleashUtil {
  normalizedStrategyValue(id: string, groupId: string): number;
}

/** unleash-client from bench/peers/unleash; exits with how to install it when it is missing. */
export function loadUnleashClient(): { unleashModule: UnleashModule; unleashUtil: UnleashUtil; unleashVersion: string } {
  const peerRequire = createRequire(new URL('../peers/unleash/package.json', import.meta.url));
  try {
    return {
      unleashModule: peerRequire('unleash-client') as UnleashModule,
      unleashUtil: peerRequire('unleash-client/lib/strategy/util') as UnleashUtil,
      unleashVersion: (peerRequire('unleash-client/package.json') as { version: string }).version,
    };
  } catch {
    console.error('unleash-client is not installed. Run: npm install --prefix bench/peers/unleash');
    process.exit(1);
  }
}
