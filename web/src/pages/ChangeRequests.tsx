import { useEffect, useState } from 'react';
import { Link, NavLink, useLocation, useParams, useSearchParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { changeRequestsApi, flagsApi, targetingApi, type ChangeRequestAction } from '../api/endpoints.ts';
import type { ChangeRequest, Flag, Rule } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { ProjectBadge, ResourceProject, useProjects } from '../auth/projects.tsx';
import { Diff } from '../components/Diff.tsx';
import { RulesList } from '../components/RulesList.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, useToast } from '../components/ui.tsx';
import {
  actionsFor,
  approvalCount,
  approvalsPhrase,
  describeRequest,
  isWaiting,
  kindLabel,
  missingApprovals,
  movedSince,
  reviewNote,
  statusLabels,
  statusTones,
  waitingBadge,
} from '../lib/change-requests.ts';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { projectOf, withProject } from '../lib/projects.ts';
import { describeGuardrail, guardrailMetrics } from '../lib/guardrails.ts';
import { useAction, useInterval, useNow, useResource } from '../lib/hooks.ts';
import { formatHold, sentence, serveInWords } from '../lib/release-plans.ts';
import { compareRules, rulesMovedSince, rulesOfRequest, rulesPhrase } from '../lib/rules-draft.ts';
import { formatUtc, formatWhen, relativeToNow } from '../lib/schedules.ts';
import './ChangeRequests.css';

/** How many the list (and the navigation's count) asks for at once. */
const pageSize = 100;
/** How often a list or a request is asked again (others review meanwhile). */
const refreshEveryMs = 15_000;
/** …and the navigation's count. */
const navRefreshEveryMs = 60_000;

const reviewListeners = new Set<() => void>();

/** Says that a request was opened, reviewed, applied or withdrawn here: the navigation's count is asked again. */
export function changeRequestsChanged(): void {
  for (const listener of reviewListeners) listener();
}

/**
 * "Change requests" in the navigation, with how many wait in the current project (asked again on every page change,
 * after a review, and every minute).
 */
export function ChangeRequestsNavLink() {
  const { pathname } = useLocation();
  const { current } = useProjects();
  const waiting = useResource(
    async (signal) => (await changeRequestsApi.list(current, { waiting: true, limit: pageSize }, signal)).data.items.length,
    [pathname, current],
  );
  const { reload } = waiting;
  useEffect(() => {
    reviewListeners.add(reload);
    return () => {
      reviewListeners.delete(reload);
    };
  }, [reload]);
  useInterval(reload, navRefreshEveryMs);
  const count = waiting.data === undefined ? undefined : waitingBadge(waiting.data, pageSize);
  return (
    <NavLink to={withProject('/change-requests', current)} data-testid="nav-change-requests">
      Change requests
      {count ? (
        <span className="nav-count" title={`${count} waiting for a review or to be applied`} data-testid="nav-change-requests-count">
          {count}
        </span>
      ) : null}
    </NavLink>
  );
}

/**
 * Change requests: those waiting (open for approvals, or approved and not applied) across every flag of the current
 * project, or all of them; `?flag=` narrows them to one flag's.
 */
export function ChangeRequestsPage() {
  const [params] = useSearchParams();
  const { current } = useProjects();
  const all = params.get('view') === 'all';
  const flagKey = params.get('flag') ?? '';
  const list = useResource(
    async (signal) =>
      (flagKey
        ? await changeRequestsApi.ofFlag(flagKey, { waiting: !all, limit: pageSize }, signal)
        : await changeRequestsApi.list(current, { waiting: !all, limit: pageSize }, signal)
      ).data.items,
    [all, flagKey, current],
  );
  useInterval(list.reload, refreshEveryMs);
  const now = useNow(30_000);
  const link = (view: 'waiting' | 'all') => {
    const next = new URLSearchParams(params);
    if (view === 'all') next.set('view', 'all');
    else next.delete('view');
    const text = next.toString();
    return `/change-requests${text ? `?${text}` : ''}`;
  };
  const items = list.data;

  return (
    <section aria-labelledby="change-requests-title" data-testid="change-requests-page">
      <div className="page-head">
        <div>
          <h1 id="change-requests-title">Change requests{flagKey ? <> of {flagKey}</> : null}</h1>
          {flagKey ? (
            <p className="breadcrumb">
              <Link to={`/flags/${encodeURIComponent(flagKey)}`}>Back to {flagKey}</Link> ·{' '}
              <Link to={withProject(all ? '/change-requests?view=all' : '/change-requests', current)}>Every flag’s</Link>
            </p>
          ) : null}
        </div>
      </div>
      <p className="field-hint">
        A protected environment is changed only through change requests: each needs approvals by people other than its author, then anyone
        with the editor role applies it. A request whose fields changed since it was opened is not applied but closed as a conflict.
      </p>
      <nav className="tabs" aria-label="Change request lists">
        <Link to={link('waiting')} className={all ? 'tab' : 'tab active'} aria-current={all ? undefined : 'page'} data-testid="cr-waiting">
          Waiting
        </Link>
        <Link to={link('all')} className={all ? 'tab active' : 'tab'} aria-current={all ? 'page' : undefined} data-testid="cr-all">
          All
        </Link>
      </nav>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {!items ? (
        list.error ? null : (
          <Loading what="change requests" />
        )
      ) : items.length === 0 ? (
        <Empty>
          <p>{all ? 'No change requests yet.' : 'Nothing waits for a review.'}</p>
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="change-requests-title" data-testid="change-requests-table">
            <thead>
              <tr>
                <th scope="col">Change</th>
                <th scope="col">Flag</th>
                <th scope="col">Environment</th>
                <th scope="col">Kind</th>
                <th scope="col">Author</th>
                <th scope="col">Approvals</th>
                <th scope="col">Status</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id} data-testid={`change-request-row-${r.id}`} data-flag={r.flagKey} data-status={r.status}>
                  <td>
                    <Link to={`/change-requests/${r.id}`} data-testid="change-request-link">
                      {describeRequest(r, { when: formatWhen })}
                    </Link>
                  </td>
                  <td>
                    <Link to={`/flags/${encodeURIComponent(r.flagKey)}`}>
                      <code>{r.flagKey}</code>
                    </Link>
                  </td>
                  <td>{r.environment}</td>
                  <td>{kindLabel(r.kind)}</td>
                  <td>{r.author.email}</td>
                  <td data-testid="change-request-approvals">{approvalCount(r)}</td>
                  <td>
                    <Badge tone={statusTones[r.status]}>{statusLabels[r.status]}</Badge>
                  </td>
                  <td>
                    <time dateTime={r.createdAt} title={formatDateTime(r.createdAt)}>
                      {relativeTime(r.createdAt, now)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {items && items.length >= pageSize ? <p className="field-hint">The newest {pageSize} are shown.</p> : null}
    </section>
  );
}

/** One change request: what it changes and why, its approvals and comments, and what the signed-in person may do with it. */
export function ChangeRequestPage() {
  const { id = '' } = useParams();
  const loaded = useResource(async (signal) => (await changeRequestsApi.get(id, signal)).data, [id]);
  const request = loaded.data;
  // The flag, for its variants' names and its state now (has what the request changes moved since?).
  const flag = useResource(
    async () => (request ? (await flagsApi.get(request.flagKey)).data : undefined),
    [request?.flagKey, request?.version],
  );
  // A waiting request of rules: the rules there now (have they moved since it was opened?).
  const rulesNow = useResource(
    async () =>
      request?.kind === 'rules' && isWaiting(request)
        ? (await targetingApi.rules(request.flagKey, request.environment)).data.items
        : undefined,
    [request?.id, request?.kind, request?.version],
  );
  useInterval(() => {
    if (request && isWaiting(request)) loaded.reload();
    if (request?.kind === 'rules' && isWaiting(request)) rulesNow.reload();
  }, refreshEveryMs);

  if (loaded.error instanceof ApiError && loaded.error.status === 404) {
    return (
      <Empty>
        <h1>No such change request</h1>
        <p>
          <Link to="/change-requests">Back to the change requests</Link>
        </p>
      </Empty>
    );
  }
  if (!request) {
    return (
      <>
        <ErrorBox error={loaded.error} onRetry={loaded.reload} />
        {loaded.error ? null : <Loading what="the change request" />}
      </>
    );
  }
  // Its project's roles count on this page, and its project becomes the current one.
  return (
    <ResourceProject project={projectOf(request)}>
      <RequestDetail
        key={request.id}
        request={request}
        flag={flag.data}
        rulesNow={rulesNow.data}
        onChanged={loaded.setData}
        reload={loaded.reload}
      />
    </ResourceProject>
  );
}

function RequestDetail({
  request,
  flag,
  rulesNow,
  onChanged,
  reload,
}: {
  request: ChangeRequest;
  flag: Flag | undefined;
  /** The flag's rules in the environment now (a waiting request of rules). */
  rulesNow: Rule[] | undefined;
  onChanged: (request: ChangeRequest) => void;
  reload: () => void;
}) {
  const { me, role } = usePermissions();
  // Reviewing counts the role in the request's project (no role there: nothing to do).
  const reviewer = { sub: me.sub, role: role ?? 'viewer' };
  const toast = useToast();
  const now = useNow(30_000);
  const variantLabel = (key: string) => flag?.variants.find((v) => v.key === key)?.name || key;
  const what = describeRequest(request, { variantLabel, when: formatWhen });
  const can = actionsFor(request, reviewer);
  const note = reviewNote(request, reviewer);
  const [confirming, setConfirming] = useState<'reject' | 'apply' | 'cancel' | undefined>(undefined);
  const [reason, setReason] = useState('');
  const [reasonMissing, setReasonMissing] = useState(false);
  const [comment, setComment] = useState('');

  const act = useAction(async (action: ChangeRequestAction, text?: string) => {
    try {
      const { data } = await changeRequestsApi.act(request.id, action, text);
      onChanged(data);
      changeRequestsChanged();
      setConfirming(undefined);
      toast(
        action === 'approve'
          ? data.status === 'approved'
            ? 'Approved: it can be applied now.'
            : `Approved: it needs ${approvalsPhrase(missingApprovals(data))} more.`
          : action === 'reject'
            ? 'Rejected.'
            : action === 'cancel'
              ? 'Withdrawn.'
              : data.kind === 'change'
                ? `Applied: ${request.flagKey} in ${request.environment} changed (SDKs get it within a second).`
                : data.kind === 'schedule'
                  ? 'Applied: the scheduled change is planned.'
                  : data.kind === 'release-plan'
                    ? 'Applied: the release started.'
                    : data.kind === 'rules'
                      ? `Applied: the rules of ${request.flagKey} in ${request.environment} are set (SDKs get them within a second).`
                      : `Applied in ${request.environment}.`,
      );
    } catch (error) {
      // Whatever happened meanwhile (another review, a conflict that closed it): show the request as it is now.
      setConfirming(undefined);
      reload();
      throw error;
    }
  });
  const addComment = useAction(async () => {
    const { data } = await changeRequestsApi.comment(request.id, comment.trim());
    onChanged(data);
    setComment('');
  });
  const scheduled = request.kind === 'schedule';
  const diffAfter =
    request.status === 'applied'
      ? scheduled
        ? 'as the scheduled change makes it'
        : 'as the request made it'
      : isWaiting(request)
        ? scheduled
          ? 'as it will be at the scheduled time'
          : 'as it will be once applied'
        : 'as it would have been';
  const moved = isWaiting(request) && flag ? movedSince(request, flag.environments[request.environment]) : [];
  const rulesMoved = isWaiting(request) && rulesMovedSince(request, rulesNow);
  const rules = request.kind === 'rules' ? rulesOfRequest(request) : undefined;
  const ruleComparison = rules ? compareRules(rules.before, rules.after) : undefined;
  const flagLink = `/flags/${encodeURIComponent(request.flagKey)}`;

  return (
    <section aria-labelledby="change-request-title" data-testid="change-request" data-status={request.status}>
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link to={withProject('/change-requests', projectOf(request))}>Change requests</Link> /{' '}
            <ProjectBadge project={projectOf(request)} />
          </p>
          <h1 id="change-request-title">
            <span data-testid="change-request-what">{what}</span>{' '}
            <Badge tone={statusTones[request.status]} testId="change-request-status">
              {statusLabels[request.status]}
            </Badge>
          </h1>
          <p className="flag-meta">
            <Link to={flagLink}>
              <code className="flag-key">{request.flagKey}</code>
            </Link>
            <span>
              in <strong data-testid="change-request-environment">{request.environment}</strong>
            </span>
            <Badge tone="info">{kindLabel(request.kind)}</Badge>
            <span className="muted">
              opened by {request.author.email}{' '}
              <time dateTime={request.createdAt} title={formatDateTime(request.createdAt)}>
                {relativeTime(request.createdAt, now)}
              </time>{' '}
              on version {request.plannedVersion} of the flag
            </span>
          </p>
        </div>
      </div>

      {request.description ? (
        <blockquote className="cr-description" data-testid="change-request-description">
          {request.description}
        </blockquote>
      ) : null}

      {request.outcome && (request.status === 'conflicted' || request.status === 'failed') ? (
        <div className="alert alert-warn" data-testid="change-request-outcome">
          <span>Not applied: {sentence(request.outcome)}</span>
        </div>
      ) : null}
      {request.rejection ? (
        <div className="alert alert-error" data-testid="change-request-rejection">
          <span>
            Rejected by {request.rejection.email} {relativeTime(request.rejection.at, now)}: “{request.rejection.comment}”
          </span>
        </div>
      ) : null}
      {request.status === 'cancelled' && request.outcome ? <p className="muted">{sentence(request.outcome)}</p> : null}
      {request.status === 'applied' ? (
        <div className="alert alert-info" data-testid="change-request-applied">
          <span>
            Applied by {request.appliedBy?.email ?? 'someone'} {request.closedAt ? relativeTime(request.closedAt, now) : ''}
            {request.result.flagVersion !== undefined ? ` (version ${request.result.flagVersion} of the flag)` : ''}.{' '}
            {request.result.scheduleId || request.result.releasePlanId ? <Link to={flagLink}>See it on the flag’s page</Link> : null}
            {request.kind === 'rules' ? (
              <Link to={`${flagLink}/targeting?environment=${encodeURIComponent(request.environment)}`}>See the rules</Link>
            ) : null}
          </span>
        </div>
      ) : null}
      {rulesMoved ? (
        <div className="alert alert-warn" data-testid="change-request-rules-moved">
          <span>
            The rules in {request.environment} changed since this was opened: applying it would be refused as a conflict. Open a new request
            from the rules as they are now.
          </span>
        </div>
      ) : null}
      {moved.length > 0 ? (
        <div className="alert alert-warn" data-testid="change-request-moved">
          <span>
            {moved.join(', ')} changed in {request.environment} since this was opened: applying it would be refused as a conflict. Open a
            new request against the flag as it is now.
          </span>
        </div>
      ) : null}

      <div className="cr-grid">
        <div className="card">
          <h2>What it changes</h2>
          {request.schedule ? (
            <p data-testid="change-request-when">
              Scheduled for <strong>{formatWhen(request.schedule.runAt)}</strong> ({relativeToNow(request.schedule.runAt, now)},{' '}
              {formatUtc(new Date(request.schedule.runAt))}): applying the request plans it; it runs then.
            </p>
          ) : null}
          {request.releasePlan ? (
            <div data-testid="change-request-plan">
              {request.releasePlan.milestones ? (
                <ol className="plan-timeline">
                  {request.releasePlan.milestones.map((m, i) => (
                    <li key={i} className="plan-milestone" data-testid="change-request-milestone">
                      <span className="plan-milestone-serve">{serveInWords(m.serve, variantLabel)}</span>
                      <span className="plan-milestone-hold muted">
                        {m.approval ? 'after an approval · ' : ''}holds {formatHold(m.holdSeconds)}
                      </span>
                    </li>
                  ))}
                </ol>
              ) : (
                <p>The milestones of the saved template {request.releasePlan.templateId}, as they are when it is applied.</p>
              )}
              {request.releasePlan.guardrails?.length ? (
                <p className="field-hint">
                  Guarded by {guardrailMetrics(request.releasePlan.guardrails).join(', ')}:{' '}
                  {request.releasePlan.guardrails.map((g) => `${g.metric} — ${describeGuardrail(g, variantLabel)}`).join('; ')}.
                </p>
              ) : null}
              <p className="field-hint">Applying the request starts the release: its first milestone is served at once.</p>
            </div>
          ) : null}
          {ruleComparison ? (
            <>
              <p className="field-hint">
                The rules of {request.flagKey} in {request.environment}, whole and in order, as they were when the request was opened and as
                it proposes them:{' '}
                {request.status === 'applied'
                  ? 'applying it replaced them with exactly these.'
                  : isWaiting(request)
                    ? 'applying it replaces them with exactly these.'
                    : 'it was not applied.'}
              </p>
              <div className="cr-rules" data-testid="change-request-rules">
                <div>
                  <h3>As they were</h3>
                  <RulesList
                    rules={ruleComparison.before}
                    empty="No rules: everyone got the default serve."
                    testId="change-request-rules-before"
                  />
                </div>
                <div>
                  <h3>{request.status === 'applied' ? 'As the request set them' : 'Proposed'}</h3>
                  <RulesList
                    rules={ruleComparison.after}
                    empty="No rules: everyone gets the default serve."
                    testId="change-request-rules-after"
                  />
                </div>
              </div>
              {request.diff.length > 0 ? (
                <details className="diff-snapshot">
                  <summary>As JSON</summary>
                  <div data-testid="change-request-diff">
                    <Diff changes={request.diff} />
                  </div>
                </details>
              ) : null}
            </>
          ) : request.kind !== 'release-plan' ? (
            <>
              <p className="field-hint">
                {request.environment} as it was when the request was opened, and {diffAfter}:
              </p>
              <div data-testid="change-request-diff">
                <Diff changes={request.diff} />
              </div>
            </>
          ) : null}
        </div>

        <div className="card" data-testid="change-request-review">
          <h2>
            Approvals <span className="muted">{approvalCount(request)}</span>
          </h2>
          {request.approvals.length === 0 ? (
            <p className="muted">None yet: it needs {approvalsPhrase(request.requiredApprovals)} by people other than its author.</p>
          ) : (
            <ul className="cr-approvals" data-testid="change-request-approvals">
              {request.approvals.map((a) => (
                <li key={a.userId}>
                  ✓ {a.email}{' '}
                  <time className="muted" dateTime={a.at} title={formatDateTime(a.at)}>
                    {relativeTime(a.at, now)}
                  </time>
                </li>
              ))}
            </ul>
          )}
          {note ? (
            <p className="field-hint" data-testid="change-request-note">
              {note}
            </p>
          ) : null}
          <div className="schedule-actions">
            {can.approve ? (
              <Button variant="primary" onClick={() => void act.run('approve')} busy={act.busy} data-testid="change-request-approve">
                Approve
              </Button>
            ) : null}
            {can.apply ? (
              <Button variant="primary" onClick={() => setConfirming('apply')} disabled={act.busy} data-testid="change-request-apply">
                Apply…
              </Button>
            ) : null}
            {can.reject ? (
              <Button
                variant="danger"
                onClick={() => {
                  setReason('');
                  setReasonMissing(false);
                  setConfirming('reject');
                }}
                disabled={act.busy}
                data-testid="change-request-reject"
              >
                Reject…
              </Button>
            ) : null}
            {can.withdraw ? (
              <Button onClick={() => setConfirming('cancel')} disabled={act.busy} data-testid="change-request-withdraw">
                Withdraw…
              </Button>
            ) : null}
          </div>
          {confirming ? null : <ErrorBox error={act.error} />}
        </div>
      </div>

      <section className="card cr-comments" aria-labelledby="cr-comments-title" data-testid="change-request-comments">
        <h2 id="cr-comments-title">Comments</h2>
        {request.comments.length === 0 ? <p className="muted">No comments.</p> : null}
        <ul className="cr-comment-list">
          {request.comments.map((c) => (
            <li key={c.id} className="cr-comment" data-testid="change-request-comment">
              <div className="muted">
                {c.author.email} ·{' '}
                <time dateTime={c.at} title={formatDateTime(c.at)}>
                  {relativeTime(c.at, now)}
                </time>
              </div>
              <p>{c.body}</p>
            </li>
          ))}
        </ul>
        {can.comment ? (
          <form
            className="cr-comment-form"
            onSubmit={(event) => {
              event.preventDefault();
              if (comment.trim()) void addComment.run();
            }}
          >
            <Field label="Add a comment">
              <textarea
                rows={3}
                maxLength={2000}
                value={comment}
                onChange={(e) => setComment(e.target.value)}
                data-testid="change-request-comment-body"
              />
            </Field>
            <ErrorBox error={addComment.error} />
            <Button
              type="submit"
              disabled={!comment.trim()}
              busy={addComment.busy}
              busyLabel="Adding…"
              data-testid="change-request-comment-submit"
            >
              Comment
            </Button>
          </form>
        ) : null}
      </section>

      <ConfirmDialog
        open={confirming === 'apply'}
        title={`Apply this change request to ${request.flagKey} in ${request.environment}?`}
        confirmLabel="Apply"
        busy={act.busy}
        error={act.error}
        onConfirm={() => void act.run('apply')}
        onCancel={() => {
          setConfirming(undefined);
          act.clear();
        }}
      >
        <p>
          <strong>{what}</strong>
          {request.kind === 'change'
            ? `: ${request.environment} users get it within a second. The flag’s history records it as ${request.author.email}’s change, approved by ${request.approvals.map((a) => a.email).join(', ')}.`
            : request.kind === 'schedule'
              ? ': the scheduled change is planned as its author’s, and runs at its time.'
              : request.kind === 'release-plan'
                ? ': the release starts as its author’s, its first milestone at once.'
                : request.kind === 'rules'
                  ? request.rules?.length
                    ? `: the rules in ${request.environment} become exactly the ${rulesPhrase(request.rules.length)} proposed, in their order; its users get them within a second.`
                    : `: every rule in ${request.environment} is removed; its users get the default serve within a second.`
                  : `: ${request.environment} users get it within a second.`}
        </p>
        <p className="field-hint">If what it changes moved since it was opened, it is not applied but closed as a conflict.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'reject'}
        title="Reject this change request?"
        confirmLabel="Reject"
        danger
        busy={act.busy}
        error={act.error}
        onConfirm={() => {
          if (!reason.trim()) setReasonMissing(true);
          else void act.run('reject', reason.trim());
        }}
        onCancel={() => {
          setConfirming(undefined);
          act.clear();
        }}
      >
        <p>It is closed and not applied; its author sees why.</p>
        <Field label="Why" error={reasonMissing && !reason.trim() ? 'Say why it is rejected' : undefined}>
          <textarea
            rows={3}
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            data-testid="change-request-reject-reason"
          />
        </Field>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'cancel'}
        title="Withdraw this change request?"
        confirmLabel="Withdraw"
        cancelLabel="Keep it"
        danger
        busy={act.busy}
        error={act.error}
        onConfirm={() => void act.run('cancel')}
        onCancel={() => {
          setConfirming(undefined);
          act.clear();
        }}
      >
        <p>It is closed and never applied. It stays listed, as withdrawn.</p>
      </ConfirmDialog>
    </section>
  );
}
