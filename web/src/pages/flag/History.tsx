import { useState } from 'react';
import { flagsApi, targetingApi } from '../../api/endpoints.ts';
import type { Change, ChangeCause, Condition, FlagAuditEntry, Serve, TargetingAuditEntry } from '../../api/types.ts';
import { describeCondition } from '../../components/Conditions.tsx';
import { Diff } from '../../components/Diff.tsx';
import { Button, Empty, ErrorBox, Loading } from '../../components/ui.tsx';
import { describeServe, formatDateTime, relativeTime } from '../../lib/format.ts';
import { formatDifference, formatPValue } from '../../lib/guardrails.ts';
import { useAction, useResource } from '../../lib/hooks.ts';
import type { FlagTabProps } from './tab-props.ts';

type Entry = ({ source: 'flag' } & FlagAuditEntry) | ({ source: 'targeting' } & TargetingAuditEntry);

interface Feed {
  flag: { items: FlagAuditEntry[]; next: string | null };
  targeting: { items: TargetingAuditEntry[]; next: string | null };
}

function ruleNameOf(snapshot: unknown): string | undefined {
  return typeof snapshot === 'object' && snapshot !== null && typeof (snapshot as { name?: unknown }).name === 'string'
    ? (snapshot as { name: string }).name
    : undefined;
}

/** The flag's audit trail: its own changes and its rules' changes, newest first, each with a readable diff. */
export function HistoryTab({ flag }: FlagTabProps) {
  const feed = useResource(async (): Promise<Feed> => {
    const [own, rules] = await Promise.all([flagsApi.history(flag.key), targetingApi.history({ flagKey: flag.key })]);
    return {
      flag: { items: own.data.items, next: own.data.nextCursor },
      targeting: { items: rules.data.items, next: rules.data.nextCursor },
    };
  }, [flag.key, flag.version]);
  const currentRules = useResource(async () => (await targetingApi.rules(flag.key)).data.items, [flag.key]);
  const [filter, setFilter] = useState<'all' | 'flag' | 'targeting'>('all');
  const more = useAction(async () => {
    const data = feed.data!;
    const [own, rules] = await Promise.all([
      data.flag.next ? flagsApi.history(flag.key, data.flag.next) : undefined,
      data.targeting.next ? targetingApi.history({ flagKey: flag.key, cursor: data.targeting.next }) : undefined,
    ]);
    feed.setData({
      flag: own ? { items: [...data.flag.items, ...own.data.items], next: own.data.nextCursor } : data.flag,
      targeting: rules ? { items: [...data.targeting.items, ...rules.data.items], next: rules.data.nextCursor } : data.targeting,
    });
  });

  if (!feed.data) return feed.error ? <ErrorBox error={feed.error} onRetry={feed.reload} /> : <Loading what="history" />;

  // Rule ids → names, from today's rules and from the snapshots in the trail (deleted rules too).
  const names = new Map<string, string>();
  for (const r of currentRules.data ?? []) names.set(r.id, r.name || 'unnamed rule');
  for (const e of feed.data.targeting.items) {
    const name = ruleNameOf(e.after) ?? ruleNameOf(e.before);
    if (e.entity === 'rule' && name !== undefined && !names.has(e.entityKey)) names.set(e.entityKey, name || 'unnamed rule');
  }

  // Two feeds paged separately: show only down to where both are complete, so nothing is missing in between.
  const { flag: own, targeting: rules } = feed.data;
  const cutoffs = [own.next ? own.items.at(-1)?.at : undefined, rules.next ? rules.items.at(-1)?.at : undefined].filter(
    (x): x is string => x !== undefined,
  );
  const cutoff = cutoffs.sort().at(-1);
  const entries: Entry[] = [
    ...own.items.map((e) => ({ ...e, source: 'flag' as const })),
    ...rules.items.map((e) => ({ ...e, source: 'targeting' as const })),
  ]
    .filter((e) => filter === 'all' || e.source === filter)
    .filter((e) => cutoff === undefined || e.at >= cutoff)
    .sort((a, b) => (a.at === b.at ? b.id - a.id : b.at.localeCompare(a.at)));

  return (
    <div className="history" data-testid="history">
      <div className="filters">
        <label>
          <span className="filter-label">Show</span>
          <select value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
            <option value="all">every change</option>
            <option value="flag">flag and environments</option>
            <option value="targeting">rules</option>
          </select>
        </label>
      </div>
      {entries.length === 0 ? <Empty>No changes recorded.</Empty> : null}
      <ol className="timeline">
        {entries.map((entry) => (
          <li key={`${entry.source}-${entry.id}`} className="card history-entry" data-testid="history-entry">
            <div className="history-head">
              <strong>{titleOf(entry, names)}</strong>
              <span className="muted">
                {entry.source === 'flag' && entry.cause ? (
                  <CauseOf cause={entry.cause} actor={entry.actor.email} />
                ) : (
                  <>by {entry.actor.email}</>
                )}{' '}
                ·{' '}
                <time dateTime={entry.at} title={formatDateTime(entry.at)}>
                  {relativeTime(entry.at)}
                </time>
                {entry.source === 'flag' ? ` · version ${entry.version}` : ''}
              </span>
            </div>
            {entry.source === 'targeting' && entry.entity === 'rule' && (entry.action === 'created' || entry.action === 'deleted') ? (
              <RuleSummary snapshot={entry.action === 'created' ? entry.after : entry.before} />
            ) : null}
            <Diff changes={readable(entry, names)} />
          </li>
        ))}
      </ol>
      <ErrorBox error={more.error} />
      {own.next || rules.next ? (
        <Button onClick={() => void more.run()} busy={more.busy} busyLabel="Loading…">
          Load older changes
        </Button>
      ) : null}
    </div>
  );
}

