import { useState, type FormEvent } from 'react';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { targetingApi, type SegmentInput } from '../api/endpoints.ts';
import type { StoredSegment } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { ProjectBadge, ResourceProject, useProjectPath, useProjects } from '../auth/projects.tsx';
import { checkCondition, conditionDraftOf, ConditionsEditor, describeCondition, type ConditionDraft } from '../components/Conditions.tsx';
import { Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useToast } from '../components/ui.tsx';
import { relativeTime, slugify, slugPattern } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';
import { projectOf, withProject } from '../lib/projects.ts';

export function SegmentsPage() {
  return (
    <Routes>
      <Route index element={<SegmentList />} />
      <Route path="new" element={<SegmentEditorPage />} />
      <Route path=":key" element={<SegmentEditorPage />} />
    </Routes>
  );
}

function SegmentList() {
  const { project, canEdit, editReason } = usePermissions();
  const navigate = useNavigate();
  const inProject = useProjectPath();
  const segments = useResource(async () => (await targetingApi.segments(project)).data.items, [project]);
  return (
    <section aria-labelledby="segments-title">
      <div className="page-head">
        <h1 id="segments-title">Segments</h1>
        <Button
          variant="primary"
          onClick={() => void navigate(inProject('/segments/new'))}
          disabledReason={canEdit ? undefined : editReason}
          data-testid="new-segment"
        >
          New segment
        </Button>
      </div>
      <p className="field-hint">
        A segment is a reusable audience: explicit targeting keys in or out, plus conditions. Rules of this project’s flags refer to its
        segments by key.
      </p>
      <ErrorBox error={segments.error} onRetry={segments.reload} />
      {!segments.data ? (
        segments.error ? null : (
          <Loading what="segments" />
        )
      ) : segments.data.length === 0 ? (
        <Empty>No segments yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="segments-table">
            <thead>
              <tr>
                <th scope="col">Segment</th>
                <th scope="col">Conditions</th>
                <th scope="col">Included</th>
                <th scope="col">Excluded</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {segments.data.map((s) => (
                <tr key={s.key} data-testid={`segment-row-${s.key}`}>
                  <td>
                    <Link to={`/segments/${s.key}`} className="flag-link">
                      <strong>{s.name}</strong>
                      <code>{s.key}</code>
                    </Link>
                  </td>
                  <td>
                    {s.conditions.length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      s.conditions.map((c, i) => (
                        <code key={i} className="cond-chip">
                          {describeCondition(c)}
                        </code>
                      ))
                    )}
                  </td>
                  <td>{s.included.length}</td>
                  <td>{s.excluded.length}</td>
                  <td>{relativeTime(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function SegmentEditorPage() {
  const { key } = useParams();
  const segment = useResource(async () => {
    if (!key) return undefined;
    const { data, etag } = await targetingApi.segment(key);
    return { segment: data, etag };
  }, [key]);
  const { current } = useProjects();
  if (key && !segment.data) {
    if (segment.error instanceof ApiError && segment.error.status === 404) return <Empty>No segment “{key}”.</Empty>;
    return segment.error ? <ErrorBox error={segment.error} onRetry={segment.reload} /> : <Loading what="the segment" />;
  }
  // A segment's page counts the role in its project (a new one is made in the current project).
  const existing = segment.data?.segment;
  return (
    <ResourceProject project={existing ? projectOf(existing) : current}>
      <SegmentForm key={existing?.version ?? 'new'} existing={existing} etag={segment.data?.etag} />
    </ResourceProject>
  );
}

const lines = (text: string) => [
  ...new Set(
    text
      .split(/[\n,]+/)
      .map((l) => l.trim())
      .filter(Boolean),
  ),
];

function SegmentForm({ existing, etag }: { existing: StoredSegment | undefined; etag: string | undefined }) {
  const { project, canEdit, editReason } = usePermissions();
  const navigate = useNavigate();
  const toast = useToast();
  const list = withProject('/segments', project);
  const [name, setName] = useState(existing?.name ?? '');
  const [key, setKey] = useState(existing?.key ?? '');
  const [keyTouched, setKeyTouched] = useState(Boolean(existing));
  const [description, setDescription] = useState(existing?.description ?? '');
  const [conditions, setConditions] = useState<ConditionDraft[]>(() => existing?.conditions.map(conditionDraftOf) ?? []);
  const [included, setIncluded] = useState(existing?.included.join('\n') ?? '');
  const [excluded, setExcluded] = useState(existing?.excluded.join('\n') ?? '');
  const [deleting, setDeleting] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const segments = useResource(
    async () => (await targetingApi.segments(project)).data.items.filter((s) => s.key !== existing?.key),
    [existing?.key, project],
  );

  const effectiveKey = keyTouched ? key : slugify(name);
  const checks = conditions.map(checkCondition);
  const both = lines(included).filter((k) => lines(excluded).includes(k));
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = 'A name is required';
  if (!existing && !slugPattern.test(effectiveKey))
    errors.key = 'Lower-case letters and digits, with - _ . between them (like beta-testers)';
  const valid = Object.keys(errors).length === 0 && checks.every((c) => c.condition);

  const save = useAction(async (input: SegmentInput) => {
    if (existing) await targetingApi.updateSegment(existing.key, input, etag);
    else await targetingApi.createSegment(project, effectiveKey, input);
    toast(existing ? 'Segment saved.' : 'Segment created.');
    void navigate(list);
  });
  const remove = useAction(async () => {
    await targetingApi.deleteSegment(existing!.key, etag);
    toast(`Segment ${existing!.key} deleted.`);
    void navigate(list);
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    void save.run({
      name: name.trim(),
      description: description.trim(),
      conditions: checks.map((c) => c.condition!),
      included: lines(included),
      excluded: lines(excluded),
    });
  };

  return (
    <section aria-labelledby="segment-title">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link to={list}>Segments</Link> / <ProjectBadge project={project} />
          </p>
          <h1 id="segment-title">{existing ? existing.name : 'New segment'}</h1>
        </div>
        {existing ? (
          <Button variant="danger" onClick={() => setDeleting(true)} disabledReason={canEdit ? undefined : editReason}>
            Delete
          </Button>
        ) : null}
      </div>
      {!canEdit ? <ReadOnlyNote reason={editReason} /> : null}
      <form className="card form" onSubmit={submit} noValidate data-testid="segment-form">
        <fieldset disabled={!canEdit || save.busy}>
          <div className="form-grid">
            <Field label="Name" error={submitted ? errors.name : undefined}>
              <input type="text" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} data-testid="segment-name" />
            </Field>
            <Field
              label="Key"
              hint={existing ? 'Rules refer to the segment by this key.' : 'Rules refer to the segment by it; cannot change later.'}
              error={!existing && (keyTouched || submitted) ? errors.key : undefined}
            >
              <input
                type="text"
                className="code"
                value={effectiveKey}
                readOnly={Boolean(existing)}
                onChange={(e) => {
                  setKeyTouched(true);
                  setKey(e.target.value);
                }}
                data-testid="segment-key"
              />
            </Field>
            <Field label="Description" className="span-2">
              <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
            </Field>
            <Field
              label={`Included targeting keys (${lines(included).length})`}
              hint="Always in the segment (unless excluded). One per line."
            >
              <textarea
                rows={6}
                className="code"
                value={included}
                onChange={(e) => setIncluded(e.target.value)}
                spellCheck={false}
                data-testid="segment-included"
              />
            </Field>
            <Field
              label={`Excluded targeting keys (${lines(excluded).length})`}
              hint="Never in the segment, whatever else holds. One per line."
              error={both.length > 0 ? `In both lists (excluded wins): ${both.join(', ')}` : undefined}
            >
              <textarea
                rows={6}
                className="code"
                value={excluded}
                onChange={(e) => setExcluded(e.target.value)}
                spellCheck={false}
                data-testid="segment-excluded"
              />
            </Field>
          </div>
          <div className="field">
            <span className="field-label">Conditions (all must hold; with none, only the included keys are in)</span>
            <ConditionsEditor drafts={conditions} onChange={setConditions} segments={segments.data ?? []} />
          </div>
        </fieldset>
        {submitted && !valid ? (
          <p className="alert alert-error" role="alert">
            Some fields need attention before this can be saved.
          </p>
        ) : null}
        <ErrorBox error={save.error} />
        {canEdit ? (
          <div className="form-actions">
            <Button onClick={() => void navigate(list)} disabled={save.busy}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" busy={save.busy} busyLabel="Saving…" data-testid="segment-submit">
              {existing ? 'Save segment' : 'Create segment'}
            </Button>
          </div>
        ) : null}
      </form>
      {existing ? (
        <ConfirmDialog
          open={deleting}
          title={`Delete segment ${existing.key}?`}
          confirmLabel="Delete segment"
          danger
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => void remove.run()}
          onCancel={() => {
            setDeleting(false);
            remove.clear();
          }}
        >
          <p>A segment that a rule still uses cannot be deleted; remove it from those rules first.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
