import { useState } from 'react';
import { changeRequestsApi, flagsApi, type ReleasePlanAction } from '../../api/endpoints.ts';
import type {
  ChangeRequest,
  Environment,
  EnvironmentState,
  Flag,
  Milestone,
  ReleasePlan,
  ReleasePlanTemplate,
  ScheduledChange,
} from '../../api/types.ts';
import { usePermissions } from '../../auth/session.tsx';
import { checkServe, serveDraftOf, ServeEditor, type ServeDraft } from '../../components/ServeEditor.tsx';
import { Badge, Button, ConfirmDialog, ErrorBox, useToast } from '../../components/ui.tsx';
import { isChangeRequestRequired, openedMessage, submissionFor, withDescription } from '../../lib/change-requests.ts';
import { relativeTime } from '../../lib/format.ts';
import {
  useAction,
  useFocusOnOpen,
  useResource,
  useWatchedList,
  watchDueForMs,
  type EditableWatchedList,
  type Resource,
} from '../../lib/hooks.ts';
import {
  changedTheFlag,
  currentServeOf,
  describeEnd,
  describeMilestones,
  describeMilestonesWithHolds,
  formatHold,
  holdInputOf,
  holdSecondsOf,
  holdUnits,
  maxMilestones,
  milestoneNumber,
  milestoneStateLabels,
  milestoneStates,
  planStatusLabels,
  planStatusTones,
  presetMilestones,
  rampVariants,
  sentence,
  serveInWords,
  templatesFor,
  withPlan,
  type HoldInput,
  type HoldUnit,
} from '../../lib/release-plans.ts';
import { formatUtc, formatWhen, relativeToNow } from '../../lib/schedules.ts';
import { checkGuardrails, guardrailMetrics } from '../../lib/guardrails.ts';
import { FinishedPlanGuardrails, GuardrailRollback, GuardrailsSection, PlanGuardrails, type GuardrailFormItem } from './Guardrails.tsx';
import { ReleaseTimeline, type FlagReleaseEvents } from './ReleaseEvents.tsx';
import { ProposalFields } from './ChangeRequests.tsx';

/** How often the list is asked while a plan is active (someone may pause, approve or roll it back meanwhile). */
const activeEveryMs = 3_000;
/** …and otherwise (a plan started elsewhere, a paused one resumed). */
const idleEveryMs = 15_000;

export type FlagReleasePlans = EditableWatchedList<ReleasePlan>;

/**
 * The flag's release plans, kept fresh: asked every few seconds while one is active, every second once its next
 * milestone is due (until the release worker has applied it). When a plan moved the flag (a milestone applied, a
 * rollback), `onFlagChanged` reloads the flag, so the page shows what it serves now.
 */
export function useFlagReleasePlans(flagKey: string, onFlagChanged: () => void): FlagReleasePlans {
  const list = useWatchedList(async (signal) => (await flagsApi.releasePlans(flagKey, signal)).data.items, [flagKey], {
    dueAt: (p) => (p.status === 'active' ? p.nextAt : null),
    everyMs: (plans) => (plans.some((p) => p.status === 'active') ? activeEveryMs : idleEveryMs),
    changedTheFlag,
    onFlagChanged,
  });
  return { ...list, put: (plan) => list.setItems(withPlan(list.items ?? [], plan)) };
}

/** The saved templates, for every environment's start form. */
export function useReleasePlanTemplates(): Resource<ReleasePlanTemplate[]> {
  return useResource(async () => (await flagsApi.releasePlanTemplates()).data.items, []);
}

/**
 * An environment's release: the running plan (its milestones, done and to come, the serve now, the time to the next
 * milestone, and for editors pause, resume, approve and roll back), a form to start one when none runs, what
 * happened (the release events of its plans and schedules, and why), and how the last plans ended.
 */
