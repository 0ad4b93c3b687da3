import { useState } from 'react';
import { changeRequestsApi, flagsApi } from '../../api/endpoints.ts';
import type { ChangeRequest, Environment, EnvironmentPatch, EnvironmentState, Flag, ScheduledChange } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.tsx';
import { checkServe, serveDraftOf, ServeEditor, type ServeDraft } from '../../components/ServeEditor.tsx';
import { Badge, Button, ConfirmDialog, ErrorBox, Field, useToast } from '../../components/ui.tsx';
import { isChangeRequestRequired, openedMessage, submissionFor, withDescription } from '../../lib/change-requests.ts';
import { relativeTime } from '../../lib/format.ts';
import { useAction, useFocusOnOpen, useNow, useWatchedList, watchDueForMs, type EditableWatchedList } from '../../lib/hooks.ts';
import {
  checkRunAt,
  describeChange,
  formatUtc,
  formatWhen,
  fromLocalInput,
  relativeToNow,
  statusLabels,
  statusTones,
  suggestedRunAt,
  timeZoneNote,
  toLocalInput,
  withSchedule,
  movedSincePlanned,
} from '../../lib/schedules.ts';
import { ProposalFields } from './ChangeRequests.tsx';

/** How often the list is asked again otherwise (someone else may have scheduled, moved or cancelled one). */
const refreshEveryMs = 15_000;

export type FlagSchedules = EditableWatchedList<ScheduledChange>;

/**
 * The flag's scheduled changes, kept fresh: asked again every second once a pending one's time has come (until the
 * release worker has run it), every 15 s otherwise. When one of them is applied, `onApplied` reloads the flag, so
 * the page shows its new state without a reload.
 */
export function useFlagSchedules(flagKey: string, onApplied: () => void): FlagSchedules {
  const list = useWatchedList(async (signal) => (await flagsApi.schedules(flagKey, signal)).data.items, [flagKey], {
    dueAt: (s) => (s.status === 'pending' ? s.runAt : null),
    everyMs: () => refreshEveryMs,
    changedTheFlag: (before, after) => {
      const was = new Map((before ?? []).map((s) => [s.id, s.status]));
      return before !== undefined && after.some((s) => s.status === 'applied' && was.get(s.id) === 'pending');
    },
    onFlagChanged: onApplied,
  });
  return { ...list, put: (schedule) => list.setItems(withSchedule(list.items ?? [], schedule)) };
}

export type ScheduleKind = 'on' | 'off' | 'serve' | 'edits';

/**
 * Plans a change of one environment for a time: on, off, a default serve, or the card's unsaved edits. On a protected
 * environment it proposes the scheduled change as a change request instead (and turns into that when a direct one is
 * refused because the environment became protected).
 */
