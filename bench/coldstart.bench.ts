/**
 * Cold start: each role started as production starts it (`node handlers/main.ts <role>`, a new process), timed from
 * the spawn to /readyz answering 200 (polled every 5 ms). Five starts per role; median and worst. For the
 * evaluation service also the time to its first evaluation (it loads the configuration on the first request).
 */
import { fmt } from './lib/load.ts';
import { percentileOf, target } from './lib/report.ts';
import type { ServiceRole, Togglemaster } from './lib/togglemaster.ts';
import { fixedContext } from './lib/workload.ts';

export interface ColdStartResult {
  role: ServiceRole;
  median: number;
  worst: number;
  firstEvaluation?: number;
  met: boolean;
}

export async function runColdStart(
  tm: Togglemaster,
  roles: ServiceRole[],
  starts = Number(process.env.BENCH_COLD_STARTS ?? 5),
): Promise<ColdStartResult[]> {
  const results: ColdStartResult[] = [];
  for (const role of roles) {
    const times: number[] = [];
    const firstEvaluations: number[] = [];
    for (let i = 0; i < starts; i++) {
      const spawned = performance.now();
      const started = await tm.startRole(role, { name: `coldstart-${role}-${i + 1}` });
      times.push(started.readyMs);
      if (role === 'evaluation') {
        const response = await fetch(`${started.url}/ofrep/v1/evaluate/flags`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': tm.sdkKey },
          body: JSON.stringify({ context: fixedContext }),
        });
        await response.arrayBuffer();
        if (response.status === 200) firstEvaluations.push(performance.now() - spawned);
      }
      await started.child.stop();
    }
    const result: ColdStartResult = {
      role,
      median: percentileOf(times, 0.5),
      worst: Math.max(...times),
      ...(firstEvaluations.length > 0 ? { firstEvaluation: percentileOf(firstEvaluations, 0.5) } : {}),
      met: Math.max(...times) <= 1_000,
    };
    results.push(result);
    const first =
      result.firstEvaluation === undefined ? '' : `   first evaluation answered after ${fmt(result.firstEvaluation)} ms (median)`;
    console.log(
      `  ${role.padEnd(17)} spawn → /readyz 200: median ${fmt(result.median).padStart(5)} ms, worst ${fmt(result.worst).padStart(5)} ms of ${starts} (target ≤ 1,000 ms: ${target(result.met)})${first}`,
    );
  }
  return results;
}