export function ReleasePanel({
  flag,
  env,
  state,
  plans,
  templates,
  events,
  schedules,
  details,
  onProposed,
}: {
  flag: Flag;
  env: string;
  state: EnvironmentState;
  plans: FlagReleasePlans;
  templates: Resource<ReleasePlanTemplate[]>;
  events: FlagReleaseEvents;
  /** The flag's scheduled changes, for the timeline to say what each one changed. */
  schedules: readonly ScheduledChange[];
  /** The environments as known (whether this one is protected: a release is then proposed). */
  details?: Environment[] | undefined;
  /** A change request was opened to start the release (a protected environment). */
  onProposed?: (request: ChangeRequest) => void;
}) {
  const { canEdit } = usePermissions();
  const [starting, setStarting] = useState(false);
  const items = plans.items ?? [];
  const running = items.find((p) => p.environment === env && (p.status === 'active' || p.status === 'paused'));
  const finished = items.filter((p) => p.environment === env && p !== running && p.status !== 'active' && p.status !== 'paused');
  const testId = `env-${env}-release`;

  return (
    <section className="env-release" aria-label={`Release plan in ${env}`} data-testid={testId}>
      <div className="env-schedules-head">
        <h3>Release</h3>
        {canEdit && !running && !starting && plans.items ? (
          <Button small onClick={() => setStarting(true)} data-testid={`${testId}-start`}>
            Start a release…
          </Button>
        ) : null}
      </div>
      {running ? (
        <RunningPlan key={running.id} flag={flag} plan={running} now={plans.now} onUpdated={plans.put} />
      ) : !starting ? (
        <p className="muted schedule-none" data-testid={`${testId}-none`}>
          {plans.items
            ? 'No release running: a plan serves more users step by step (for example 1 % → 10 % → 50 % → 100 %), on its own.'
            : plans.error
              ? 'The release plans could not be loaded.'
              : 'Loading…'}
        </p>
      ) : null}
      {canEdit && !running && starting ? (
        <StartPlanForm
          flag={flag}
          env={env}
          state={state}
          templates={templates}
          details={details}
          onStarted={(plan) => {
            plans.put(plan);
            setStarting(false);
          }}
          onProposed={(request) => {
            setStarting(false);
            onProposed?.(request);
          }}
          onClose={() => setStarting(false)}
        />
      ) : null}
      <ReleaseTimeline flag={flag} env={env} events={events} plans={items} schedules={schedules} now={plans.now} />
      <FinishedPlans flag={flag} env={env} finished={finished} now={plans.now} />
    </section>
  );
}

/** A milestone as it is being composed: its serve, its hold as typed, and whether it waits for an approval. */
interface MilestoneDraft {
  id: number;
  serve: ServeDraft;
  hold: HoldInput;
  approval: boolean;
}

let nextDraftId = 1;
function draftOf(milestone: Milestone, flag: Flag): MilestoneDraft {
  return {
    id: nextDraftId++,
    serve: serveDraftOf(milestone.serve, flag.variants),
    hold: holdInputOf(milestone.holdSeconds),
    approval: milestone.approval ?? false,
  };
}

/** The milestones to send, or what is wrong with each draft. */
function checkDrafts(drafts: MilestoneDraft[]): { milestones?: Milestone[]; problems: (string | undefined)[] } {
  const milestones: Milestone[] = [];
  const problems = drafts.map((draft) => {
    const serve = checkServe(draft.serve);
    const hold = holdSecondsOf(draft.hold);
    if (!serve.serve) return serve.errors[0] ?? 'Choose what to serve';
    if ('error' in hold) return `Hold: ${hold.error}`;
    milestones.push({ serve: serve.serve, holdSeconds: hold.seconds, ...(draft.approval ? { approval: true } : {}) });
    return undefined;
  });
  return problems.some((p) => p !== undefined) || drafts.length === 0 ? { problems } : { milestones, problems };
}

const compose = '';

/**
 * Starts a release of one environment: from a saved template, or by milestones composed here (and saved as a
 * template). On a protected environment it proposes the release as a change request instead (and turns into that
 * when a direct start is refused because the environment became protected).
 */