export function ScheduleForm({
  flag,
  env,
  state,
  edits,
  initialKind,
  otherPending,
  details,
  onScheduled,
  onProposed,
  onClose,
}: {
  flag: Flag;
  env: string;
  state: EnvironmentState;
  /** The card's edits not saved yet (valid ones), which may be scheduled instead of saved. */
  edits: EnvironmentPatch | undefined;
  initialKind?: ScheduleKind | undefined;
  /** The flag's other pending changes, in every environment: only the first to run can apply. */
  otherPending: ScheduledChange[];
  /** The environments as known (whether this one is protected). */
  details?: Environment[] | undefined;
  onScheduled: (schedule: ScheduledChange, kind: ScheduleKind) => void;
  /** A change request was opened for it instead (a protected environment). */
  onProposed?: (request: ChangeRequest, kind: ScheduleKind) => void;
  onClose: () => void;
}) {
  const toast = useToast();
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const [kind, setKind] = useState<ScheduleKind>(initialKind ?? (state.enabled ? 'off' : 'on'));
  const [serve, setServe] = useState<ServeDraft>(() => serveDraftOf(state.defaultServe, flag.variants));
  const [turnOn, setTurnOn] = useState(false);
  const [at, setAt] = useState(() => toLocalInput(suggestedRunAt()));
  const now = useNow(1000);
  const runAt = fromLocalInput(at);
  const timeError = checkRunAt(runAt, now);
  const serveCheck = checkServe(serve);
  const change: EnvironmentPatch | undefined =
    kind === 'on'
      ? { enabled: true }
      : kind === 'off'
        ? { enabled: false }
        : kind === 'serve'
          ? serveCheck.serve && { defaultServe: serveCheck.serve, ...(turnOn && !state.enabled ? { enabled: true } : {}) }
          : edits;
  // A direct schedule refused because the environment is protected: the form proposes it instead.
  const [refusal, setRefusal] = useState<unknown>(undefined);
  const submission = submissionFor(details, env, refusal);
  const proposing = submission.mode === 'propose';
  const [description, setDescription] = useState('');
  const submit = useAction(async () => {
    if (!change || !runAt) return;
    if (proposing) {
      const { data } = await changeRequestsApi.open(
        flag.key,
        env,
        withDescription({ schedule: { runAt: runAt.toISOString(), change } }, description),
      );
      onProposed?.(data, kind);
      toast(`${openedMessage(data)}: ${describeChange(change, variantLabel)} in ${env} on ${formatWhen(runAt.toISOString())}.`);
      return;
    }
    try {
      const { data } = await flagsApi.scheduleChange(flag.key, env, runAt.toISOString(), change, flag.version);
      onScheduled(data, kind);
      toast(`Scheduled in ${env} for ${formatWhen(data.runAt)}: ${describeChange(data.change, variantLabel)}.`);
    } catch (error) {
      if (!isChangeRequestRequired(error)) throw error;
      setRefusal(error);
    }
  });
  const testId = `env-${env}-schedule`;
  const kindRef = useFocusOnOpen<HTMLSelectElement>();

  return (
    <form
      className="schedule-form"
      aria-label={`Schedule a change in ${env}`}
      onSubmit={(event) => {
        event.preventDefault();
        if (change && !timeError) void submit.run();
      }}
      data-testid={`${testId}-form`}
    >
      <h3>{proposing ? `Propose a scheduled change in ${env}` : `Schedule a change in ${env}`}</h3>
      <fieldset className="env-form" disabled={submit.busy}>
        <label className="field">
          <span className="field-label">Change</span>
          <select ref={kindRef} value={kind} onChange={(e) => setKind(e.target.value as ScheduleKind)} data-testid={`${testId}-kind`}>
            <option value="off">Turn it off (everyone gets {variantLabel(state.offVariant)})</option>
            <option value="on">Turn it on</option>
            <option value="serve">Serve something else when no rule matches</option>
            <option value="edits" disabled={!edits}>
              The edits below, instead of saving them now{edits ? '' : ' (none yet)'}
            </option>
          </select>
        </label>
        {kind === 'serve' ? (
          <div className="field">
            <span className="field-label">Serve from then</span>
            <ServeEditor variants={flag.variants} draft={serve} onChange={setServe} testId={`${testId}-serve`} />
            {!state.enabled ? (
              <label className="checkbox">
                <input type="checkbox" checked={turnOn} onChange={(e) => setTurnOn(e.target.checked)} data-testid={`${testId}-turn-on`} />
                and turn it on at the same time
              </label>
            ) : null}
          </div>
        ) : null}
        <Field
          label={<>When, in {timeZoneNote(runAt)}</>}
          error={timeError}
          hint={runAt ? `${relativeToNow(runAt.toISOString(), now)} · ${formatUtc(runAt)}` : undefined}
        >
          <input
            type="datetime-local"
            step={1}
            value={at}
            min={toLocalInput(new Date(now))}
            onChange={(e) => setAt(e.target.value)}
            data-testid={`${testId}-at`}
          />
        </Field>
      </fieldset>
      {change && runAt && !timeError ? (
        <p className="schedule-preview" data-testid={`${testId}-preview`}>
          <strong>{describeChange(change, variantLabel)}</strong> in {env} on {formatWhen(runAt.toISOString())}.
        </p>
      ) : null}
      <p className="field-hint">
        Planned on {env} as it is now. If what it sets changes before then (someone&apos;s edit, or another scheduled change), it is not
        applied but recorded as a conflict, and you can plan it again; edits to anything else do not matter.
      </p>
      {otherPending.length > 0 ? (
        <div className="alert alert-warn" data-testid={`${testId}-others`}>
          <span>
            This flag already has{' '}
            {otherPending.length === 1 ? 'a pending scheduled change' : `${otherPending.length} pending scheduled changes`} (
            {otherPending.map((s) => `${s.environment}, ${formatWhen(s.runAt)}`).join('; ')}). One that runs first and sets the same fields
            in the same environment makes this one a conflict.
          </span>
        </div>
      ) : null}
      <ProposalFields submission={submission} env={env} description={description} onDescription={setDescription} testId={testId} />
      <ErrorBox error={submit.error} />
      <div className="form-actions">
        <Button onClick={onClose} disabled={submit.busy} data-testid={`${testId}-close`}>
          Close
        </Button>
        <Button
          type="submit"
          variant="primary"
          disabled={!change || timeError !== undefined}
          busy={submit.busy}
          busyLabel={proposing ? 'Proposing…' : 'Scheduling…'}
          data-testid={`${testId}-submit`}
        >
          {proposing ? 'Propose scheduled change' : 'Schedule'}
        </Button>
      </div>
    </form>
  );
}

