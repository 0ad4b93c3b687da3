import { useState } from 'react';
import { Link } from 'react-router';
import { flagsApi, type EnvironmentPatch } from '../../api/endpoints.ts';
import type {
  ChangeRequest,
  Environment,
  EnvironmentState,
  Flag,
  Prerequisite,
  ReleasePlanTemplate,
  ScheduledChange,
} from '../../api/types.ts';
import { usePermissions } from '../../auth/session.tsx';
import { checkServe, serveDraftOf, ServeEditor, type ServeDraft } from '../../components/ServeEditor.tsx';
import { Badge, Button, ConfirmDialog, ErrorBox, ReadOnlyNote, useToast } from '../../components/ui.tsx';
import { describeServe, isProductionLike } from '../../lib/format.ts';
import { useAction, useResource, type Resource } from '../../lib/hooks.ts';
import { environmentName, forgetEnvironments, useEnvironmentList } from '../../lib/environments.ts';
import { approvalsPhrase, isChangeRequestRequired, openedMessage, submissionFor } from '../../lib/change-requests.ts';
import {
  EnvironmentChangeRequests,
  ProposeChangeDialog,
  ProposedNotice,
  useFlagChangeRequests,
  type FlagChangeRequests,
} from './ChangeRequests.tsx';
import { CopyFromEnvironment } from './CopyEnvironment.tsx';
import { finishedOf, pendingOf } from '../../lib/schedules.ts';
import {
  FinishedSchedules,
  PendingSchedules,
  ScheduleForm,
  useFlagSchedules,
  type FlagSchedules,
  type ScheduleKind,
} from './Schedules.tsx';
import { eventsRefreshKey } from '../../lib/release-events.ts';
import { useFlagReleaseEvents, type FlagReleaseEvents } from './ReleaseEvents.tsx';
import { ReleasePanel, useFlagReleasePlans, useReleasePlanTemplates, type FlagReleasePlans } from './ReleasePlans.tsx';
import type { FlagTabProps } from './tab-props.ts';
import { projectOf } from '../../lib/projects.ts';

/**
 * One column per environment: the kill switch, the off variant, the default serve and the prerequisites, its
 * release plan, and the changes scheduled there (the flag is reloaded when a milestone or a scheduled change is
 * applied, so the column shows its new state).
 */
export function EnvironmentsTab(props: FlagTabProps) {
  const { flag, environments } = props;
  // Candidate prerequisites: the other flags of its project (first 200 by key).
  const others = useResource(
    async () => (await flagsApi.list({ project: projectOf(flag), limit: 200 })).data.items.filter((f) => f.key !== flag.key),
    [flag.key, flag.project],
  );
  const schedules = useFlagSchedules(flag.key, props.reload);
  const plans = useFlagReleasePlans(flag.key, props.reload);
  const templates = useReleasePlanTemplates();
  // The release timeline is asked again when the plans' or the schedules' watch sees one written, or the flag changes.
  const events = useFlagReleaseEvents(flag.key, eventsRefreshKey(plans, schedules, flag.version));
  // Names (and the rest) of the environments, for headings; the keys until they are known.
  const details = useEnvironmentList();
  // Change requests: how a protected environment is changed (the flag is reloaded when one is applied).
  const changeRequests = useFlagChangeRequests(flag.key, props.reload);
  return (
    <div className="env-columns" data-testid="environments">
      {environments.map((env) => {
        const state = flag.environments[env];
        return state ? (
          <EnvironmentColumn
            key={`${env}:${JSON.stringify(state)}`}
            env={env}
            state={state}
            others={others.data ?? []}
            schedules={schedules}
            plans={plans}
            templates={templates}
            events={events}
            details={details.data}
            changeRequests={changeRequests}
            {...props}
          />
        ) : (
          <div key={env} className="card env-column">
            <h2>{environmentName(details.data, env)}</h2>
            <p className="muted">This flag has no state in {env}.</p>
          </div>
        );
      })}
    </div>
  );
}