function StartPlanForm({
  flag,
  env,
  state,
  templates,
  details,
  onStarted,
  onProposed,
  onClose,
}: {
  flag: Flag;
  env: string;
  state: EnvironmentState;
  templates: Resource<ReleasePlanTemplate[]>;
  details: Environment[] | undefined;
  onStarted: (plan: ReleasePlan) => void;
  onProposed: (request: ChangeRequest) => void;
  onClose: () => void;
}) {
  const toast = useToast();
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const ramp = rampVariants(flag, state);
  const preset = () => presetMilestones(ramp.release, ramp.rest).map((m) => draftOf(m, flag));
  const [drafts, setDrafts] = useState<MilestoneDraft[]>(preset);
  const [templateId, setTemplateId] = useState(compose);
  const [templateName, setTemplateName] = useState('');
  const [deleting, setDeleting] = useState(false);
  const [guardrailItems, setGuardrailItems] = useState<GuardrailFormItem[]>([]);
  const [tried, setTried] = useState(false);
  const choices = templatesFor(templates.data ?? [], flag);
  const chosen = choices.find((c) => c.template.id === templateId);
  const checked = checkDrafts(drafts);
  const milestones = chosen ? chosen.template.milestones : checked.milestones;
  const guardrails = checkGuardrails(
    guardrailItems,
    flag.variants.map((v) => v.key),
  );
  // The milestones as they stand, even half typed: what a new guardrail's treatment and control are taken from.
  const composed =
    milestones ??
    drafts.flatMap((d) => {
      const serve = checkServe(d.serve).serve;
      return serve ? [{ serve, holdSeconds: 1 }] : [];
    });
  const testId = `env-${env}-release`;

  // A direct start refused because the environment is protected: the form proposes it instead.
  const [refusal, setRefusal] = useState<unknown>(undefined);
  const submission = submissionFor(details, env, refusal);
  const proposing = submission.mode === 'propose';
  const [description, setDescription] = useState('');
  const start = useAction(async () => {
    if (!milestones || !guardrails.guardrails) return;
    const withGuardrails = guardrails.guardrails.length > 0 ? { guardrails: guardrails.guardrails } : {};
    const plan = chosen ? { templateId: chosen.template.id, ...withGuardrails } : { milestones, ...withGuardrails };
    if (proposing) {
      const { data: request } = await changeRequestsApi.open(flag.key, env, withDescription({ releasePlan: plan }, description));
      onProposed(request);
      toast(`${openedMessage(request)}: a release in ${env}, ${describeMilestones(milestones, variantLabel)}.`);
      return;
    }
    let data: ReleasePlan;
    try {
      data = (await flagsApi.startReleasePlan(flag.key, env, plan, flag.version)).data;
    } catch (error) {
      if (!isChangeRequestRequired(error)) throw error;
      setRefusal(error);
      return;
    }
    onStarted(data);
    toast(
      `Release started in ${env}: ${describeMilestones(data.milestones, variantLabel)}` +
        `${data.guardrails.length > 0 ? `, guarded by ${guardrailMetrics(data.guardrails).join(', ')}` : ''}.`,
    );
  });
  const saveTemplate = useAction(async () => {
    if (!checked.milestones) return;
    const { data } = await flagsApi.createReleasePlanTemplate(templateName.trim(), checked.milestones);
    templates.setData([...(templates.data ?? []).filter((t) => t.id !== data.id), data]);
    setTemplateName('');
    toast(`Saved the template “${data.name}”.`);
  });
  const removeTemplate = useAction(async () => {
    if (!chosen) return;
    await flagsApi.deleteReleasePlanTemplate(chosen.template.id);
    templates.setData((templates.data ?? []).filter((t) => t.id !== chosen.template.id));
    setTemplateId(compose);
    setDeleting(false);
    toast(`Deleted the template “${chosen.template.name}”.`);
  });
  const update = (index: number, change: Partial<MilestoneDraft>) =>
    setDrafts(drafts.map((d, i) => (i === index ? { ...d, ...change } : d)));
  const move = (index: number, by: -1 | 1) => {
    const next = [...drafts];
    const [moved] = next.splice(index, 1);
    next.splice(index + by, 0, moved!);
    setDrafts(next);
  };
  const sourceRef = useFocusOnOpen<HTMLSelectElement>();

  return (
    <>
      <form
        className="schedule-form release-form"
        aria-label={`Start a release in ${env}`}
        onSubmit={(event) => {
          event.preventDefault();
          setTried(true);
          if (milestones && !chosen?.missing.length && guardrails.guardrails) void start.run();
        }}
        data-testid={`${testId}-form`}
      >
        <h3>{proposing ? `Propose a release in ${env}` : `Start a release in ${env}`}</h3>
        <label className="field">
          <span className="field-label">Milestones</span>
          <select
            ref={sourceRef}
            value={templateId}
            onChange={(e) => setTemplateId(e.target.value)}
            disabled={start.busy}
            data-testid={`${testId}-template`}
          >
            <option value={compose}>Composed here (below)</option>
            {choices.map(({ template, missing }) => (
              <option key={template.id} value={template.id} disabled={missing.length > 0}>
                Template “{template.name}”: {describeMilestones(template.milestones)}
                {missing.length > 0 ? ` (needs ${missing.map((k) => `“${k}”`).join(', ')}, not a variant of this flag)` : ''}
              </option>
            ))}
          </select>
          <span className="field-hint">
            {templates.error
              ? 'The saved templates could not be loaded: compose the milestones here.'
              : choices.length === 0
                ? 'No saved template yet: compose the milestones here, and save them as one to use again.'
                : 'A saved template, or the milestones composed here.'}
          </span>
        </label>
        {chosen ? (
          <div className="release-template" data-testid={`${testId}-template-preview`}>
            <MilestoneList flag={flag} milestones={chosen.template.milestones} />
            <p className="field-hint">
              Saved by {chosen.template.createdBy.email} {relativeTime(chosen.template.createdAt)}.
            </p>
            <div className="schedule-actions">
              <Button
                small
                onClick={() => {
                  setDrafts(chosen.template.milestones.map((m) => draftOf(m, flag)));
                  setTemplateId(compose);
                }}
                data-testid={`${testId}-template-copy`}
              >
                Edit a copy
              </Button>
              <Button small variant="ghost" onClick={() => setDeleting(true)} data-testid={`${testId}-template-delete`}>
                Delete the template…
              </Button>
            </div>
          </div>
        ) : (
          <fieldset className="env-form release-milestones" disabled={start.busy}>
            <div className="schedule-actions">
              <Button
                small
                onClick={() => setDrafts(preset())}
                title={`Serve “${variantLabel(ramp.release)}” to 1 %, 10 %, 50 %, then everyone`}
                data-testid={`${testId}-preset`}
              >
                1 % → 10 % → 50 % → 100 %
              </Button>
            </div>
            <ol className="milestone-drafts">
              {drafts.map((draft, i) => (
                <li key={draft.id} className="milestone-draft" data-testid={`${testId}-m${i}`}>
                  <div className="schedule-head">
                    <strong>Milestone {i + 1}</strong>
                    <span className="schedule-actions">
                      <button
                        type="button"
                        className="btn btn-ghost btn-small"
                        onClick={() => move(i, -1)}
                        disabled={i === 0}
                        aria-label={`Move milestone ${i + 1} up`}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-small"
                        onClick={() => setDrafts(drafts.filter((_, j) => j !== i))}
                        disabled={drafts.length === 1}
                        aria-label={`Remove milestone ${i + 1}`}
                        data-testid={`${testId}-m${i}-remove`}
                      >
                        Remove
                      </button>
                    </span>
                  </div>
                  <ServeEditor
                    variants={flag.variants}
                    draft={draft.serve}
                    onChange={(serve) => update(i, { serve })}
                    testId={`${testId}-m${i}-serve`}
                  />
                  <div className="hold-row">
                    <label className="inline-field">
                      <span>{i === drafts.length - 1 ? 'Then holds' : 'Holds'}</span>
                      <input
                        type="text"
                        inputMode="decimal"
                        value={draft.hold.amount}
                        onChange={(e) => update(i, { hold: { ...draft.hold, amount: e.target.value } })}
                        aria-label={`How long milestone ${i + 1} holds`}
                        aria-invalid={'error' in holdSecondsOf(draft.hold) ? true : undefined}
                        data-testid={`${testId}-m${i}-hold`}
                      />
                    </label>
                    <select
                      value={draft.hold.unit}
                      onChange={(e) => update(i, { hold: { ...draft.hold, unit: e.target.value as HoldUnit } })}
                      aria-label={`Unit of milestone ${i + 1}'s hold`}
                      data-testid={`${testId}-m${i}-unit`}
                    >
                      {(Object.keys(holdUnits) as HoldUnit[]).map((unit) => (
                        <option key={unit} value={unit}>
                          {unit}
                        </option>
                      ))}
                    </select>
                    <span className="field-hint">
                      {i === drafts.length - 1
                        ? 'before the plan completes (until then one click rolls it back)'
                        : 'before the next milestone'}
                    </span>
                  </div>
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={draft.approval}
                      onChange={(e) => update(i, { approval: e.target.checked })}
                      data-testid={`${testId}-m${i}-approval`}
                    />
                    {i === 0 ? 'Wait for an approval before starting with it' : 'Wait for an approval before applying it'}
                  </label>
                  {checked.problems[i] ? <span className="field-error">{checked.problems[i]}</span> : null}
                </li>
              ))}
            </ol>
            <div>
              <button
                type="button"
                className="btn btn-small"
                onClick={() => {
                  const last = drafts.at(-1);
                  setDrafts([
                    ...drafts,
                    {
                      id: nextDraftId++,
                      serve: last?.serve ?? serveDraftOf(state.defaultServe, flag.variants),
                      hold: last?.hold ?? { amount: '1', unit: 'hours' },
                      approval: false,
                    },
                  ]);
                }}
                disabled={drafts.length >= maxMilestones}
                data-testid={`${testId}-add`}
              >
                + Add milestone
              </button>
            </div>
            <div className="release-save-template">
              <label className="inline-field">
                <span>Save as a template named</span>
                <input
                  type="text"
                  value={templateName}
                  maxLength={100}
                  onChange={(e) => {
                    setTemplateName(e.target.value);
                    saveTemplate.clear();
                  }}
                  placeholder="e.g. one-ten-fifty-hundred"
                  data-testid={`${testId}-template-name`}
                />
              </label>
              <Button
                small
                onClick={() => void saveTemplate.run()}
                disabled={!checked.milestones || templateName.trim() === ''}
                busy={saveTemplate.busy}
                busyLabel="Saving…"
                data-testid={`${testId}-template-save`}
              >
                Save template
              </Button>
            </div>
            <ErrorBox error={saveTemplate.error} />
          </fieldset>
        )}
        <GuardrailsSection
          flag={flag}
          items={guardrailItems}
          onChange={setGuardrailItems}
          errors={guardrails.errors}
          problem={guardrails.problem}
          showAll={tried}
          milestones={composed}
          currentServe={state.defaultServe}
          testId={testId}
        />
        {milestones ? (
          <p className="schedule-preview" data-testid={`${testId}-preview`}>
            <strong>{describeMilestonesWithHolds(milestones, variantLabel)}</strong> in {env}
            {guardrails.guardrails && guardrails.guardrails.length > 0 ? (
              <>
                , rolled back if <strong>{guardrailMetrics(guardrails.guardrails).join(', ')}</strong> gets worse
              </>
            ) : null}
            .
          </p>
        ) : null}
        <p className="field-hint">
          The first milestone is applied {proposing ? 'when the change request is applied' : 'now'}
          {milestones?.[0]?.approval ? ' (once approved)' : ''}; the release worker applies each next one when the previous has held its
          time, or once approved. Pause, resume or roll back at any time: a rollback serves what {env} serves now (
          {serveInWords(state.defaultServe, variantLabel)}). Changing {env}&apos;s default serve outside the plan pauses it.
          {guardrailItems.length > 0 ? ' A guardrail’s breach rolls it back the same way, on its own.' : ''}
        </p>
        {tried && !guardrails.guardrails ? (
          <p className="field-error" role="alert" data-testid={`${testId}-guardrails-invalid`}>
            {guardrails.problem ?? 'Correct the guardrails above, or remove them, to start the release.'}
          </p>
        ) : null}
        <ProposalFields submission={submission} env={env} description={description} onDescription={setDescription} testId={testId} />
        <ErrorBox error={start.error} />
        <div className="form-actions">
          <Button onClick={onClose} disabled={start.busy} data-testid={`${testId}-close`}>
            Close
          </Button>
          <Button
            type="submit"
            variant="primary"
            disabled={!milestones || (chosen?.missing.length ?? 0) > 0}
            busy={start.busy}
            busyLabel={proposing ? 'Proposing…' : 'Starting…'}
            data-testid={`${testId}-submit`}
          >
            {proposing ? 'Propose the release' : 'Start the release'}
          </Button>
        </div>
      </form>
      <ConfirmDialog
        open={deleting}
        title={`Delete the template “${chosen?.template.name ?? ''}”?`}
        confirmLabel="Delete the template"
        cancelLabel="Keep it"
        danger
        busy={removeTemplate.busy}
        error={removeTemplate.error}
        onConfirm={() => void removeTemplate.run()}
        onCancel={() => {
          setDeleting(false);
          removeTemplate.clear();
        }}
      >
        <p>Nobody can start a plan from it any more. Plans started from it keep their milestones.</p>
      </ConfirmDialog>
    </>
  );
}

