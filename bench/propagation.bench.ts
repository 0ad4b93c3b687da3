/**
 * Propagation: a rule change made through the targeting API, timed until both evaluation instances serve it
 * (PostgreSQL outbox → relay → real Redis → pub/sub → each instance recompiles the flag). 100 changes, p50/p99.
 */
import { fmt } from './lib/load.ts';
import { sleep } from './lib/processes.ts';
import { percentileOf, target } from './lib/report.ts';
import { expectStatus, type RunningRole, type Togglemaster } from './lib/togglemaster.ts';

const flagKey = 'bench-propagation';

export interface PropagationResult {
  changes: number;
  fromRequest: { p50: number; p99: number; max: number };
  fromAnswer: { p50: number; p99: number; max: number };
  met: boolean;
}

async function variantAt(url: string, sdkKey: string): Promise<string | undefined> {
  const response = await fetch(`${url}/ofrep/v1/evaluate/flags/${flagKey}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
    body: JSON.stringify({ context: { targetingKey: 'user-1', country: 'BR' } }),
  });
  return ((await response.json()) as { variant?: string }).variant;
}

/** Resolves with the time at which every instance serves `variant` (each polled every ~1 ms). */
async function servedEverywhere(instances: RunningRole[], sdkKey: string, variant: string, limitMs = 10_000): Promise<number> {
  const started = performance.now();
  const times = await Promise.all(
    instances.map(async (instance) => {
      for (;;) {
        if ((await variantAt(instance.url, sdkKey)) === variant) return performance.now();
        if (performance.now() - started > limitMs) throw new Error(`${instance.url} does not serve ${variant} after ${limitMs} ms`);
        await sleep(1);
      }
    }),
  );
  return Math.max(...times);
}

export async function runPropagation(
  tm: Togglemaster,
  instances: RunningRole[],
  changes = Number(process.env.BENCH_PROPAGATION_CHANGES ?? 100),
): Promise<PropagationResult> {
  expectStatus(
    'propagation flag',
    await tm.api('POST', `${tm.flags.url}/flags`, {
      key: flagKey,
      name: 'Propagation',
      type: 'boolean',
      environments: { production: { enabled: true } },
    }),
    201,
  );
  const conditions = [{ attribute: 'country', operator: 'eq', values: ['BR'] }];
  const rule = await tm.api<{ id: string }>('POST', `${tm.targeting.url}/targeting/rules`, {
    flagKey,
    environment: 'production',
    conditions,
    serve: { variant: 'off' },
  });
  expectStatus('propagation rule', rule, 201);
  await servedEverywhere(instances, tm.sdkKey, 'off');

  const fromRequest: number[] = [];
  const fromAnswer: number[] = [];
  for (let i = 0; i < changes; i++) {
    const variant = i % 2 === 0 ? 'on' : 'off';
    const sent = performance.now();
    const answer = await tm.api('PUT', `${tm.targeting.url}/targeting/rules/${rule.body.id}`, { conditions, serve: { variant } });
    const answered = performance.now();
    expectStatus('rule change', answer, 200);
    const served = await servedEverywhere(instances, tm.sdkKey, variant);
    fromRequest.push(served - sent);
    fromAnswer.push(Math.max(0, served - answered));
    // Changes a random 20–170 ms apart: a fixed gap would lock onto the relay's 100 ms polling cycle and measure
    // one phase of it every time.
    await sleep(20 + Math.random() * 150);
  }
  const stats = (values: number[]) => ({ p50: percentileOf(values, 0.5), p99: percentileOf(values, 0.99), max: Math.max(...values) });
  const result = { changes, fromRequest: stats(fromRequest), fromAnswer: stats(fromAnswer), met: percentileOf(fromRequest, 0.99) <= 200 };
  console.log(`  ${changes} rule changes (PUT /targeting/rules/{id}) until both evaluation instances serve them:`);
  console.log(
    `    from the request:      p50 ${fmt(result.fromRequest.p50, 1)} ms   p99 ${fmt(result.fromRequest.p99, 1)} ms   max ${fmt(result.fromRequest.max, 1)} ms   (target p99 ≤ 200 ms: ${target(result.met)})`,
  );
  console.log(
    `    from its 200 answer:   p50 ${fmt(result.fromAnswer.p50, 1)} ms   p99 ${fmt(result.fromAnswer.p99, 1)} ms   max ${fmt(result.fromAnswer.max, 1)} ms`,
  );
  return result;
}