function EnvironmentColumn({
  env,
  state,
  flag,
  etag,
  onChanged,
  reload,
  others,
  schedules,
  plans,
  templates,
  events,
  environments,
  details,
  changeRequests,
}: FlagTabProps & {
  env: string;
  state: EnvironmentState;
  others: Flag[];
  schedules: FlagSchedules;
  plans: FlagReleasePlans;
  templates: Resource<ReleasePlanTemplate[]>;
  events: FlagReleaseEvents;
  details: Environment[] | undefined;
  changeRequests: FlagChangeRequests;
}) {
  const { canEdit, editReason } = usePermissions();
  const toast = useToast();
  const production = isProductionLike(env);
  const [offVariant, setOffVariant] = useState(state.offVariant);
  const [serve, setServe] = useState<ServeDraft>(() => serveDraftOf(state.defaultServe, flag.variants));
  const [prerequisites, setPrerequisites] = useState<Prerequisite[]>(state.prerequisites);
  const [confirming, setConfirming] = useState(false);
  // The schedule form, open with what it first proposes.
  const [scheduling, setScheduling] = useState<ScheduleKind | 'default' | undefined>(undefined);
  const allPending = pendingOf(schedules.items ?? []);
  const pending = allPending.filter((s) => s.environment === env);
  const finished = finishedOf(schedules.items ?? [], env);
  // A change of the default serve a running plan drives pauses that plan at its next milestone.
  const runningPlans = (plans.items ?? []).filter((p) => p.status === 'active' && p.environment === env);

  // A protected environment takes changes through change requests: its forms propose them (see submissionFor).
  const [refusal, setRefusal] = useState<unknown>(undefined);
  const submission = submissionFor(details, env, refusal);
  const proposing = submission.mode === 'propose';
  // The change being proposed (the dialog is open), and whether it is the form's edits (then shown as they were).
  const [proposal, setProposal] = useState<{ patch: EnvironmentPatch; edits: boolean } | undefined>(undefined);
  const [opened, setOpened] = useState<ChangeRequest | undefined>(undefined);
  const onProposed = (request: ChangeRequest) => {
    changeRequests.put(request);
    setOpened(request);
    toast(`${openedMessage(request)} in ${env}.`);
  };

  const patch = async (body: EnvironmentPatch, message: string, edits: boolean) => {
    try {
      const { data, etag: next } = await flagsApi.updateEnvironment(flag.key, env, body, etag);
      onChanged({ flag: data, etag: next });
      toast(message);
    } catch (error) {
      if (!isChangeRequestRequired(error)) throw error;
      // Protected since the page loaded: offer the same change as a change request.
      forgetEnvironments();
      setRefusal(error);
      setConfirming(false);
      setProposal({ patch: body, edits });
    }
  };
  const toggle = useAction(async () => {
    await patch({ enabled: !state.enabled }, `${flag.key} is now ${state.enabled ? 'off' : 'on'} in ${env}.`, false);
    setConfirming(false);
  });
  const serveCheck = checkServe(serve);
  const prerequisiteProblems = prerequisites.map((p, i) =>
    !p.flagKey
      ? 'Choose a flag'
      : !p.variant
        ? 'Choose the variant it must serve'
        : prerequisites.findIndex((q) => q.flagKey === p.flagKey) !== i
          ? 'This flag is listed twice'
          : undefined,
  );
  const changes: EnvironmentPatch = {};
  if (offVariant !== state.offVariant) changes.offVariant = offVariant;
  if (serveCheck.serve && JSON.stringify(serveCheck.serve) !== JSON.stringify(state.defaultServe)) changes.defaultServe = serveCheck.serve;
  if (JSON.stringify(prerequisites) !== JSON.stringify(state.prerequisites)) changes.prerequisites = prerequisites;
  const dirty =
    offVariant !== state.offVariant ||
    JSON.stringify(serveDraftOf(state.defaultServe, flag.variants)) !== JSON.stringify(serve) ||
    changes.prerequisites !== undefined;
  const valid = serveCheck.errors.length === 0 && prerequisiteProblems.every((p) => !p);
  const save = useAction(() => patch(changes, `Saved ${flag.key} in ${env}.`, true));
  const reset = () => {
    setOffVariant(state.offVariant);
    setServe(serveDraftOf(state.defaultServe, flag.variants));
    setPrerequisites(state.prerequisites);
    save.clear();
  };
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const schedulable = dirty && valid && Object.keys(changes).length > 0;
  const onScheduled = (schedule: ScheduledChange, kind: ScheduleKind) => {
    schedules.put(schedule);
    setScheduling(undefined);
    // The edits are scheduled instead of saved: the form shows the environment as it is again.
    if (kind === 'edits') reset();
  };
  const onScheduleProposed = (request: ChangeRequest, kind: ScheduleKind) => {
    setScheduling(undefined);
    onProposed(request);
    if (kind === 'edits') reset();
  };

  return (
    <div className={`card env-column${state.enabled ? ' is-on' : ''}`} data-testid={`env-${env}`}>
      <div className="env-head">
        <h2 title={env}>
          {environmentName(details, env)} {production && env !== 'production' ? <Badge tone="warn">production</Badge> : null}
          {proposing ? (
            <>
              {' '}
              <Badge
                tone="warn"
                testId={`env-${env}-protected`}
                title={`Changes here go through change requests${submission.requiredApprovals ? ` needing ${approvalsPhrase(submission.requiredApprovals)}` : ''}`}
              >
                protected
              </Badge>
            </>
          ) : null}
        </h2>
        <button
          type="button"
          role="switch"
          aria-checked={state.enabled}
          aria-label={`${flag.key} in ${env}`}
          className={`switch${state.enabled ? ' on' : ''}`}
          disabled={!canEdit || toggle.busy}
          title={canEdit ? (state.enabled ? `Turn off in ${env}` : `Turn on in ${env}`) : editReason}
          onClick={() =>
            proposing
              ? setProposal({ patch: { enabled: !state.enabled }, edits: false })
              : production
                ? setConfirming(true)
                : void toggle.run()
          }
          data-testid={`env-${env}-switch`}
        >
          <span className="switch-knob" />
          <span className="switch-text">{toggle.busy ? '…' : state.enabled ? 'On' : 'Off'}</span>
        </button>
      </div>
      <p className="env-summary" data-testid={`env-${env}-summary`}>
        {state.enabled ? (
          <>
            Serving <strong>{describeServe(state.defaultServe)}</strong> when no rule matches.{' '}
            <Link to={`/flags/${flag.key}/targeting?environment=${env}`}>Rules</Link>
          </>
        ) : (
          <>
            Off: everyone gets <strong>{variantLabel(state.offVariant)}</strong>.
          </>
        )}
      </p>
      {!production ? <ErrorBox error={toggle.error} onRetry={reload} /> : null}
      {opened ? <ProposedNotice request={opened} onDismiss={() => setOpened(undefined)} testId={`env-${env}-proposed`} /> : null}
      <EnvironmentChangeRequests flag={flag} env={env} requests={changeRequests} shown={proposing} />
      {canEdit ? (
        <div className="env-copy">
          <CopyFromEnvironment flag={flag} etag={etag} env={env} environments={environments} details={details} onChanged={onChanged} />
        </div>
      ) : null}
      <ReleasePanel
        flag={flag}
        env={env}
        state={state}
        plans={plans}
        templates={templates}
        events={events}
        schedules={schedules.items ?? []}
        details={details}
        onProposed={onProposed}
      />
      <section className="env-schedules" aria-label={`Scheduled changes in ${env}`} data-testid={`env-${env}-schedules`}>
        <div className="env-schedules-head">
          <h3>Scheduled</h3>
          {canEdit && scheduling === undefined ? (
            <Button small onClick={() => setScheduling('default')} data-testid={`env-${env}-schedule`}>
              Schedule a change…
            </Button>
          ) : null}
        </div>
        {pending.length === 0 && scheduling === undefined ? (
          <p className="muted schedule-none" data-testid={`env-${env}-nothing-scheduled`}>
            {schedules.items ? 'Nothing scheduled.' : schedules.error ? 'The scheduled changes could not be loaded.' : 'Loading…'}
          </p>
        ) : null}
        <PendingSchedules
          flag={flag}
          env={env}
          pending={pending}
          now={schedules.now}
          protectedEnv={proposing}
          onUpdated={schedules.put}
          onCancelled={(cancelled) => {
            schedules.put(cancelled);
            schedules.reload();
          }}
        />
        {canEdit && scheduling !== undefined ? (
          <ScheduleForm
            key={scheduling}
            flag={flag}
            env={env}
            state={state}
            edits={schedulable ? changes : undefined}
            initialKind={scheduling === 'default' ? undefined : scheduling}
            otherPending={allPending}
            details={details}
            onScheduled={onScheduled}
            onProposed={onScheduleProposed}
            onClose={() => setScheduling(undefined)}
          />
        ) : null}
      </section>
      <fieldset className="env-form" disabled={!canEdit || save.busy}>
        <label className="field">
          <span className="field-label">Off variant</span>
          <select value={offVariant} onChange={(e) => setOffVariant(e.target.value)} data-testid={`env-${env}-off-variant`}>
            {flag.variants.map((v) => (
              <option key={v.key} value={v.key}>
                {variantLabel(v.key)}
              </option>
            ))}
          </select>
          <span className="field-hint">Served while the flag is off, or when a prerequisite is not met.</span>
        </label>
        <div className="field">
          <span className="field-label">Default serve</span>
          <ServeEditor variants={flag.variants} draft={serve} onChange={setServe} testId={`env-${env}-serve`} />
          <span className="field-hint">What an enabled flag serves when no rule matches.</span>
        </div>
        <div className="field">
          <span className="field-label">Prerequisites</span>
          {prerequisites.length === 0 ? <span className="field-hint">None: the flag does not depend on another flag.</span> : null}
          {prerequisites.map((p, i) => {
            const parent = others.find((f) => f.key === p.flagKey);
            return (
              <div className="prerequisite" key={i}>
                <select
                  aria-label={`Prerequisite ${i + 1} flag`}
                  value={p.flagKey}
                  onChange={(e) => {
                    const chosen = others.find((f) => f.key === e.target.value);
                    setPrerequisites(
                      prerequisites.map((q, j) => (j === i ? { flagKey: e.target.value, variant: chosen?.variants[0]?.key ?? '' } : q)),
                    );
                  }}
                >
                  <option value="">Choose a flag…</option>
                  {p.flagKey && !parent ? <option value={p.flagKey}>{p.flagKey}</option> : null}
                  {others.map((f) => (
                    <option key={f.key} value={f.key}>
                      {f.key}
                    </option>
                  ))}
                </select>
                <span>serves</span>
                <select
                  aria-label={`Prerequisite ${i + 1} variant`}
                  value={p.variant}
                  onChange={(e) => setPrerequisites(prerequisites.map((q, j) => (j === i ? { ...q, variant: e.target.value } : q)))}
                >
                  {(parent?.variants ?? (p.variant ? [{ key: p.variant }] : [])).map((v) => (
                    <option key={v.key} value={v.key}>
                      {v.key}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  onClick={() => setPrerequisites(prerequisites.filter((_, j) => j !== i))}
                  aria-label={`Remove prerequisite ${i + 1}`}
                >
                  Remove
                </button>
                {prerequisiteProblems[i] ? <span className="field-error">{prerequisiteProblems[i]}</span> : null}
              </div>
            );
          })}
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setPrerequisites([...prerequisites, { flagKey: '', variant: '' }])}
            disabled={prerequisites.length >= 20}
          >
            + Add prerequisite
          </button>
        </div>
      </fieldset>
      <ErrorBox error={save.error} onRetry={save.error ? reload : undefined} />
      {canEdit && allPending.length > 0 && schedulable ? (
        <p className="field-hint" data-testid={`env-${env}-save-conflicts`}>
          {allPending.length === 1 ? 'A pending scheduled change' : `${allPending.length} pending scheduled changes`} of this flag: one that
          sets a field you change here will be recorded as a conflict at its time, unless planned again.
        </p>
      ) : null}
      {canEdit && runningPlans.length > 0 && dirty ? (
        <p className="field-hint" data-testid={`env-${env}-save-pauses-plan`}>
          A release plan is running on {env}: if what you save changes its default serve, the plan pauses at its next milestone.
        </p>
      ) : null}
      {canEdit ? (
        <div className="form-actions">
          <Button onClick={reset} disabled={!dirty || save.busy}>
            Discard
          </Button>
          <Button
            onClick={() => setScheduling('edits')}
            disabled={!schedulable || save.busy}
            title="Apply these edits at a time you choose, instead of now"
            data-testid={`env-${env}-schedule-edits`}
          >
            Schedule…
          </Button>
          <Button
            variant="primary"
            onClick={() => (proposing ? setProposal({ patch: changes, edits: true }) : void save.run())}
            disabled={!valid || Object.keys(changes).length === 0}
            busy={save.busy}
            busyLabel="Saving…"
            title={proposing ? `${env} is protected: this proposes the edits as a change request` : undefined}
            data-testid={`env-${env}-save`}
          >
            {proposing ? 'Propose change…' : `Save ${env}`}
          </Button>
        </div>
      ) : (
        <ReadOnlyNote reason={editReason} />
      )}
      <FinishedSchedules flag={flag} env={env} finished={finished} now={schedules.now} />
      <ProposeChangeDialog
        flag={flag}
        env={env}
        patch={proposal?.patch}
        submission={submission}
        onOpened={(request) => {
          if (proposal?.edits) reset();
          setProposal(undefined);
          onProposed(request);
        }}
        onCancel={() => setProposal(undefined)}
      />
      <ConfirmDialog
        open={confirming}
        title={state.enabled ? `Turn off ${flag.key} in ${env}?` : `Turn on ${flag.key} in ${env}?`}
        confirmLabel={state.enabled ? `Turn off in ${env}` : `Turn on in ${env}`}
        danger={state.enabled}
        busy={toggle.busy}
        error={toggle.error}
        onConfirm={() => void toggle.run()}
        onCancel={() => {
          setConfirming(false);
          toggle.clear();
        }}
      >
        {state.enabled ? (
          <p>
            Every {env} user gets the off variant <strong>{variantLabel(state.offVariant)}</strong> within a second. Rules stop being looked
            at.
          </p>
        ) : (
          <p>
            {env} users start getting what the rules and the default serve (<strong>{describeServe(state.defaultServe)}</strong>) say,
            within a second.
          </p>
        )}
      </ConfirmDialog>
    </div>
  );
}
