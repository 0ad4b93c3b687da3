import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { changeRequestsApi, type ChangeProposal, type EnvironmentPatch } from '../../api/endpoints.ts';
import type { ChangeRequest, Flag } from '../../api/types.ts';
import { RulesList } from '../../components/RulesList.tsx';
import { Badge, ConfirmDialog, Field } from '../../components/ui.tsx';
import {
  appliedSince,
  approvalCount,
  describeRequest,
  openedMessage,
  proposalNote,
  statusLabels,
  statusTones,
  waitingOf,
  withDescription,
  withRequest,
  type Submission,
} from '../../lib/change-requests.ts';
import { relativeTime } from '../../lib/format.ts';
import { useAction, useWatchedList, type EditableWatchedList } from '../../lib/hooks.ts';
import { compareRules, describeRulesChange, specsOf, type RuleShape } from '../../lib/rules-draft.ts';
import { describeChange, formatWhen } from '../../lib/schedules.ts';
import { changeRequestsChanged } from '../ChangeRequests.tsx';
import '../ChangeRequests.css';

/**
 * Change requests on the flag page: a protected environment's forms propose their change (with why, for the
 * reviewers) instead of making it, say that the request is open and what it needs, and each environment lists the
 * requests waiting there.
 */

/** How often the flag's requests are asked again (someone may approve, apply or withdraw one meanwhile). */
const refreshEveryMs = 15_000;

export type FlagChangeRequests = EditableWatchedList<ChangeRequest>;

/** The flag's change requests, newest first, kept fresh; when one is applied, `onApplied` reloads the flag. */
export function useFlagChangeRequests(flagKey: string, onApplied: () => void): FlagChangeRequests {
  const list = useWatchedList(async (signal) => (await changeRequestsApi.ofFlag(flagKey, {}, signal)).data.items, [flagKey], {
    dueAt: () => null,
    everyMs: () => refreshEveryMs,
    changedTheFlag: appliedSince,
    onFlagChanged: onApplied,
  });
  return {
    ...list,
    put: (request) => {
      list.setItems(withRequest(list.items ?? [], request));
      changeRequestsChanged();
    },
  };
}

/** What a proposing form shows above its buttons: that it opens a change request and what it needs, and a box for why. */
export function ProposalFields({
  submission,
  env,
  description,
  onDescription,
  testId,
}: {
  submission: Submission;
  env: string;
  description: string;
  onDescription: (text: string) => void;
  testId: string;
}) {
  const note = proposalNote(submission, env);
  if (!note) return null;
  return (
    <div className="proposal-fields">
      <div className={`alert ${submission.mode === 'propose' && submission.because === 'refused' ? 'alert-warn' : 'alert-info'}`}>
        <span data-testid={`${testId}-proposal-note`}>{note}</span>
      </div>
      <Field label="Why (for the reviewers)" hint="Optional: what it is for, a ticket, when it should be applied.">
        <textarea
          rows={2}
          maxLength={2000}
          value={description}
          onChange={(e) => onDescription(e.target.value)}
          data-testid={`${testId}-description`}
        />
      </Field>
    </div>
  );
}