/**
 * An environment's pending changes, earliest first, with cancel and move for editors. On a protected environment a
 * scheduled change is not moved nor planned again directly (that is a change request's): it is cancelled, and a new one proposed.
 */
export function PendingSchedules({
  flag,
  env,
  pending,
  now,
  protectedEnv = false,
  onUpdated,
  onCancelled,
}: {
  flag: Flag;
  env: string;
  pending: ScheduledChange[];
  now: number;
  protectedEnv?: boolean;
  onUpdated: (schedule: ScheduledChange) => void;
  onCancelled: (schedule: ScheduledChange) => void;
}) {
  if (pending.length === 0) return null;
  return (
    <ul className="schedule-list" data-testid={`env-${env}-pending`}>
      {pending.map((s) => (
        <PendingItem
          key={s.id}
          flag={flag}
          schedule={s}
          now={now}
          protectedEnv={protectedEnv}
          onUpdated={onUpdated}
          onCancelled={onCancelled}
        />
      ))}
    </ul>
  );
}

function PendingItem({
  flag,
  schedule,
  now,
  protectedEnv,
  onUpdated,
  onCancelled,
}: {
  flag: Flag;
  schedule: ScheduledChange;
  now: number;
  protectedEnv: boolean;
  onUpdated: (schedule: ScheduledChange) => void;
  onCancelled: (schedule: ScheduledChange) => void;
}) {
  const { canEdit, me } = usePermissions();
  const toast = useToast();
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const [moving, setMoving] = useState(false);
  const [at, setAt] = useState(() => toLocalInput(new Date(schedule.runAt)));
  const [confirming, setConfirming] = useState(false);
  const newRunAt = fromLocalInput(at);
  const timeError = checkRunAt(newRunAt, now);
  const what = describeChange(schedule.change, variantLabel);
  const move = useAction(async () => {
    if (!newRunAt) return;
    const { data } = await flagsApi.updateSchedule(flag.key, schedule, { runAt: newRunAt.toISOString() });
    onUpdated(data);
    setMoving(false);
    toast(`Moved to ${formatWhen(data.runAt)}: ${what}.`);
  });
  const replan = useAction(async () => {
    const { data } = await flagsApi.updateSchedule(flag.key, schedule, { change: schedule.change });
    onUpdated(data);
    toast(`Planned again on version ${data.plannedVersion} of the flag.`);
  });
  const cancel = useAction(async () => {
    await flagsApi.cancelSchedule(flag.key, schedule.id);
    setConfirming(false);
    onCancelled({
      ...schedule,
      status: 'cancelled',
      outcome: `cancelled by ${me.email}`,
      closedAt: new Date().toISOString(),
    });
    toast(`Cancelled: ${what} in ${schedule.environment}.`);
  });
  const runAt = Date.parse(schedule.runAt);
  const due = runAt <= now;
  // What it sets moved since it was planned: at its time it will be recorded as a conflict, unless planned again.
  const moved = movedSincePlanned(schedule, flag);
  const stale = moved.length > 0;

  return (
    <li className="schedule-item" data-testid="scheduled-change" data-status="pending" data-schedule-id={schedule.id}>
      <div className="schedule-head">
        <strong className="schedule-what">{what}</strong>
        {due ? (
          <Badge tone="info" testId="schedule-due">
            {now - runAt < watchDueForMs ? 'applying…' : 'overdue'}
          </Badge>
        ) : null}
      </div>
      <div className="schedule-when">
        <time dateTime={schedule.runAt} title={formatUtc(new Date(schedule.runAt))} data-testid="schedule-relative">
          {due ? 'due now' : relativeToNow(schedule.runAt, now)}
        </time>{' '}
        · <span data-testid="schedule-at">{formatWhen(schedule.runAt)}</span>
      </div>
      <div className="schedule-by muted">by {schedule.createdBy.email}</div>
      {due && now - runAt >= watchDueForMs ? (
        <p className="schedule-outcome">Its time has passed and the release worker has not run it yet: it runs when the worker is back.</p>
      ) : null}
      {stale ? (
        <div className="alert alert-warn" data-testid="schedule-stale">
          <span>
            {moved.join(', ')} changed after this was planned: at its time it will be recorded as a conflict, not applied.
            {canEdit
              ? protectedEnv
                ? ` ${schedule.environment} is protected: cancel it and propose it again to apply it over the flag as it is now.`
                : ' Plan it again to apply it over the flag as it is now.'
              : ''}
          </span>
          {canEdit && !protectedEnv ? (
            <Button small onClick={() => void replan.run()} busy={replan.busy} data-testid="schedule-replan">
              Plan again
            </Button>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={replan.error} />
      {canEdit && !moving ? (
        <div className="schedule-actions">
          {protectedEnv ? null : (
            <Button small onClick={() => setMoving(true)} aria-label={`Move: ${what}`} data-testid="schedule-move">
              Move
            </Button>
          )}
          <Button small variant="danger" onClick={() => setConfirming(true)} aria-label={`Cancel: ${what}`} data-testid="schedule-cancel">
            Cancel…
          </Button>
          {protectedEnv ? (
            <span className="field-hint" data-testid="schedule-protected">
              {schedule.environment} is protected: to move it, cancel it and propose it again.
            </span>
          ) : null}
        </div>
      ) : null}
      {canEdit && moving ? (
        <form
          className="schedule-move"
          onSubmit={(event) => {
            event.preventDefault();
            if (!timeError) void move.run();
          }}
        >
          <Field label={<>New time, in {timeZoneNote(newRunAt)}</>} error={timeError}>
            <input
              type="datetime-local"
              step={1}
              value={at}
              min={toLocalInput(new Date(now))}
              onChange={(e) => setAt(e.target.value)}
              data-testid="schedule-move-at"
            />
          </Field>
          <span className="field-hint">Moving it plans it again on the flag as it is now (version {flag.version}).</span>
          <ErrorBox error={move.error} />
          <div className="schedule-actions">
            <Button
              small
              onClick={() => {
                setMoving(false);
                setAt(toLocalInput(new Date(schedule.runAt)));
                move.clear();
              }}
              disabled={move.busy}
            >
              Keep the time
            </Button>
            <Button
              small
              type="submit"
              variant="primary"
              disabled={timeError !== undefined}
              busy={move.busy}
              busyLabel="Moving…"
              data-testid="schedule-move-save"
            >
              Move
            </Button>
          </div>
        </form>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Cancel this scheduled change?"
        confirmLabel="Cancel the change"
        cancelLabel="Keep it"
        danger
        busy={cancel.busy}
        error={cancel.error}
        onConfirm={() => void cancel.run()}
        onCancel={() => {
          setConfirming(false);
          cancel.clear();
        }}
      >
        <p>
          <strong>{what}</strong> in {schedule.environment} on {formatWhen(schedule.runAt)} will not happen. It stays listed, as cancelled.
        </p>
      </ConfirmDialog>
    </li>
  );
}

/** An environment's scheduled changes that ran or were cancelled, the latest first: the last few, the rest on demand. */
export function FinishedSchedules({ flag, env, finished, now }: { flag: Flag; env: string; finished: ScheduledChange[]; now: number }) {
  const [all, setAll] = useState(false);
  if (finished.length === 0) return null;
  const shown = all ? finished : finished.slice(0, 3);
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  return (
    <section className="env-schedules-done" aria-label={`Past scheduled changes in ${env}`}>
      <h3>Past scheduled changes</h3>
      <ul className="schedule-list" data-testid={`env-${env}-finished`}>
        {shown.map((s) => {
          const closed = s.closedAt ?? s.updatedAt;
          return (
            <li key={s.id} className="schedule-item" data-testid="scheduled-change" data-status={s.status} data-schedule-id={s.id}>
              <div className="schedule-head">
                <strong className="schedule-what">{describeChange(s.change, variantLabel)}</strong>
                <Badge tone={statusTones[s.status]} testId="schedule-status">
                  {statusLabels[s.status]}
                </Badge>
              </div>
              <div className="schedule-when">
                {s.status === 'cancelled' ? 'Was planned for' : 'Planned for'} {formatWhen(s.runAt)} by {s.createdBy.email}
              </div>
              <div className="schedule-when muted">
                {s.status === 'cancelled' ? (
                  // The service says by whom: "cancelled by bob@example.com".
                  <span data-testid="schedule-outcome">{capitalized(s.outcome ?? 'cancelled')}</span>
                ) : s.status === 'applied' ? (
                  'Applied'
                ) : (
                  'Ran'
                )}{' '}
                <time dateTime={closed} title={formatWhen(closed)}>
                  {relativeTime(closed, now)}
                </time>
              </div>
              {s.outcome && (s.status === 'conflicted' || s.status === 'failed') ? (
                <p className="schedule-outcome" data-testid="schedule-outcome">
                  {sentence(s.outcome)}
                </p>
              ) : null}
            </li>
          );
        })}
      </ul>
      {finished.length > 3 ? (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all ? 'Show the last three' : `Show all ${finished.length}`}
        </button>
      ) : null}
    </section>
  );
}

function capitalized(text: string): string {
  const trimmed = text.trim();
  return trimmed ? trimmed[0]!.toUpperCase() + trimmed.slice(1) : trimmed;
}

/** "the flag changed after…" → "The flag changed after….". */
function sentence(text: string): string {
  const capital = capitalized(text);
  return !capital || /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