/** Who made a change that no person's request made at that moment (a scheduled change, a release plan's step or rollback), or a copy of another environment. */
function CauseOf({ cause, actor }: { cause: ChangeCause; actor: string }) {
  if ('scheduleId' in cause)
    return (
      <span className="history-cause" title={`Scheduled change ${cause.scheduleId}`} data-testid="history-cause">
        Scheduled by {actor}
      </span>
    );
  if ('copiedFrom' in cause)
    return (
      <span className="history-cause" title={`Copied from ${cause.copiedFrom}, rules and all`} data-testid="history-cause">
        Copied from {cause.copiedFrom} by {actor}
      </span>
    );
  if ('changeRequestId' in cause)
    return (
      <span className="history-cause" title={`Change request ${cause.changeRequestId}`} data-testid="history-cause">
        Change request by {actor}, approved by {cause.approvedBy.map((a) => a.email).join(', ')}
      </span>
    );
  // The plan's author is the actor of its steps and of its rollback.
  return (
    <span className="history-cause" title={`Release plan ${cause.releasePlanId}`} data-testid="history-cause">
      {'rollback' in cause
        ? cause.guardrail
          ? `Release plan rolled back by its guardrail ${cause.guardrail.metric} (${cause.guardrail.treatment.variant} worse than ${cause.guardrail.control.variant} by ${formatDifference(cause.guardrail.difference)}, p ${formatPValue(cause.guardrail.pValue)})`
          : `Release plan rolled back by ${actor}`
        : `Release plan step ${cause.milestone + 1} by ${actor}`}
    </span>
  );
}

function titleOf(entry: Entry, names: Map<string, string>): string {
  if (entry.source === 'flag') {
    switch (entry.action) {
      case 'created':
        return 'Created the flag';
      case 'updated': {
        // Only whether client-side SDKs may evaluate it: say that, rather than "the definition".
        const [only, ...others] = entry.changes;
        if (only?.path === '/clientVisible' && others.length === 0)
          return only.after === true ? 'Made it available to client-side SDKs' : 'Made it server-side only';
        return 'Changed the definition';
      }
      case 'environment-updated':
        return `Changed ${entry.environment ?? 'an environment'}`;
      case 'archived':
        return 'Archived the flag';
      case 'restored':
        return 'Restored the flag';
      case 'purged':
        return 'Purged the flag';
      case 'deleted':
        return 'Deleted the flag';
    }
  }
  const where = entry.environment ? ` in ${entry.environment}` : '';
  const rule = `rule “${names.get(entry.entityKey) ?? entry.entityKey}”`;
  switch (entry.action) {
    case 'created':
      return `Added ${rule}${where}`;
    case 'updated':
      return `Changed ${rule}${where}`;
    case 'deleted':
      return `Deleted ${rule}${where}`;
    case 'reordered':
      return `Reordered the rules${where}`;
  }
}

/** Rule ids in a reordering are shown as rule names. */
function readable(entry: Entry, names: Map<string, string>): Change[] {
  if (entry.source !== 'targeting' || entry.action !== 'reordered') return entry.changes;
  const named = (value: unknown) => (Array.isArray(value) ? value.map((id) => names.get(String(id)) ?? String(id)) : value);
  return entry.changes.map((c) => ({ path: c.path, before: named(c.before), after: named(c.after) }));
}

/** A created or deleted rule in one line: "if country is one of BR, US → serve 50% on · 50% off". */
function RuleSummary({ snapshot }: { snapshot: unknown }) {
  const rule = snapshot as { conditions?: Condition[]; segments?: string[]; serve?: Serve } | null;
  if (!rule?.serve) return null;
  const parts = [...(rule.conditions ?? []).map(describeCondition), ...(rule.segments ?? []).map((s) => `in segment ${s}`)];
  return (
    <p className="rule-summary">
      <span className="kw">if</span> {parts.length > 0 ? parts.join(' and ') : 'every context'} <span className="kw">serve</span>{' '}
      <strong>{describeServe(rule.serve)}</strong>
    </p>
  );
}
