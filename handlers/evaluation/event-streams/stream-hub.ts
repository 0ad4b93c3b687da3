import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AccessReplica } from '../../../shared/access/access-replica.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { ConfigurationVersions, ConfigVersion } from '../configuration-versions.ts';

export interface StreamHubOptions {
  versions: ConfigurationVersions;
  access: Pick<AccessReplica, 'sdkKeyById' | 'onSdkKeyChange'>;
  logger: Logger;
  metrics: Registry;
  /** Streams this instance holds at most; past it a new one is answered 503 (another instance takes it). */
  maxStreams: number;
  /** A comment line this often keeps proxies and load balancers from closing an idle stream (an ALB: 60 s). */
  keepAliveMs?: number;
  /** Bytes a stream may have waiting for a client that does not read; past it the client is dropped, not buffered. */
  maxBufferedBytes?: number;
}

interface OpenStream {
  response: ServerResponse;
  environment: string;
  keyId: string;
  /** The key's project: only changes that concern it wake the stream. */
  project: string;
}

type CloseReason = 'client' | 'slow' | 'revoked' | 'shutdown';

/** OFREP's change event (ADR-0008): `event: message`, the version as `id`, and what to re-fetch with. */
function changeEvent(version: ConfigVersion): string {
  const data = JSON.stringify({ type: 'refetchEvaluation', etag: `"${version.id}"`, lastModified: Math.floor(version.at / 1000) });
  return `id: ${version.id}\nevent: message\ndata: ${data}\n\n`;
}

function hubMetrics(registry: Registry) {
  const registers = [registry];
  return {
    open: new Gauge({ name: 'ofrep_event_streams_open', help: 'OFREP event streams this instance holds', registers }),
    closed: new Counter({
      name: 'ofrep_event_streams_closed_total',
      help: 'Event streams ended, by why',
      labelNames: ['reason'] as const,
      registers,
    }),
    events: new Counter({ name: 'ofrep_event_stream_events_total', help: 'Change events written to streams', registers }),
    fanOut: new Histogram({
      name: 'ofrep_event_fanout_seconds',
      help: "From a change committing to its event being written to the last of its environment's streams here",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}

/**
 * Every OFREP event stream this instance holds, by environment and by key. The configuration replica's one
 * subscription tells it which environment moved to which version; it writes the event to that environment's
 * streams (prepared once). A client that stops reading is dropped when its unsent bytes pass a bound; a revoked
 * key's streams are closed as soon as the access replica hears of it; shutdown ends every stream, so each client
 * reconnects (to another instance) after the `retry` it was given, with the last event id it saw.
 */
export function createStreamHub(options: StreamHubOptions) {
  const { versions, access, logger } = options;
  const maxBufferedBytes = options.maxBufferedBytes ?? 65_536;
  const metrics = hubMetrics(options.metrics);
  const byEnvironment = new Map<string, Set<OpenStream>>();
  const byKey = new Map<string, Set<OpenStream>>();
  let size = 0;

  function add<K>(index: Map<K, Set<OpenStream>>, key: K, stream: OpenStream): void {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(stream);
  }
  function remove<K>(index: Map<K, Set<OpenStream>>, key: K, stream: OpenStream): void {
    const set = index.get(key);
    if (set?.delete(stream) && set.size === 0) index.delete(key);
  }

  function forget(stream: OpenStream, reason: CloseReason): void {
    if (!byEnvironment.get(stream.environment)?.has(stream)) return;
    remove(byEnvironment, stream.environment, stream);
    remove(byKey, stream.keyId, stream);
    size -= 1;
    metrics.open.set(size);
    metrics.closed.inc({ reason });
  }

  function end(stream: OpenStream, reason: CloseReason): void {
    forget(stream, reason);
    if (reason === 'slow' || reason === 'revoked') stream.response.destroy();
    // Ended cleanly: the client reconnects after its `retry` (the response's 'close' then lets go of the socket).
    else stream.response.end();
  }

  /** Writes to one stream; a client that lets bytes pile up is dropped. */
  function write(stream: OpenStream, text: string): void {
    stream.response.write(text);
    if (stream.response.writableLength > maxBufferedBytes) {
      logger.debug(
        { environment: stream.environment, buffered: stream.response.writableLength },
        'event stream client does not read; dropped',
      );
      end(stream, 'slow');
    }
  }

  const stopListening = versions.onChange((environment, version, project) => {
    const streams = byEnvironment.get(environment);
    if (!streams) return;
    const event = changeEvent(version);
    let written = 0;
    for (const stream of [...streams]) {
      // Another project's change is none of this key's business: its stream does not even hear of it.
      if (project !== undefined && stream.project !== project) continue;
      write(stream, event);
      written += 1;
    }
    if (written === 0) return;
    metrics.events.inc(written);
    // Node sends what was written on the next turn of the event loop: measured once it has gone out.
    setImmediate(() => metrics.fanOut.observe(Math.max(0, Date.now() - version.at) / 1000));
  });

  const stopWatchingKeys = access.onSdkKeyChange((id) => {
    const key = access.sdkKeyById(id);
    if (key && !key.revoked) return;
    for (const stream of [...(byKey.get(id) ?? [])]) end(stream, 'revoked');
  });

  const keepAlive = setInterval(() => {
    for (const streams of byEnvironment.values()) for (const stream of [...streams]) write(stream, ':\n\n');
  }, options.keepAliveMs ?? 15_000);
  keepAlive.unref();

  return {
    get size() {
      return size;
    },
    get full() {
      return size >= options.maxStreams;
    },

    /**
     * Streams changes of `environment` that concern `project` to `response` (its 200 and headers already written).
     * A client that comes back with a `Last-Event-ID` other than the version its project's callers are at missed a
     * change: it gets that version's event at once. Otherwise the first lines only set its reconnection delay and
     * its last event id.
     */
    open(response: ServerResponse, grant: { environment: string; keyId: string; project: string }, lastEventId: string | undefined): void {
      const stream: OpenStream = { response, ...grant };
      add(byEnvironment, grant.environment, stream);
      add(byKey, grant.keyId, stream);
      size += 1;
      metrics.open.set(size);
      // Held from the start: by the time the response closes it has let go of its socket.
      const socket = response.socket;
      response.on('close', () => {
        forget(stream, 'client');
        // A client that went away may leave the connection open (undici keeps it for seconds): closed here, or
        // the server's shutdown would wait on it.
        socket?.destroy();
      });
      const current = versions.current(grant.environment, grant.project);
      // Spread over 1–3 s: the clients of an instance that stops do not all come back in the same millisecond.
      const retry = 1_000 + Math.floor(Math.random() * 2_000);
      const missed = lastEventId !== undefined && lastEventId !== current.id;
      write(stream, `retry: ${retry}\n${missed ? changeEvent(current) : `id: ${current.id}\n\n`}`);
    },

    /** Ends every stream (shutdown): each client reconnects elsewhere after its `retry`. */
    close(): void {
      stopListening();
      stopWatchingKeys();
      clearInterval(keepAlive);
      for (const streams of [...byEnvironment.values()]) for (const stream of [...streams]) end(stream, 'shutdown');
    },
  };
}

export type StreamHub = ReturnType<typeof createStreamHub>;
