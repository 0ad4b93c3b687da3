import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { analyticsApi, targetingApi } from '../../api/endpoints.ts';
import type { EvaluationEvent, Granularity, Stats } from '../../api/types.ts';
import { Button, Empty, ErrorBox, Loading } from '../../components/ui.tsx';
import { formatDateTime, formatTime, variantColor } from '../../lib/format.ts';
import { useInterval, useResource } from '../../lib/hooks.ts';
import type { FlagTabProps } from './tab-props.ts';

const ranges: { id: string; label: string; granularity: Granularity }[] = [
  { id: 'hour', label: 'Last hour (per minute)', granularity: 'minute' },
  { id: 'day', label: 'Last day (per hour)', granularity: 'hour' },
  { id: 'month', label: 'Last 30 days (per day)', granularity: 'day' },
];

const refreshMs = 5000;

interface Snapshot {
  stats: Stats;
  events: EvaluationEvent[];
  at: number;
}

/** Evaluations per variant over time (exact counters), the totals and the latest events; refreshes every 5 s. */
export function AnalyticsTab({ flag, environments }: FlagTabProps) {
  const [params, setParams] = useSearchParams();
  const env =
    params.get('environment') && environments.includes(params.get('environment')!) ? params.get('environment')! : environments[0]!;
  const range = ranges.find((r) => r.id === params.get('range')) ?? ranges[0]!;
  const [live, setLive] = useState(true);
  const data = useResource(
    async (signal): Promise<Snapshot> => {
      const [stats, events] = await Promise.all([
        analyticsApi.stats(flag.key, env, range.granularity, signal),
        analyticsApi.events(env, flag.key, signal),
      ]);
      return { stats: stats.data, events: events.data.items, at: Date.now() };
    },
    [flag.key, env, range.granularity],
  );
  useInterval(data.reload, refreshMs, live);
  const rules = useResource(async () => (await targetingApi.rules(flag.key, env)).data.items, [flag.key, env]);
  const ruleName = (id: string | null) => (id ? (rules.data?.find((r) => r.id === id)?.name ?? `${id.slice(0, 8)}…`) : '—');

  const set = (name: string, value: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        next.set(name, value);
        return next;
      },
      { replace: true },
    );

  const snapshot = data.data;
  const variantKeys = snapshot ? [...new Set([...flag.variants.map((v) => v.key), ...Object.keys(snapshot.stats.totals)])] : [];
  const colorOf = (key: string) => variantColor(variantKeys.indexOf(key));
  const label = (iso: string) => {
    const d = new Date(iso);
    if (range.granularity === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  };
  const chartData = snapshot
    ? snapshot.stats.buckets.map((b) => ({ start: b.start, label: label(b.start), counts: b.counts, total: b.total }))
    : [];

  return (
    <div className="analytics" data-testid="analytics">
      <div className="filters">
        <label>
          <span className="filter-label">Environment</span>
          <select value={env} onChange={(e) => set('environment', e.target.value)} data-testid="analytics-env">
            {environments.map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="filter-label">Range</span>
          <select value={range.id} onChange={(e) => set('range', e.target.value)} data-testid="analytics-range">
            {ranges.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <span className={`live${live ? ' on' : ''}`} role="status" data-testid="analytics-updated">
          {live ? <span className="live-dot" aria-hidden="true" /> : null}
          {snapshot ? `Updated ${formatTime(snapshot.at)}` : 'Loading…'}
          {live ? ' · refreshes every 5 s' : ' · paused'}
        </span>
        <Button small onClick={() => setLive((l) => !l)} aria-pressed={!live}>
          {live ? 'Pause' : 'Resume'}
        </Button>
      </div>
      <ErrorBox error={data.error} onRetry={data.reload} />
      {!snapshot ? (
        data.error ? null : (
          <Loading what="analytics" />
        )
      ) : (
        <>
          <div className="totals" data-testid="analytics-totals">
            <div className="total-card">
              <span className="total-label">Evaluations</span>
              <span className="total-value" data-testid="analytics-total">
                {snapshot.stats.total.toLocaleString()}
              </span>
            </div>
            {variantKeys.map((key) => {
              const count = snapshot.stats.totals[key] ?? 0;
              const share = snapshot.stats.total > 0 ? Math.round((count / snapshot.stats.total) * 1000) / 10 : 0;
              return (
                <div className="total-card" key={key} data-testid={`analytics-total-${key}`}>
                  <span className="total-label">
                    <span className="swatch" style={{ background: colorOf(key) }} aria-hidden="true" /> {key}
                  </span>
                  <span className="total-value">{count.toLocaleString()}</span>
                  <span className="muted">{share}%</span>
                </div>
              );
            })}
          </div>
          <figure
            className="card chart"
            data-testid="analytics-chart"
            aria-label={`Evaluations of ${flag.key} in ${env} per variant, ${range.label.toLowerCase()}`}
          >
            {snapshot.stats.total === 0 ? (
              <p className="chart-empty">No evaluations in this range yet. They appear here a few seconds after SDKs ask for the flag.</p>
            ) : null}
            <ResponsiveContainer width="100%" height={300}>
              <BarChart data={chartData} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="label" minTickGap={24} tick={{ fontSize: 12 }} />
                <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                <Tooltip
                  labelFormatter={(_label, payload) => (payload[0] ? formatDateTime((payload[0].payload as { start: string }).start) : '')}
                />
                <Legend />
                {variantKeys.map((key) => (
                  <Bar
                    key={key}
                    name={key}
                    dataKey={(d: { counts: Record<string, number> }) => d.counts[key] ?? 0}
                    stackId="variants"
                    fill={colorOf(key)}
                    isAnimationActive={false}
                  />
                ))}
              </BarChart>
            </ResponsiveContainer>
            <figcaption className="visually-hidden">
              {variantKeys.map((k) => `${k}: ${snapshot.stats.totals[k] ?? 0}`).join(', ')}
            </figcaption>
          </figure>
          <h2>Recent evaluations</h2>
          {snapshot.events.length === 0 ? (
            <Empty>No evaluation events in {env} in the last day.</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="analytics-events">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Variant</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Rule</th>
                    <th scope="col">Targeting key (hashed)</th>
                  </tr>
                </thead>
                <tbody>
                  {snapshot.events.map((e, i) => (
                    <tr key={`${e.at}-${i}`}>
                      <td title={formatDateTime(e.at)}>{formatTime(e.at)}</td>
                      <td>
                        <span className="swatch" style={{ background: e.variant ? colorOf(e.variant) : '#999' }} aria-hidden="true" />{' '}
                        {e.variant ?? '(error)'}
                      </td>
                      <td>
                        <code>{e.reason}</code>
                      </td>
                      <td>{ruleName(e.ruleId)}</td>
                      <td>
                        <code title={e.keyHash ?? ''}>{e.keyHash ? `${e.keyHash.slice(0, 12)}…` : '—'}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  );
}
