import { Fragment, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { webhooksApi, type WebhookInput } from '../api/endpoints.ts';
import type { Page, Webhook, WebhookDelivery, WebhookEventFilter, WebhookFormat } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { ProjectBadge, useProjectName, useProjects } from '../auth/projects.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useCopy, useToast } from '../components/ui.tsx';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { projectOf, withProject } from '../lib/projects.ts';
import { useAction, useFocusOnOpen, useInterval, useNow, useResource } from '../lib/hooks.ts';
import {
  answerOf,
  checkUrl,
  coveredByGroup,
  deliveryPollMs,
  deliveryTone,
  describeDelivery,
  describeFilters,
  eventGroupFilters,
  eventGroups,
  eventLabel,
  eventTypeLabels,
  formatLabels,
  groupOf,
  lastAnswerOf,
  nextAttemptOf,
  normalizeFilters,
  refreshLimit,
  signatureHeader,
  subscribableEventTypes,
  urlErrorOf,
  verifySnippet,
  webhookPatch,
  withFilter,
  withOlder,
  withRefreshed,
} from '../lib/webhooks.ts';
import './Webhooks.css';

/** Deliveries asked per page of the log. */
const pageSize = 20;

const formats: { format: WebhookFormat; title: string; text: string }[] = [
  {
    format: 'json',
    title: 'JSON',
    text: 'The event as documented: its id, type, flag, environment, who did it, a one-sentence summary and its details. For your own services.',
  },
  {
    format: 'slack',
    title: 'Slack',
    text: 'A message, { "text": … }, as a Slack incoming webhook takes it: paste the Slack webhook’s URL above.',
  },
];

/**
 * A project's webhooks (its admins only): subscribe URLs to its flag and release events, see each delivery and how the
 * receiver answered.
 */
export function WebhooksPage() {
  const { canAdmin, rolePhrase } = usePermissions();
  if (!canAdmin) {
    return (
      <section aria-labelledby="webhooks-title">
        <h1 id="webhooks-title">Webhooks</h1>
        <ReadOnlyNote
          reason={`${rolePhrase}: webhooks are managed by the project’s admins (a target URL can be a credential, as Slack’s are).`}
        />
      </section>
    );
  }
  return <WebhooksAdmin />;
}

/** A secret to show once: a new webhook's, or one just rotated. */
interface ShownSecret {
  webhook: Webhook;
  secret: string;
  rotated: boolean;
}

function WebhooksAdmin() {
  const toast = useToast();
  const { current, follow } = useProjects();
  const projectName = useProjectName(current);
  const webhooks = useResource(async (signal) => (await webhooksApi.list(current, signal)).data.items, [current]);
  const [params, setParams] = useSearchParams();
  const selectedId = params.get('webhook');
  const select = (id: string | undefined) => setParams(id ? { project: current, webhook: id } : { project: current }, { replace: false });
  // A link to a webhook of another project: that project becomes the current one (its list then holds it).
  const linked = useResource(
    async (signal) =>
      selectedId && webhooks.data && !webhooks.data.some((w) => w.id === selectedId)
        ? (await webhooksApi.get(selectedId, signal)).data
        : undefined,
    [selectedId, webhooks.data],
  );
  const linkedProject = linked.data ? projectOf(linked.data) : undefined;
  useEffect(() => {
    if (linkedProject && linkedProject !== current) follow(linkedProject);
  }, [linkedProject, current, follow]);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ShownSecret | undefined>(undefined);

  const put = (webhook: Webhook) => {
    const list = webhooks.data ?? [];
    webhooks.setData(list.some((w) => w.id === webhook.id) ? list.map((w) => (w.id === webhook.id ? webhook : w)) : [...list, webhook]);
  };
  const remove = (id: string) => webhooks.setData((webhooks.data ?? []).filter((w) => w.id !== id));

  const create = useAction(async (input: WebhookInput) => {
    const { data } = await webhooksApi.create(current, input);
    const { secret, ...webhook } = data;
    put(webhook);
    setShown({ webhook, secret, rotated: false });
    setCreating(false);
    select(webhook.id);
  });
  const toggle = useAction(async (webhook: Webhook) => {
    const { data } = await webhooksApi.update(webhook, { enabled: !webhook.enabled });
    put(data);
    toast(data.enabled ? `“${data.name}” resumed: its waiting deliveries are sent now.` : `“${data.name}” paused: its deliveries wait.`);
  });

  const list = webhooks.data;
  const selected = list?.find((w) => w.id === selectedId);
  const formOpen = creating || (list !== undefined && list.length === 0);

  return (
    <section aria-labelledby="webhooks-title">
      <div className="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <div className="page-actions">
          {formOpen ? null : (
            <Button variant="primary" onClick={() => setCreating(true)} data-testid="new-webhook">
              New webhook
            </Button>
          )}
        </div>
      </div>
      <p className="field-hint">
        A webhook POSTs flag changes and the release automation’s events (scheduled changes, release plans) to a URL as they happen, signed
        with its secret; failed deliveries are tried again with a growing delay. These are the webhooks of project{' '}
        <strong data-testid="webhooks-project">{projectName}</strong>, for its flags’ events; only its admins see them.
      </p>
      {shown ? <SecretPanel shown={shown} onDone={() => setShown(undefined)} /> : null}
      {formOpen ? (
        <WebhookForm
          title="New webhook"
          submitLabel="Create webhook"
          busyLabel="Creating…"
          busy={create.busy}
          error={create.error}
          onSubmit={(input) => void create.run(input)}
          onCancel={
            list && list.length > 0
              ? () => {
                  setCreating(false);
                  create.clear();
                }
              : undefined
          }
          testId="webhook-form"
        />
      ) : null}
      <ErrorBox error={webhooks.error ?? toggle.error} onRetry={webhooks.error || toggle.error ? webhooks.reload : undefined} />
      {!list ? (
        webhooks.error ? null : (
          <Loading what="webhooks" />
        )
      ) : list.length === 0 ? (
        <Empty>No webhooks yet: create one above.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="webhooks-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Format</th>
                <th scope="col">Active</th>
                <th scope="col">Created by</th>
              </tr>
            </thead>
            <tbody>
              {list.map((w) => (
                <tr key={w.id} aria-current={w.id === selectedId ? 'true' : undefined} data-testid={`webhook-row-${w.name}`}>
                  <td>
                    <Link
                      to={withProject(`?webhook=${encodeURIComponent(w.id)}`, current)}
                      className="webhook-name-link"
                      data-testid="webhook-open"
                    >
                      {w.name}
                    </Link>
                  </td>
                  <td>
                    <code className="webhook-url">{w.url}</code>
                  </td>
                  <td>
                    <EventTags events={w.events} />
                  </td>
                  <td>
                    <Badge tone={w.format === 'slack' ? 'info' : 'neutral'}>{formatLabels[w.format]}</Badge>
                  </td>
                  <td>
                    <EnabledSwitch webhook={w} busy={toggle.busy} onToggle={() => void toggle.run(w)} />
                  </td>
                  <td>
                    <span className="webhook-by">{w.createdBy.email}</span>
                    <div className="muted" title={formatDateTime(w.createdAt)}>
                      {relativeTime(w.createdAt)}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list && list.length > 0 && !selected ? (
        <p className="field-hint">Open a webhook to change it, test it and see its deliveries.</p>
      ) : null}
      {selected ? (
        <WebhookDetail
          key={selected.id}
          webhook={selected}
          onChanged={put}
          onToggle={() => void toggle.run(selected)}
          toggling={toggle.busy}
          onRotated={(webhook, secret) => {
            put(webhook);
            setShown({ webhook, secret, rotated: true });
            window.scrollTo({ top: 0 });
          }}
          onDeleted={() => {
            remove(selected.id);
            if (shown?.webhook.id === selected.id) setShown(undefined);
            select(undefined);
            toast(`“${selected.name}” deleted; it receives no more events.`);
          }}
          onClose={() => select(undefined)}
        />
      ) : null}
    </section>
  );
}

function EventTags({ events }: { events: readonly WebhookEventFilter[] }) {
  return (
    <span className="webhook-events" title={events.join(', ')}>
      {describeFilters(events).map((label) => (
        <span key={label} className="tag">
          {label}
        </span>
      ))}
    </span>
  );
}

function EnabledSwitch({ webhook, busy, onToggle }: { webhook: Webhook; busy: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={webhook.enabled}
      aria-label={`${webhook.name} active`}
      className={`switch${webhook.enabled ? ' on' : ''}`}
      disabled={busy}
      title={webhook.enabled ? 'Pause: deliveries wait until it is resumed' : 'Resume: waiting deliveries are sent'}
      onClick={onToggle}
      data-testid="webhook-enabled"
    >
      <span className="switch-knob" />
      <span className="switch-text">{webhook.enabled ? 'On' : 'Paused'}</span>
    </button>
  );
}

/** The create and edit form: name, URL, events (all, groups, or specific types), format. */
function WebhookForm({
  title,
  initial,
  submitLabel,
  busyLabel,
  busy,
  error,
  onSubmit,
  onCancel,
  testId,
}: {
  title: string;
  initial?: Webhook;
  submitLabel: string;
  busyLabel: string;
  busy: boolean;
  error: unknown;
  onSubmit: (input: WebhookInput) => void;
  onCancel?: (() => void) | undefined;
  testId: string;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [url, setUrl] = useState(initial?.url ?? '');
  const [events, setEvents] = useState<WebhookEventFilter[]>(initial ? [...initial.events] : ['flag.*']);
  const [format, setFormat] = useState<WebhookFormat>(initial?.format ?? 'json');
  const [enabled, setEnabled] = useState(true);
  const [submitted, setSubmitted] = useState(false);
  const [showTypes, setShowTypes] = useState(() => normalizeFilters(events).some((f) => !f.endsWith('*')));
  const first = useFocusOnOpen<HTMLInputElement>();
  const titleId = useId();
  const typesId = useId();

  const chosen = normalizeFilters(events);
  const urlProblem = submitted ? checkUrl(url) : undefined;
  const serviceUrlError = urlErrorOf(error);
  const eventsProblem = submitted && chosen.length === 0 ? 'Choose at least one kind of event.' : undefined;
  const all = events.includes('*');
  const set = (filter: WebhookEventFilter, on: boolean) => setEvents(withFilter(events, filter, on));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!name.trim() || checkUrl(url) || chosen.length === 0) return;
    onSubmit({ name: name.trim(), url: url.trim(), events: chosen, format, ...(initial ? {} : { enabled }) });
  };

  return (
    <form className="card form webhook-form" onSubmit={submit} noValidate aria-labelledby={titleId} data-testid={testId}>
      <h2 id={titleId} className="webhook-form-title">
        {title}
      </h2>
      <div className="form-grid">
        <Field label="Name" error={submitted && !name.trim() ? 'Give it a name.' : undefined}>
          <input
            ref={first}
            type="text"
            placeholder="Where it goes, e.g. #releases on Slack"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
            required
            data-testid="webhook-name"
          />
        </Field>
        <Field
          label="URL"
          error={urlProblem ?? serviceUrlError}
          hint="Must be reachable from ToggleMaster; internal and private addresses are refused unless the deployment allows them."
        >
          <input
            type="url"
            inputMode="url"
            placeholder="https://example.com/hooks/togglemaster"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            maxLength={2048}
            required
            spellCheck={false}
            data-testid="webhook-url"
          />
        </Field>
      </div>
      <fieldset className="webhook-event-choice" aria-describedby={eventsProblem ? `${typesId}-error` : undefined}>
        <legend className="field-label">Events</legend>
        <label className="checkbox">
          <input type="checkbox" checked={all} onChange={(e) => set('*', e.target.checked)} data-testid="webhook-events-all" />
          <span>
            <strong>All events</strong> <span className="field-hint">(kinds added later too)</span>
          </span>
        </label>
        <div className="webhook-event-groups">
          {eventGroupFilters.map((group) => (
            <label key={group} className="kind-choice">
              <input
                type="checkbox"
                checked={all || events.includes(group)}
                disabled={all}
                onChange={(e) => set(group, e.target.checked)}
                data-testid={`webhook-events-${group.slice(0, -2)}`}
              />
              <span>
                <strong>{eventGroups[group].label}</strong>
                <span className="field-hint">{eventGroups[group].hint}</span>
              </span>
            </label>
          ))}
        </div>
        <button
          type="button"
          className="link"
          aria-expanded={showTypes}
          aria-controls={typesId}
          onClick={() => setShowTypes(!showTypes)}
          data-testid="webhook-events-specific"
        >
          {showTypes ? 'Hide specific events' : 'Specific events…'}
        </button>
        {showTypes ? (
          <div id={typesId} className="webhook-event-types">
            {eventGroupFilters.map((group) => (
              <fieldset key={group} className="webhook-event-type-group">
                <legend>{eventGroups[group].label}</legend>
                {subscribableEventTypes
                  .filter((type) => groupOf(type) === group)
                  .map((type) => {
                    const covered = coveredByGroup(events, type);
                    return (
                      <label key={type} className="checkbox" title={covered ? 'Included: a wider choice above takes it' : type}>
                        <input
                          type="checkbox"
                          checked={covered || events.includes(type)}
                          disabled={covered}
                          onChange={(e) => set(type, e.target.checked)}
                          data-testid={`webhook-event-${type}`}
                        />
                        {eventTypeLabels[type]}
                      </label>
                    );
                  })}
              </fieldset>
            ))}
          </div>
        ) : null}
        {eventsProblem ? (
          <span id={`${typesId}-error`} className="field-error" role="alert">
            {eventsProblem}
          </span>
        ) : (
          <span className="field-hint" data-testid="webhook-events-summary">
            {chosen.length === 0 ? 'No events chosen.' : `Receives: ${describeFilters(chosen).join(', ')}.`} Every webhook also receives the
            test event.
          </span>
        )}
      </fieldset>
      <fieldset className="kind-choices">
        <legend className="field-label">Format</legend>
        {formats.map((f) => (
          <label key={f.format} className="kind-choice">
            <input
              type="radio"
              name={`${testId}-format`}
              value={f.format}
              checked={format === f.format}
              onChange={() => setFormat(f.format)}
              data-testid={`webhook-format-${f.format}`}
            />
            <span>
              <strong>{f.title}</strong>
              <span className="field-hint">{f.text}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {initial ? null : (
        <label className="checkbox">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="webhook-enabled-on-create" />
          Send events as soon as it is created (untick to create it paused)
        </label>
      )}
      {error !== undefined && error !== null && !serviceUrlError ? <ErrorBox error={error} /> : null}
      <div className="form-actions">
        {onCancel ? (
          <Button onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
        ) : null}
        <Button type="submit" variant="primary" busy={busy} busyLabel={busyLabel} data-testid={`${testId}-submit`}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}

/** The signing secret, shown once (after creating a webhook or rotating its secret), and how a receiver checks it. */
function SecretPanel({ shown, onDone }: { shown: ShownSecret; onDone: () => void }) {
  const copy = useCopy();
  const snippet = useCopy();
  const input = useRef<HTMLInputElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  return (
    <div className="card new-key" role="alert" data-testid="webhook-secret">
      <h2>
        {shown.rotated ? 'New signing secret' : 'Signing secret'} of “{shown.webhook.name}”
      </h2>
      <p>
        <strong>Copy it now: this is the only time it is shown.</strong> Store it as a secret of the receiver, which checks with it that a
        request comes from ToggleMaster.
        {shown.rotated ? ' Deliveries sent from now on are signed with it; the old secret no longer signs anything.' : ''}
      </p>
      <div className="copy-row">
        <input
          ref={input}
          readOnly
          value={shown.secret}
          className="code"
          aria-label="The signing secret"
          onFocus={(e) => e.target.select()}
          data-testid="webhook-secret-value"
        />
        <Button
          variant="primary"
          onClick={() => void copy.copy(shown.secret, () => input.current?.select())}
          data-testid="copy-webhook-secret"
        >
          {copy.state === 'copied' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copy.state === 'refused' ? (
        <p className="field-hint">The browser did not allow copying; the secret is selected, press Ctrl+C (⌘C).</p>
      ) : null}
      <section className="snippet" aria-labelledby="verify-title">
        <div className="snippet-head">
          <h3 id="verify-title">Verify the signature</h3>
          <Button
            small
            onClick={() => void snippet.copy(verifySnippet, () => pre.current && window.getSelection()?.selectAllChildren(pre.current))}
          >
            {snippet.state === 'copied' ? 'Copied' : 'Copy code'}
          </Button>
        </div>
        <p className="field-hint">
          Each delivery carries <code>{signatureHeader}: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>, where <code>v1</code> is the
          HMAC-SHA256 of <code>{'${t}.${body}'}</code> (the raw request body) keyed with this secret. Compare it in constant time, and
          refuse an old <code>t</code> so that a captured delivery cannot be replayed. A retried delivery keeps its{' '}
          <code>ToggleMaster-Event-Id</code>, so a receiver can drop a repeat. The details are in <code>docs/webhooks.md</code> of the
          ToggleMaster repository.
        </p>
        <pre ref={pre} className="code" data-testid="webhook-verify-snippet">
          {verifySnippet}
        </pre>
      </section>
      <Button small onClick={onDone} data-testid="webhook-secret-done">
        I have stored it
      </Button>
    </div>
  );
}

/** One webhook opened: its settings and actions, and its delivery log. */
function WebhookDetail({
  webhook,
  onChanged,
  onToggle,
  toggling,
  onRotated,
  onDeleted,
  onClose,
}: {
  webhook: Webhook;
  onChanged: (webhook: Webhook) => void;
  onToggle: () => void;
  toggling: boolean;
  onRotated: (webhook: Webhook, secret: string) => void;
  onDeleted: () => void;
  onClose: () => void;
}) {
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState<'rotate' | 'delete' | undefined>(undefined);
  const [logKey, setLogKey] = useState(0);
  const save = useAction(async (input: WebhookInput) => {
    const patch = webhookPatch(webhook, input);
    if (Object.keys(patch).length > 0) {
      const { data } = await webhooksApi.update(webhook, patch);
      onChanged(data);
      toast(`“${data.name}” saved.`);
    }
    setEditing(false);
  });
  const test = useAction(async () => {
    await webhooksApi.test(webhook.id);
    setLogKey((k) => k + 1);
    toast(webhook.enabled ? 'Test event queued: its delivery shows below.' : 'Test event queued: it waits until the webhook is resumed.');
  });
  const rotate = useAction(async () => {
    const { data } = await webhooksApi.rotateSecret(webhook.id);
    const { secret, ...rest } = data;
    setConfirming(undefined);
    onRotated(rest, secret);
  });
  const remove = useAction(async () => {
    await webhooksApi.delete(webhook.id);
    setConfirming(undefined);
    onDeleted();
  });

  return (
    <section className="card webhook-detail" aria-labelledby="webhook-detail-title" data-testid="webhook-detail">
      <div className="webhook-detail-head">
        <div className="webhook-detail-what">
          <h2 id="webhook-detail-title">
            {webhook.name}{' '}
            {webhook.enabled ? (
              <Badge tone="on">active</Badge>
            ) : (
              <Badge tone="warn" title="Its deliveries wait until it is resumed">
                paused
              </Badge>
            )}{' '}
            <ProjectBadge project={projectOf(webhook)} />
          </h2>
          <code className="webhook-url">{webhook.url}</code>
          <div className="muted">
            {formatLabels[webhook.format]} · <EventTags events={webhook.events} /> · created by {webhook.createdBy.email}{' '}
            {relativeTime(webhook.createdAt)}
          </div>
        </div>
        <Button small variant="ghost" onClick={onClose} aria-label={`Close ${webhook.name}`}>
          Close
        </Button>
      </div>
      <div className="webhook-actions">
        <Button variant="primary" onClick={() => void test.run()} busy={test.busy} busyLabel="Sending…" data-testid="webhook-test">
          Send test event
        </Button>
        <Button onClick={() => setEditing(true)} disabled={editing} data-testid="webhook-edit">
          Edit
        </Button>
        <Button onClick={onToggle} busy={toggling} data-testid="webhook-pause">
          {webhook.enabled ? 'Pause' : 'Resume'}
        </Button>
        <Button onClick={() => setConfirming('rotate')} data-testid="webhook-rotate">
          Rotate secret
        </Button>
        <Button variant="danger" onClick={() => setConfirming('delete')} data-testid="webhook-delete">
          Delete
        </Button>
      </div>
      <ErrorBox error={test.error} />
      {editing ? (
        <WebhookForm
          title={`Edit “${webhook.name}”`}
          initial={webhook}
          submitLabel="Save"
          busyLabel="Saving…"
          busy={save.busy}
          error={save.error}
          onSubmit={(input) => void save.run(input)}
          onCancel={() => {
            setEditing(false);
            save.clear();
          }}
          testId="webhook-edit-form"
        />
      ) : null}
      <DeliveryLog webhook={webhook} refreshKey={logKey} />
      <ConfirmDialog
        open={confirming === 'rotate'}
        title={`Rotate the secret of “${webhook.name}”?`}
        confirmLabel="Rotate secret"
        busy={rotate.busy}
        error={rotate.error}
        onConfirm={() => void rotate.run()}
        onCancel={() => {
          setConfirming(undefined);
          rotate.clear();
        }}
      >
        <p>
          A new secret is made and shown once. Deliveries sent from then on are signed with it, and the old one stops signing at once:
          update the receiver right away, or it refuses them (they are tried again for a while).
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'delete'}
        title={`Delete “${webhook.name}”?`}
        confirmLabel="Delete webhook"
        danger
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => void remove.run()}
        onCancel={() => {
          setConfirming(undefined);
          remove.clear();
        }}
      >
        <p>
          It receives no more events; its waiting deliveries and its delivery log are deleted with it. To stop it for a while, pause it
          instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/**
 * A webhook's deliveries, newest first, asked again on its own while one is pending (every 2 s while one is due, so
 * a test event's answer appears by itself) and on "Refresh"; "Show older" appends the next page.
 */
function DeliveryLog({ webhook, refreshKey }: { webhook: Webhook; refreshKey: number }) {
  const toast = useToast();
  const loaded = useRef<Page<WebhookDelivery> | undefined>(undefined);
  const lastAsked = useRef(0);
  const log = useResource(
    async (signal) => {
      lastAsked.current = Date.now();
      const { data } = await webhooksApi.deliveries(webhook.id, { limit: refreshLimit(loaded.current, pageSize) }, signal);
      return withRefreshed(loaded.current, data);
    },
    [webhook.id, refreshKey],
  );
  const feed = log.data;
  loaded.current = feed;
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const older = useAction(async () => {
    const from = loaded.current;
    if (!from?.nextCursor) return;
    const { data } = await webhooksApi.deliveries(webhook.id, { limit: pageSize, cursor: from.nextCursor });
    log.setData(withOlder(loaded.current ?? from, data));
  });
  const redeliver = useAction(async (delivery: WebhookDelivery) => {
    await webhooksApi.redeliver(webhook.id, delivery.id);
    log.reload();
    toast(`${eventLabel(delivery.eventType)} queued again.`);
  });

  const items = feed?.items ?? [];
  const paused = !webhook.enabled;
  const pending = items.some((d) => d.status === 'pending');
  const now = useNow(1000, pending);
  const pollMs = deliveryPollMs(items, { now, paused });
  useInterval(
    () => {
      if (pollMs !== undefined && !log.loading && Date.now() - lastAsked.current >= pollMs) log.reload();
    },
    1000,
    pollMs !== undefined,
  );
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section className="webhook-log" aria-labelledby="webhook-log-title">
      <div className="webhook-log-head">
        <h3 id="webhook-log-title">Deliveries</h3>
        <span className="muted" aria-live="polite">
          {pollMs !== undefined ? 'Watching pending deliveries…' : paused && pending ? 'Paused: pending deliveries wait.' : ''}
        </span>
        <Button small onClick={log.reload} data-testid="webhook-log-refresh">
          Refresh
        </Button>
      </div>
      <ErrorBox error={log.error ?? redeliver.error} onRetry={log.error ? log.reload : undefined} />
      {!feed ? (
        log.error ? null : (
          <Loading what="deliveries" />
        )
      ) : items.length === 0 ? (
        <Empty>No deliveries yet. Events this webhook subscribes to show here as they are sent; try “Send test event”.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table webhook-deliveries" data-testid="webhook-deliveries">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Event</th>
                <th scope="col">Created</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next attempt</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => {
                const expanded = open.has(d.id);
                const detailId = `delivery-${webhook.id}-${d.id}`;
                return (
                  <Fragment key={d.id}>
                    <tr data-testid="delivery-row" data-status={d.status} data-delivery-id={d.id}>
                      <td>
                        <Badge tone={deliveryTone(d)} testId="delivery-status" title={describeDelivery(d, { now, paused })}>
                          {d.status}
                        </Badge>
                      </td>
                      <td>
                        <span data-testid="delivery-event" title={d.eventType}>
                          {eventLabel(d.eventType)}
                        </span>
                        {d.flagKey ? (
                          <div>
                            <Link to={`/flags/${encodeURIComponent(d.flagKey)}`} className="muted">
                              {d.flagKey}
                            </Link>
                          </div>
                        ) : null}
                      </td>
                      <td title={formatDateTime(d.createdAt)}>{relativeTime(d.createdAt, now)}</td>
                      <td data-testid="delivery-attempts">{d.attempts}</td>
                      <td data-testid="delivery-answer" className={d.lastError ? 'webhook-error' : undefined}>
                        {lastAnswerOf(d)}
                      </td>
                      <td title={d.nextAttemptAt ? formatDateTime(d.nextAttemptAt) : undefined}>
                        {paused && d.status === 'pending' ? 'when resumed' : nextAttemptOf(d, now)}
                      </td>
                      <td className="webhook-delivery-actions">
                        <Button small variant="ghost" aria-expanded={expanded} aria-controls={detailId} onClick={() => toggle(d.id)}>
                          {expanded ? 'Hide' : 'Details'}
                        </Button>
                        {d.status === 'failed' ? (
                          <Button
                            small
                            onClick={() => void redeliver.run(d)}
                            disabled={redeliver.busy}
                            data-testid="delivery-redeliver"
                            title="Send it again, as it was"
                          >
                            Send again
                          </Button>
                        ) : null}
                      </td>
                    </tr>
                    {expanded ? (
                      <tr id={detailId} className="webhook-delivery-detail">
                        <td colSpan={7}>
                          <DeliveryDetail delivery={d} now={now} paused={paused} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ErrorBox error={older.error} />
      {feed?.nextCursor ? (
        <Button
          small
          variant="ghost"
          onClick={() => void older.run()}
          busy={older.busy}
          busyLabel="Loading…"
          data-testid="webhook-log-older"
        >
          Show older
        </Button>
      ) : null}
    </section>
  );
}

function DeliveryDetail({ delivery, now, paused }: { delivery: WebhookDelivery; now: number; paused: boolean }) {
  return (
    <div className="webhook-delivery-body">
      <p data-testid="delivery-state">{describeDelivery(delivery, { now, paused })}.</p>
      <dl className="webhook-delivery-ids">
        <div>
          <dt>Delivery</dt>
          <dd>
            <code>{delivery.id}</code>
          </dd>
        </div>
        <div>
          <dt>Event id</dt>
          <dd>
            <code>{delivery.eventId}</code>
          </dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>
            <code>{delivery.eventType}</code>
          </dd>
        </div>
      </dl>
      <h4>Attempts</h4>
      {delivery.attemptLog.length === 0 ? (
        <p className="muted">Not tried yet.</p>
      ) : (
        <table className="diff" data-testid="delivery-attempts-log">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Answer</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {delivery.attemptLog.map((a, i) => (
              <tr key={`${a.at}-${i}`}>
                <td title={formatDateTime(a.at)}>{relativeTime(a.at, now)}</td>
                <td className={a.statusCode !== null && a.statusCode < 300 && !a.error ? undefined : 'webhook-error'}>{answerOf(a)}</td>
                <td>{a.durationMs.toLocaleString('en')} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {delivery.attempts > delivery.attemptLog.length ? (
        <p className="field-hint">
          The latest {delivery.attemptLog.length} of {delivery.attempts} attempts.
        </p>
      ) : null}
      <h4>Payload</h4>
      <pre className="code webhook-payload" data-testid="delivery-payload">
        {JSON.stringify(delivery.payload, null, 2)}
      </pre>
    </div>
  );
}