/** Once a form proposed its change: "Change request opened — needs 1 approval", with a link to it. */
export function ProposedNotice({ request, onDismiss, testId }: { request: ChangeRequest; onDismiss: () => void; testId: string }) {
  return (
    <div className="alert alert-info proposed-notice" role="status" data-testid={testId}>
      <span>
        <strong data-testid={`${testId}-message`}>{openedMessage(request)}.</strong>{' '}
        <Link to={`/change-requests/${request.id}`} data-testid={`${testId}-link`}>
          View the change request
        </Link>
      </span>
      <button type="button" className="btn btn-ghost btn-small" onClick={onDismiss} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}

/**
 * Proposes a change of an environment's state (its switch, or its edited fields) — or the flag's rules there, whole
 * (a draft of the targeting tab) — as a change request: what it does, why (optional), confirm. Open while `patch` or
 * `rules` is set.
 */
export function ProposeChangeDialog({
  flag,
  env,
  patch,
  rules,
  submission,
  onOpened,
  onCancel,
  testId = `env-${env}-propose`,
}: {
  flag: Flag;
  env: string;
  patch?: EnvironmentPatch | undefined;
  /** The rules proposed, in order, and the rules as they are (to say what changes). */
  rules?: { before: readonly RuleShape[]; after: readonly RuleShape[] } | undefined;
  submission: Submission;
  onOpened: (request: ChangeRequest) => void;
  onCancel: () => void;
  testId?: string;
}) {
  const [description, setDescription] = useState('');
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  const open = patch !== undefined || rules !== undefined;
  useEffect(() => {
    if (open) setDescription('');
  }, [open]);
  const propose = useAction(async () => {
    const proposal: ChangeProposal | undefined = rules ? { rules: specsOf(rules.after) } : patch ? { change: patch } : undefined;
    if (!proposal) return;
    const { data } = await changeRequestsApi.open(flag.key, env, withDescription(proposal, description));
    onOpened(data);
  });
  const comparison = rules ? compareRules(rules.before, rules.after) : undefined;
  return (
    <ConfirmDialog
      open={open}
      title={rules ? `Propose these rules for ${flag.key} in ${env}?` : `Propose a change to ${flag.key} in ${env}?`}
      confirmLabel={rules ? 'Propose rules' : 'Propose change'}
      busy={propose.busy}
      error={propose.error}
      onConfirm={() => void propose.run()}
      onCancel={() => {
        propose.clear();
        onCancel();
      }}
    >
      <p data-testid={`${testId}-what`}>
        <strong>{rules ? describeRulesChange(rules.before, rules.after) : patch ? describeChange(patch, variantLabel) : ''}</strong> in{' '}
        {env}, once approved and applied.
      </p>
      {comparison ? (
        <RulesList rules={comparison.after} empty={`No rules: everyone in ${env} gets the default serve.`} testId={`${testId}-rules`} />
      ) : null}
      <ProposalFields
        submission={submission.mode === 'propose' ? submission : { mode: 'propose', requiredApprovals: undefined, because: 'protected' }}
        env={env}
        description={description}
        onDescription={setDescription}
        testId={testId}
      />
    </ConfirmDialog>
  );
}

/** The change requests waiting in one environment, each with its approvals so far and a link; and a link to all of the flag's. */
export function EnvironmentChangeRequests({
  flag,
  env,
  requests,
  shown,
}: {
  flag: Flag;
  env: string;
  requests: FlagChangeRequests;
  /** Whether to show the section with nothing waiting (a protected environment). */
  shown: boolean;
}) {
  const waiting = waitingOf(requests.items ?? [], env);
  if (!shown && waiting.length === 0) return null;
  const variantLabel = (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
  return (
    <section className="env-change-requests" aria-label={`Change requests in ${env}`} data-testid={`env-${env}-change-requests`}>
      <div className="env-schedules-head">
        <h3>Change requests</h3>
        <Link to={`/change-requests?flag=${encodeURIComponent(flag.key)}&view=all`} className="small-link">
          All of this flag’s
        </Link>
      </div>
      {waiting.length === 0 ? (
        <p className="muted schedule-none" data-testid={`env-${env}-no-change-requests`}>
          {requests.items ? 'None waiting.' : requests.error ? 'The change requests could not be loaded.' : 'Loading…'}
        </p>
      ) : (
        <ul className="schedule-list">
          {waiting.map((r) => (
            <li key={r.id} className="schedule-item" data-testid="change-request-item" data-status={r.status} data-request-id={r.id}>
              <div className="schedule-head">
                <Link to={`/change-requests/${r.id}`} className="schedule-what">
                  {describeRequest(r, { variantLabel, when: formatWhen })}
                </Link>
                <Badge tone={statusTones[r.status]}>{statusLabels[r.status]}</Badge>
              </div>
              <div className="schedule-by muted">
                by {r.author.email} · {relativeTime(r.createdAt, requests.now)} · approvals {approvalCount(r)}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
