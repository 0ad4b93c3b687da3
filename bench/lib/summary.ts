/**
 * The figures of the parts that print their own lines but return results rather than figures (engine, propagation,
 * browser, streams, provider, pipeline, release), as `Figure`s with their targets, so that `npm run bench` ends with
 * one table of every figure of the run.
 */
import type { BrowserResult } from '../browser.bench.ts';
import type { PipelineResult } from '../pipeline.bench.ts';
import type { PropagationResult } from '../propagation.bench.ts';
import type { ProviderPropagationResult, ProviderThroughputResult } from '../provider.bench.ts';
import type { ReleaseResult } from '../release.bench.ts';
import type { StreamsResult } from '../streams.bench.ts';
import { fmt } from './load.ts';
import type { Figure } from './report.ts';

export interface EarlierParts {
  engine?: string;
  propagation?: PropagationResult;
  browser?: BrowserResult;
  streams?: StreamsResult;
  pipeline?: PipelineResult;
  release?: ReleaseResult;
  provider?: { throughput?: ProviderThroughputResult; propagation?: ProviderPropagationResult };
}

const ms = (value: number) => `${fmt(value)} ms`;

export function figuresOfEarlierParts(results: EarlierParts): Figure[] {
  const figures: Figure[] = [];
  if (results.engine !== undefined)
    figures.push({ name: 'engine vs unleash-client', value: `${results.engine}×`, target: '≥ 4×', met: Number(results.engine) >= 4 });
  for (const set of results.provider?.throughput?.sets ?? [])
    figures.push({ name: `provider vs unleash-client (${set.name})`, value: `${set.ratio.toFixed(2)}×`, target: '≥ 4×', met: set.met });
  if (results.propagation)
    figures.push({
      name: 'propagation p99 (rule change → 2 instances)',
      value: ms(results.propagation.fromRequest.p99),
      target: '≤ 200 ms',
      met: results.propagation.met,
    });
  if (results.browser)
    figures.push({
      name: 'browser: toggle → ConfigurationChanged p99 (from the answer)',
      value: ms(results.browser.fromAnswer.p99),
      target: '≤ 500 ms',
      met: results.browser.met,
    });
  if (results.streams) {
    const { streams } = results;
    figures.push(
      {
        name: `streams: RSS growth (${fmt(streams.streams)})`,
        value: `${fmt(streams.rssMb.growth)} MB`,
        target: '≤ 100 MB',
        met: streams.met.memory,
      },
      {
        name: 'streams: change → every stream p99 (from the answer), none missed',
        value: `${ms(streams.fromAnswer.p99)}, ${fmt(streams.missed)} missed`,
        target: '≤ 1,000 ms, 0 missed',
        met: streams.met.latency,
      },
    );
  }
  for (const line of [results.provider?.propagation?.stream, results.provider?.propagation?.polling])
    if (line)
      figures.push({
        name: `provider propagation p99 (${line.mode})`,
        value: ms(line.fromAnswer.p99),
        target: '≤ 1,000 ms from its answer',
        met: line.met,
      });
  if (results.pipeline)
    for (const drain of results.pipeline.drains)
      figures.push({
        name: `pipeline exact counts (${drain.workers} worker${drain.workers === 1 ? '' : 's'})`,
        value: `${fmt(drain.counted)} of ${fmt(drain.events)}, ${fmt(drain.eventsPerSecond)} events/s`,
        target: 'exact',
        met: drain.exact,
      });
  if (results.release) {
    const { met, harmful, equal } = results.release;
    figures.push(
      {
        name: 'release: harmful releases rolled back',
        value: `${harmful.rolledBack} of ${harmful.total}`,
        target: 'all',
        met: met.allRolledBack,
      },
      {
        name: 'release: equal releases rolled back',
        value: `${equal.rolledBack} of ${equal.total}`,
        target: 'none',
        met: met.noFalseRollback,
      },
      { name: 'release: metric sums exact', value: met.exactSums ? 'exact' : 'not exact', target: 'exact', met: met.exactSums },
    );
  }
  return figures;
}