/** Milestones in order, each with what it serves and how long it holds (and, for a plan, where it is). */
function MilestoneList({ flag, milestones, plan, now }: { flag: Flag; milestones: Milestone[]; plan?: ReleasePlan; now?: number }) {
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const states = plan ? milestoneStates(plan) : undefined;
  return (
    <ol className="plan-timeline" data-testid="plan-milestones">
      {milestones.map((m, i) => {
        const state = states?.[i];
        return (
          <li key={i} className="plan-milestone" data-state={state} data-testid="plan-milestone">
            <span className="plan-milestone-serve">{serveInWords(m.serve, variantLabel)}</span>
            <span className="plan-milestone-hold muted">
              {m.approval ? 'after an approval · ' : ''}holds {formatHold(m.holdSeconds)}
            </span>
            {state ? (
              <span className="plan-milestone-state" data-testid="plan-milestone-state">
                {state === 'next' && plan?.status === 'active' && plan.nextAt && now !== undefined
                  ? Date.parse(plan.nextAt) <= now
                    ? 'next: due now'
                    : `next, ${relativeToNow(plan.nextAt, now)}`
                  : milestoneStateLabels[state]}
              </span>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

/** The plan running on an environment: where it is, what comes next and when, and for editors what can be done. */
function RunningPlan({
  flag,
  plan,
  now,
  onUpdated,
}: {
  flag: Flag;
  plan: ReleasePlan;
  now: number;
  onUpdated: (plan: ReleasePlan) => void;
}) {
  const { canEdit } = usePermissions();
  const toast = useToast();
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const [confirming, setConfirming] = useState(false);
  const act = useAction(async (action: ReleasePlanAction) => {
    const { data } = await flagsApi.actOnReleasePlan(flag.key, plan.id, action);
    onUpdated(data);
    if (action === 'rollback') setConfirming(false);
    toast(
      action === 'pause'
        ? `Release paused in ${plan.environment}.`
        : action === 'resume'
          ? `Release resumed in ${plan.environment}.`
          : action === 'approve'
            ? data.step > plan.step
              ? `Approved: ${plan.environment} serves ${serveInWords(currentServeOf(data), variantLabel)}.`
              : `Approved, but not applied: ${data.outcome ?? planStatusLabels[data.status]}.`
            : `Rolled back: ${plan.environment} serves ${serveInWords(data.startServe, variantLabel)} again.`,
    );
  });
  const last = plan.step === plan.milestones.length - 1;
  const next = plan.milestones[plan.step + 1];
  const nextAt = plan.nextAt ? Date.parse(plan.nextAt) : undefined;
  const due = nextAt !== undefined && nextAt <= now;
  const status = plan.status === 'active' && plan.awaitingApproval ? 'Waiting for approval' : planStatusLabels[plan.status];
  // Someone changed the serve the plan drives since its last step: at its next milestone it pauses.
  const expected = plan.serving ?? (plan.step >= 0 ? plan.milestones[plan.step]?.serve : plan.startServe);
  const movedOutside =
    plan.status === 'active' && JSON.stringify(flag.environments[plan.environment]?.defaultServe) !== JSON.stringify(expected);

  return (
    <div className="schedule-item plan" data-testid="release-plan" data-status={plan.status} data-plan-id={plan.id}>
      <div className="schedule-head">
        <strong className="schedule-what">
          {plan.step >= 0 ? `Milestone ${milestoneNumber(plan.step, plan)}` : `Before milestone ${milestoneNumber(0, plan)}`}
        </strong>
        <Badge tone={plan.awaitingApproval && plan.status === 'active' ? 'warn' : planStatusTones[plan.status]} testId="plan-status">
          {status}
        </Badge>
      </div>
      <div className="plan-serve" data-testid="plan-serve">
        Serving <strong>{serveInWords(currentServeOf(plan), variantLabel)}</strong>
        {plan.step < 0 ? ' (as before the plan)' : ''} when no rule matches.
      </div>
      <div className="schedule-when" data-testid="plan-next">
        {plan.status === 'paused' ? (
          plan.awaitingApproval ? (
            <>Paused while waiting for an approval of milestone {milestoneNumber(plan.step + 1, plan)}.</>
          ) : plan.pausedRemainingMs !== null && plan.pausedRemainingMs < 1000 && !last ? (
            <>Paused: the next milestone is applied as soon as it is resumed.</>
          ) : plan.pausedRemainingMs !== null && !last ? (
            <>Paused with {formatHold(Math.ceil(plan.pausedRemainingMs / 1000))} left before the next milestone.</>
          ) : (
            <>Paused.</>
          )
        ) : plan.awaitingApproval && next ? (
          <>
            Waiting for approval to serve <strong>{serveInWords(next.serve, variantLabel)}</strong>.
          </>
        ) : nextAt !== undefined && plan.nextAt ? (
          <>
            {last ? 'Completes' : next?.approval ? 'Asks for an approval of the next milestone' : 'Next milestone'}{' '}
            <time
              dateTime={plan.nextAt}
              title={`${formatWhen(plan.nextAt)} · ${formatUtc(new Date(plan.nextAt))}`}
              data-testid="plan-countdown"
            >
              {due ? (now - nextAt < watchDueForMs ? 'now…' : 'overdue') : relativeToNow(plan.nextAt, now)}
            </time>
            {!last && next && !next.approval ? (
              <>
                : <strong>{serveInWords(next.serve, variantLabel)}</strong>
              </>
            ) : null}
            .
          </>
        ) : null}
      </div>
      {due && nextAt !== undefined && now - nextAt >= watchDueForMs ? (
        <p className="schedule-outcome">
          Its time has passed and the release worker has not moved it on yet: it does when the worker is back.
        </p>
      ) : null}
      {plan.status === 'paused' && plan.outcome ? (
        <p className="schedule-outcome plan-outcome" data-testid="plan-outcome">
          {sentence(plan.outcome)}
        </p>
      ) : null}
      {movedOutside ? (
        <div className="alert alert-warn" data-testid="plan-moved">
          <span>
            The default serve of {plan.environment} was changed outside the plan since its last step: at its next milestone the plan pauses
            rather than overwrite that change.
          </span>
        </div>
      ) : null}
      <MilestoneList flag={flag} milestones={plan.milestones} plan={plan} now={now} />
      <PlanGuardrails flag={flag} plan={plan} now={now} />
      <div className="schedule-by muted" data-testid="plan-by">
        Started by {plan.createdBy.email}{' '}
        <time dateTime={plan.createdAt} title={formatWhen(plan.createdAt)}>
          {relativeTime(plan.createdAt, now)}
        </time>
      </div>
      {canEdit ? (
        <div className="schedule-actions">
          {plan.status === 'active' && plan.awaitingApproval ? (
            <Button small variant="primary" onClick={() => void act.run('approve')} busy={act.busy} data-testid="plan-approve">
              Approve milestone {milestoneNumber(plan.step + 1, plan)}
            </Button>
          ) : null}
          {plan.status === 'active' ? (
            <Button small onClick={() => void act.run('pause')} disabled={act.busy} data-testid="plan-pause">
              Pause
            </Button>
          ) : (
            <Button small variant="primary" onClick={() => void act.run('resume')} busy={act.busy} data-testid="plan-resume">
              Resume
            </Button>
          )}
          <Button small variant="danger" onClick={() => setConfirming(true)} disabled={act.busy} data-testid="plan-rollback">
            Roll back…
          </Button>
        </div>
      ) : null}
      {!confirming ? <ErrorBox error={act.error} /> : null}
      <ConfirmDialog
        open={confirming}
        title={`Roll back the release of ${flag.key} in ${plan.environment}?`}
        confirmLabel="Roll back"
        cancelLabel="Keep the release"
        danger
        busy={act.busy}
        error={act.error}
        onConfirm={() => void act.run('rollback')}
        onCancel={() => {
          setConfirming(false);
          act.clear();
        }}
      >
        <p data-testid="plan-rollback-what">
          Serve what it served before the plan: <strong>{serveInWords(plan.startServe, variantLabel)}</strong>.
        </p>
        <p>The plan ends; it cannot be resumed.</p>
      </ConfirmDialog>
    </div>
  );
}

/** An environment's finished plans, the last to end first: the last few, the rest on demand. */
function FinishedPlans({ flag, env, finished, now }: { flag: Flag; env: string; finished: ReleasePlan[]; now: number }) {
  const [all, setAll] = useState(false);
  if (finished.length === 0) return null;
  const sorted = [...finished].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const shown = all ? sorted : sorted.slice(0, 3);
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  return (
    <div className="env-release-done">
      <h4>Past releases</h4>
      <ul className="schedule-list" data-testid={`env-${env}-release-finished`}>
        {shown.map((p) => (
          <li key={p.id} className="schedule-item" data-testid="finished-plan" data-status={p.status} data-plan-id={p.id}>
            <div className="schedule-head">
              <strong className="schedule-what">{describeMilestones(p.milestones, variantLabel)}</strong>
              <Badge tone={planStatusTones[p.status]} testId="plan-status">
                {planStatusLabels[p.status]}
              </Badge>
            </div>
            <div className="schedule-when muted">
              By {p.createdBy.email}, ended{' '}
              <time dateTime={p.updatedAt} title={formatWhen(p.updatedAt)}>
                {relativeTime(p.updatedAt, now)}
              </time>
            </div>
            <p className="schedule-outcome" data-testid="plan-end">
              {describeEnd(p, variantLabel)}
            </p>
            <GuardrailRollback flag={flag} plan={p} />
            <FinishedPlanGuardrails flag={flag} plan={p} now={now} />
          </li>
        ))}
      </ul>
      {finished.length > 3 ? (
        <button type="button" className="link" onClick={() => setAll(!all)}>
          {all ? 'Show the last three' : `Show all ${finished.length}`}
        </button>
      ) : null}
    </div>
  );
}
