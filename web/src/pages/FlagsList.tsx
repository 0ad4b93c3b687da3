import { useEffect, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { flagsApi } from '../api/endpoints.ts';
import type { Flag, FlagType } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { useProjectPath } from '../auth/projects.tsx';
import { Badge, Button, Empty, ErrorBox, Loading, useToast } from '../components/ui.tsx';
import { useEnvironments } from '../lib/environments.ts';
import { describeServe, relativeTime, formatDateTime, tagPattern } from '../lib/format.ts';
import { useAction, useDebounced, useResource } from '../lib/hooks.ts';
import { ArchivedWhen, PurgeDialog, purgeReason } from './flag/Archive.tsx';

const types: FlagType[] = ['boolean', 'string', 'number', 'json'];

export function FlagsListPage() {
  const { project, canEdit, canAdmin, editReason, rolePhrase } = usePermissions();
  const inProject = useProjectPath();
  const toast = useToast();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const tag = params.get('tag') ?? '';
  const type = params.get('type') ?? '';
  // The archived flags, with the same filters and pages: ?archived=1.
  const archived = params.get('archived') === '1';
  const [purging, setPurging] = useState<Flag | undefined>(undefined);
  const [search, setSearch] = useState(q);
  const debounced = useDebounced(search.trim(), 300);
  // Page cursors: the first page has none; "Next" pushes the answer's cursor, "Previous" pops it.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const environments = useEnvironments();

  useEffect(() => {
    if (debounced === q) return;
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (debounced) next.set('q', debounced);
        else next.delete('q');
        return next;
      },
      { replace: true },
    );
  }, [debounced, q, setParams]);
  useEffect(() => setCursors([]), [q, tag, type, archived, project]);

  const tagValid = tag === '' || tagPattern.test(tag);
  const flags = useResource(
    async () =>
      tagValid
        ? (await flagsApi.list({ project, q: q || undefined, tag: tag || undefined, type: type || undefined, cursor, archived })).data
        : { items: [], nextCursor: null },
    [project, q, tag, type, cursor, tagValid, archived],
  );
  const restore = useAction(async (flag: Flag) => {
    await flagsApi.restore(flag.key);
    toast(`Flag ${flag.key} restored: SDKs get it again within a second.`);
    flags.reload();
  });
  const viewUrl = (toArchived: boolean) => {
    const next = new URLSearchParams(params);
    if (toArchived) next.set('archived', '1');
    else next.delete('archived');
    const text = next.toString();
    return text ? `?${text}` : '?';
  };

  const setFilter = (name: string, value: string) =>
    setParams((p) => {
      const next = new URLSearchParams(p);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });

  const filtered = Boolean(q || tag || type);
  const restoreError = restore.error ? <ErrorBox error={restore.error} title="Not restored" /> : null;
  return (
    <section aria-labelledby="flags-title">
      <div className="page-head">
        <h1 id="flags-title">Flags</h1>
        <Button
          variant="primary"
          onClick={() => void navigate(inProject('/flags/new'))}
          disabledReason={canEdit ? undefined : editReason}
          data-testid="new-flag"
        >
          New flag
        </Button>
      </div>
      <nav className="tabs" aria-label="Flag lists">
        <Link
          to={viewUrl(false)}
          className={archived ? 'tab' : 'tab active'}
          aria-current={archived ? undefined : 'page'}
          data-testid="flags-active"
        >
          Active
        </Link>
        <Link
          to={viewUrl(true)}
          className={archived ? 'tab active' : 'tab'}
          aria-current={archived ? 'page' : undefined}
          data-testid="flags-archived"
        >
          Archived
        </Link>
      </nav>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="filter-search">
          <span className="visually-hidden">Search flags</span>
          <input
            type="search"
            placeholder="Search key, name or description"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="flag-search"
            maxLength={100}
          />
        </label>
        <label>
          <span className="filter-label">Tag</span>
          <input
            type="text"
            placeholder="any"
            value={tag}
            onChange={(e) => setFilter('tag', e.target.value.trim().toLowerCase())}
            aria-invalid={tagValid ? undefined : true}
            data-testid="flag-tag-filter"
            size={12}
          />
        </label>
        <label>
          <span className="filter-label">Type</span>
          <select value={type} onChange={(e) => setFilter('type', e.target.value)} data-testid="flag-type-filter">
            <option value="">any</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {filtered ? (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            onClick={() => {
              setSearch('');
              setParams(new URLSearchParams({ ...(params.has('project') ? { project } : {}), ...(archived ? { archived: '1' } : {}) }));
            }}
          >
            Clear filters
          </button>
        ) : null}
      </form>
      {!tagValid ? <p className="field-error">A tag is lower-case letters and digits, with - _ . : / between them.</p> : null}
      <ErrorBox error={flags.error ?? environments.error} onRetry={flags.reload} />
      {restoreError}
      {flags.loading && !flags.data ? <Loading what="flags" /> : null}
      {flags.data && archived ? (
        flags.data.items.length === 0 ? (
          <Empty>
            {filtered ? 'No archived flag matches these filters.' : 'No archived flags. Archiving a flag keeps it here, restorable.'}
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table flags-table" data-testid="archived-flags-table" aria-busy={flags.loading || undefined}>
              <thead>
                <tr>
                  <th scope="col">Flag</th>
                  <th scope="col">Type</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Archived</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {flags.data.items.map((flag) => (
                  <tr key={flag.key} data-testid={`archived-row-${flag.key}`}>
                    <td>
                      <Link to={`/flags/${flag.key}`} className="flag-link">
                        <strong>{flag.name}</strong>
                        <code>{flag.key}</code>
                      </Link>
                    </td>
                    <td>
                      <Badge tone="info">{flag.type}</Badge>
                    </td>
                    <td className="tags">
                      {flag.tags.map((t) => (
                        <button key={t} type="button" className="tag" onClick={() => setFilter('tag', t)} title={`Show flags tagged ${t}`}>
                          {t}
                        </button>
                      ))}
                    </td>
                    <td>
                      <ArchivedWhen flag={flag} />
                    </td>
                    <td>
                      <span className="row-actions">
                        <Button
                          small
                          onClick={() => void restore.run(flag)}
                          busy={restore.busy}
                          disabledReason={canEdit ? undefined : editReason}
                          data-testid={`restore-${flag.key}`}
                        >
                          Restore
                        </Button>
                        <Button
                          small
                          variant="danger"
                          onClick={() => setPurging(flag)}
                          disabledReason={canAdmin ? undefined : purgeReason(rolePhrase)}
                          data-testid={`purge-${flag.key}`}
                        >
                          Purge…
                        </Button>
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      {flags.data && !archived ? (
        flags.data.items.length === 0 ? (
          <Empty>
            {filtered
              ? 'No flag matches these filters.'
              : canEdit
                ? 'No flags yet. Create the first one with “New flag”.'
                : 'No flags yet.'}
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table flags-table" data-testid="flags-table" aria-busy={flags.loading || undefined}>
              <thead>
                <tr>
                  <th scope="col">Flag</th>
                  <th scope="col">Type</th>
                  <th scope="col">Tags</th>
                  {(environments.data ?? []).map((env) => (
                    <th scope="col" key={env}>
                      {env}
                    </th>
                  ))}
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {flags.data.items.map((flag) => (
                  <tr key={flag.key} data-testid={`flag-row-${flag.key}`}>
                    <td>
                      <Link to={`/flags/${flag.key}`} className="flag-link">
                        <strong>{flag.name}</strong>
                        <code>{flag.key}</code>
                      </Link>
                    </td>
                    <td>
                      <span className="type-cell">
                        <Badge tone="info">{flag.type}</Badge>
                        {flag.clientVisible ? (
                          <Badge
                            title="Available to client-side SDKs: client keys (web pages, apps) may evaluate it"
                            testId={`flag-${flag.key}-client`}
                          >
                            client-side
                          </Badge>
                        ) : null}
                      </span>
                    </td>
                    <td className="tags">
                      {flag.tags.map((t) => (
                        <button key={t} type="button" className="tag" onClick={() => setFilter('tag', t)} title={`Show flags tagged ${t}`}>
                          {t}
                        </button>
                      ))}
                    </td>
                    {(environments.data ?? []).map((env) => {
                      const state = flag.environments[env];
                      return (
                        <td key={env}>
                          {state ? (
                            <span className="env-cell">
                              <Badge tone={state.enabled ? 'on' : 'off'} testId={`flag-${flag.key}-${env}-state`}>
                                {state.enabled ? 'On' : 'Off'}
                              </Badge>
                              <span className="muted">{state.enabled ? describeServe(state.defaultServe) : state.offVariant}</span>
                            </span>
                          ) : (
                            '—'
                          )}
                        </td>
                      );
                    })}
                    <td title={formatDateTime(flag.updatedAt)}>{relativeTime(flag.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      {flags.data && (cursors.length > 0 || flags.data.nextCursor) ? (
        <nav className="pager" aria-label="Pages">
          <Button small onClick={() => setCursors((c) => c.slice(0, -1))} disabled={cursors.length === 0}>
            ← Previous
          </Button>
          <span className="muted">Page {cursors.length + 1}</span>
          <Button
            small
            onClick={() => setCursors((c) => [...c, flags.data!.nextCursor!])}
            disabled={!flags.data.nextCursor}
            data-testid="next-page"
          >
            Next →
          </Button>
        </nav>
      ) : null}
      {purging ? (
        <PurgeDialog
          flag={purging}
          open
          onDone={() => {
            toast(`Flag ${purging.key} purged.`);
            setPurging(undefined);
            flags.reload();
          }}
          onCancel={() => setPurging(undefined)}
        />
      ) : null}
    </section>
  );
}
