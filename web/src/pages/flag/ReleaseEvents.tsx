import { useRef, useState } from 'react';
import { flagsApi } from '../../api/endpoints.ts';
import type { Flag, Page, ReleaseEvent, ReleasePlan, ScheduledChange } from '../../api/types.ts';
import { Button, ErrorBox } from '../../components/ui.tsx';
import { relativeTime } from '../../lib/format.ts';
import { useAction, useResource } from '../../lib/hooks.ts';
import { describeEvent, describeWho, eventsOf, eventTones, withNewest, withOlder } from '../../lib/release-events.ts';
import { formatWhen } from '../../lib/schedules.ts';

/** Events asked per page (the flag's, every environment's). */
const pageSize = 50;
/** An environment's timeline shows this many at first, and this many more at each "Show older". */
const firstShown = 5;
const moreShown = 10;

export interface FlagReleaseEvents {
  /** The events loaded, newest first (every environment's), and the cursor of older ones. */
  feed: Page<ReleaseEvent> | undefined;
  error: unknown;
  reload: () => void;
  /** Loads the next older page. */
  loadOlder: () => Promise<void>;
  loadingOlder: boolean;
  olderError: unknown;
}

/**
 * What the release automation did on the flag, kept fresh without a timer of its own: asked once the plans and the
 * schedules have answered, then again whenever `refreshKey` changes (a plan or a schedule was written, the flag
 * changed: what the plans' and schedules' own watch sees). The newest page is put in front of the older pages loaded.
 */
export function useFlagReleaseEvents(flagKey: string, refreshKey: string | undefined): FlagReleaseEvents {
  // What is loaded, for a refresh to keep the older pages (and for which flag: another flag starts afresh).
  const loaded = useRef<{ flagKey: string; feed: Page<ReleaseEvent> } | undefined>(undefined);
  const current = () => (loaded.current?.flagKey === flagKey ? loaded.current.feed : undefined);
  const resource = useResource(
    async (signal) => {
      if (refreshKey === undefined) return current();
      const { data } = await flagsApi.releaseEvents(flagKey, { limit: pageSize }, signal);
      return withNewest(current(), data);
    },
    [flagKey, refreshKey],
  );
  const feed = resource.data;
  if (feed) loaded.current = { flagKey, feed };
  const older = useAction(async () => {
    const from = current();
    if (!from?.nextCursor) return;
    const { data } = await flagsApi.releaseEvents(flagKey, { limit: pageSize, cursor: from.nextCursor });
    // A refresh may have landed meanwhile: appended to what is loaded now.
    resource.setData(withOlder(current() ?? from, data));
  });
  return {
    feed,
    error: resource.error,
    reload: resource.reload,
    loadOlder: async () => void (await older.run()),
    loadingOlder: older.busy,
    olderError: older.error,
  };
}

/**
 * "What happened" in an environment: its schedules run and its plans moved, newest first, each in a sentence (why
 * included: the guardrail's figures, the split's, the conflict), who it is credited to, and when.
 */
export function ReleaseTimeline({
  flag,
  env,
  events,
  plans,
  schedules,
  now,
}: {
  flag: Flag;
  env: string;
  events: FlagReleaseEvents;
  plans: readonly ReleasePlan[];
  schedules: readonly ScheduledChange[];
  now: number;
}) {
  const [shown, setShown] = useState(firstShown);
  const { feed } = events;
  if (!feed) return events.error ? <ErrorBox error={events.error} onRetry={events.reload} title="What happened:" /> : null;
  const mine = eventsOf(feed.items, env);
  // Nothing ever happened here: no empty section.
  if (mine.length === 0 && !feed.nextCursor) return null;
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const planOf = new Map(plans.map((p) => [p.id, p]));
  const scheduleOf = new Map(schedules.map((s) => [s.id, s]));
  const visible = mine.slice(0, shown);
  const showOlder = () => {
    setShown(shown + moreShown);
    // Not enough loaded for the next ones: the next page of the flag's events.
    if (mine.length < shown + moreShown && feed.nextCursor) void events.loadOlder();
  };
  const testId = `env-${env}-release-events`;

  return (
    <section className="release-events" aria-label={`What happened in ${env}`}>
      <h4>What happened</h4>
      {mine.length === 0 ? <p className="muted schedule-none">Nothing among the latest events of this flag.</p> : null}
      <ol className="release-event-list" data-testid={testId}>
        {visible.map((e) => (
          <li key={e.id} className="release-event" data-type={e.type} data-tone={eventTones[e.type]} data-testid="release-event">
            <span className="release-event-what" data-testid="release-event-what">
              {describeEvent(e, {
                plan: e.releasePlanId ? planOf.get(e.releasePlanId) : undefined,
                schedule: e.scheduleId ? scheduleOf.get(e.scheduleId) : undefined,
                variantLabel,
              })}
            </span>
            <span className="release-event-meta muted">
              <span data-testid="release-event-who">{describeWho(e)}</span> ·{' '}
              <time dateTime={e.at} title={formatWhen(e.at)}>
                {relativeTime(e.at, now)}
              </time>
            </span>
          </li>
        ))}
      </ol>
      <ErrorBox error={events.olderError} />
      {mine.length > shown || feed.nextCursor ? (
        <Button small variant="ghost" onClick={showOlder} busy={events.loadingOlder} busyLabel="Loading…" data-testid={`${testId}-older`}>
          Show older
        </Button>
      ) : null}
    </section>
  );
}
