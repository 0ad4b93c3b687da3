import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { memoryQueue } from '../../../handlers/testing/memory-queue.ts';
import { evaluationOnCache } from '../../../handlers/testing/evaluation-on-cache.ts';
import type { FlagDocument } from '../../../shared/contracts/flag-model.ts';
import type { Rule, Segment } from '../../../shared/contracts/targeting-model.ts';
import { createIngestSender } from '../../../shared/events/ingest-sender.ts';
import type { ConfigCache } from '../../../shared/propagation/config-cache.ts';
import { createMemoryConfigCache } from '../../../shared/propagation/memory-config-cache.ts';
import { fixedSdkKeyRecords, fixedSdkKeys } from '../../../shared/testing/sdk-keys.ts';

export const serverKey = 'sdk-server-development';
export const clientKey = 'sdk-client-development';
const keys = { [serverKey]: 'development', [clientKey]: { environment: 'development', kind: 'client' as const } };

export interface Seed {
  flags: FlagDocument[];
  rules: { environment: string; flagKey: string; rules: Rule[] }[];
  segments: Segment[];
}

/**
 * ToggleMaster's real evaluation service, in this process, over a configuration cache the test fills (as the flags
 * and targeting services would through their relays), with OFREP event streams and an in-memory events queue; it
 * listens on a port of its own, and can be stopped and started again on that same port.
 */
export async function evaluationService(seed: Seed) {
  const cache: ConfigCache = createMemoryConfigCache();
  for (const flag of seed.flags) await cache.putFlag(flag);
  for (const { environment, flagKey, rules } of seed.rules) await cache.putRules(environment, flagKey, rules);
  for (const segment of seed.segments) await cache.putSegment(segment);
  const { queue, producer } = memoryQueue();
  let port = 0;
  let running: Awaited<ReturnType<typeof evaluationOnCache>> | undefined;

  async function start(): Promise<void> {
    running = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys(keys),
      streamKeys: fixedSdkKeyRecords(keys),
      ingest: createIngestSender(producer, { keySalt: 'test-salt', metrics: new Registry() }),
    });
    await running.app.listen({ port, host: '127.0.0.1' });
    port = (running.app.server.address() as AddressInfo).port;
  }
  await start();

  return {
    cache,
    queue,
    get app() {
      return running!.app;
    },
    get baseUrl() {
      return `http://127.0.0.1:${port}`;
    },
    /** Stops the service (its streams end, its port closes); `start()` brings it back on the same port. */
    async stop(): Promise<void> {
      await running?.close();
      running = undefined;
    },
    start,
    /** What the events queue received: raw evaluation events and counted ones, per (flag, variant, reason, rule). */
    evaluationTotals(): Map<string, number> {
      const totals = new Map<string, number>();
      const add = (flag: string, variant: string | null, reason: string, rule: string | null, n: number) => {
        const group = `${flag}/${variant ?? '-'}/${reason}/${rule ?? '-'}`;
        totals.set(group, (totals.get(group) ?? 0) + n);
      };
      // A message sent again under the same batch id (a retried request) counts once, as the analytics worker counts it.
      const seen = new Set<string>();
      for (const message of queue.messages) {
        if (seen.has(message.batchId)) continue;
        seen.add(message.batchId);
        for (const [flag, , variant, reason, rule] of message.events) add(flag, variant, reason, rule, 1);
        for (const [flag, , variant, reason, rule, , count] of message.counts) add(flag, variant, reason, rule, count);
      }
      return totals;
    },
    async close(): Promise<void> {
      await running?.close();
      await cache.close();
    },
  };
}

export type EvaluationService = Awaited<ReturnType<typeof evaluationService>>;
