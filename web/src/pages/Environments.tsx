import { useState, type FormEvent } from 'react';
import { environmentsApi } from '../api/endpoints.ts';
import type { Environment } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useToast } from '../components/ui.tsx';
import { describeProtection, moveKey, settingsPatch } from '../lib/environment-admin.ts';
import { forgetEnvironments } from '../lib/environments.ts';
import { useAction, useFocusOnOpen, useResource } from '../lib/hooks.ts';

/** What the API takes as an environment key (EnvironmentKey): lower-case words joined by - or _. */
const keyPattern = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

/**
 * Environments (admin only): every flag has a state in each, in this order. Add one (every flag starts off there),
 * rename it, protect it (changes there become change requests needing approvals), move it, or delete an empty one.
 */
export function EnvironmentsPage() {
  const { isOrgAdmin: canAdmin, me } = usePermissions();
  const toast = useToast();
  const list = useResource(async () => (await environmentsApi.list()).data.items, []);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [deleting, setDeleting] = useState<Environment | undefined>(undefined);
  /** The list as a write answered it; the other pages ask again for theirs. */
  const changed = (items: Environment[]) => {
    list.setData(items);
    forgetEnvironments();
  };
  const replace = (environment: Environment) => changed((list.data ?? []).map((e) => (e.key === environment.key ? environment : e)));

  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [isProtected, setProtected] = useState(false);
  const [approvals, setApprovals] = useState(1);
  const create = useAction(async () => {
    const { data } = await environmentsApi.create(key, {
      ...(name.trim() ? { name: name.trim() } : {}),
      protected: isProtected,
      requiredApprovals: approvals,
    });
    changed([...(list.data ?? []), data]);
    setKey('');
    setName('');
    setProtected(false);
    setApprovals(1);
    toast(`${data.name} added: every flag is off there until someone turns it on.`);
  });
  const keyProblem = key && !keyPattern.test(key) ? 'Lower-case letters and digits, words joined by - or _' : undefined;
  const submitCreate = (event: FormEvent) => {
    event.preventDefault();
    if (key && !keyProblem) void create.run();
  };

  const move = useAction(async (environment: Environment, by: -1 | 1) => {
    const keys = moveKey(
      (list.data ?? []).map((e) => e.key),
      environment.key,
      by,
    );
    changed((await environmentsApi.reorder(keys)).data.items);
  });
  const remove = useAction(async (environment: Environment) => {
    await environmentsApi.delete(environment.key);
    changed((list.data ?? []).filter((e) => e.key !== environment.key));
    setDeleting(undefined);
    toast(`${environment.name} deleted.`);
  });

  if (!canAdmin) {
    return (
      <section aria-labelledby="environments-title">
        <h1 id="environments-title">Environments</h1>
        <ReadOnlyNote reason={`Your account role is ${me.role}: managing environments needs the organisation admin role.`} />
      </section>
    );
  }
  const items = list.data;
  return (
    <section aria-labelledby="environments-title" data-testid="environments-page">
      <div className="page-head">
        <h1 id="environments-title">Environments</h1>
      </div>
      <p className="field-hint">
        Every flag has its own state in each environment, shown in this order everywhere. A new environment starts with every flag off and
        no rules. Changes in a protected environment go through change requests that need the approvals set here. An environment can be
        deleted once nothing lives there: no flag on, no targeting rule, no live SDK key, no pending schedule or running release plan.
      </p>
      <form className="card form inline-form" onSubmit={submitCreate} data-testid="environment-create-form">
        <Field label="Key" error={keyProblem} hint="Fixed once made: SDK keys and rules name it">
          <input
            value={key}
            onChange={(e) => setKey(e.target.value.trim())}
            placeholder="staging"
            maxLength={64}
            required
            spellCheck={false}
            autoComplete="off"
            data-testid="environment-create-key"
          />
        </Field>
        <Field label="Name" hint="Shown in the console (the key when empty)">
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="environment-create-name" />
        </Field>
        <label className="checkbox" title="Changes there go through change requests that need approvals">
          <input
            type="checkbox"
            checked={isProtected}
            onChange={(e) => setProtected(e.target.checked)}
            data-testid="environment-create-protected"
          />
          Protected
        </label>
        {isProtected ? (
          <Field label="Approvals">
            <input
              type="number"
              min={1}
              max={10}
              value={approvals}
              onChange={(e) => setApprovals(Math.min(10, Math.max(1, Number(e.target.value) || 1)))}
              data-testid="environment-create-approvals"
            />
          </Field>
        ) : null}
        <Button
          type="submit"
          variant="primary"
          busy={create.busy}
          busyLabel="Adding…"
          disabled={!key || Boolean(keyProblem)}
          data-testid="environment-create-submit"
        >
          Add environment
        </Button>
      </form>
      <ErrorBox error={create.error} />
      <ErrorBox error={list.error ?? move.error} onRetry={list.error ? list.reload : undefined} />
      {!items ? (
        list.error ? null : (
          <Loading what="environments" />
        )
      ) : items.length === 0 ? (
        <Empty>No environments.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="environments-title" data-testid="environments-table">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Environment</th>
                <th scope="col">Protection</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((environment, i) =>
                editing === environment.key ? (
                  <EditRow
                    key={environment.key}
                    environment={environment}
                    onSaved={(saved) => {
                      replace(saved);
                      setEditing(undefined);
                      toast(`${saved.name} saved.`);
                    }}
                    onCancel={() => setEditing(undefined)}
                  />
                ) : (
                  <tr key={environment.key} data-testid={`environment-row-${environment.key}`}>
                    <td>
                      <div className="inline-field">
                        <Button
                          small
                          variant="ghost"
                          aria-label={`Move ${environment.name} up`}
                          disabled={i === 0 || move.busy}
                          onClick={() => void move.run(environment, -1)}
                          data-testid={`environment-${environment.key}-up`}
                        >
                          ↑
                        </Button>
                        <Button
                          small
                          variant="ghost"
                          aria-label={`Move ${environment.name} down`}
                          disabled={i === items.length - 1 || move.busy}
                          onClick={() => void move.run(environment, 1)}
                          data-testid={`environment-${environment.key}-down`}
                        >
                          ↓
                        </Button>
                      </div>
                    </td>
                    <td>
                      <strong data-testid={`environment-${environment.key}-name`}>{environment.name}</strong>{' '}
                      <code className="muted">{environment.key}</code>
                    </td>
                    <td data-testid={`environment-${environment.key}-protection`}>
                      {environment.protected ? (
                        <Badge tone="warn" title="Changes here go through change requests">
                          {describeProtection(environment)}
                        </Badge>
                      ) : (
                        <span className="muted">Made directly</span>
                      )}
                    </td>
                    <td>
                      <div className="row-actions">
                        <Button small onClick={() => setEditing(environment.key)} data-testid={`environment-${environment.key}-edit`}>
                          Edit
                        </Button>
                        <Button
                          small
                          variant="danger"
                          onClick={() => {
                            remove.clear();
                            setDeleting(environment);
                          }}
                          data-testid={`environment-${environment.key}-delete`}
                        >
                          Delete
                        </Button>
                      </div>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the environment ${deleting?.name ?? ''}?`}
        confirmLabel="Delete environment"
        danger
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => deleting && void remove.run(deleting)}
        onCancel={() => {
          setDeleting(undefined);
          remove.clear();
        }}
      >
        <p>
          Every flag loses its state in <strong>{deleting?.name}</strong> (<code>{deleting?.key}</code>). Only an empty environment can be
          deleted: if something still lives there, the service says what, and nothing is deleted.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** One environment's name, protection and approvals, edited in its row (If-Match its version). */
function EditRow({
  environment,
  onSaved,
  onCancel,
}: {
  environment: Environment;
  onSaved: (saved: Environment) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(environment.name);
  const [isProtected, setProtected] = useState(environment.protected);
  const [approvals, setApprovals] = useState(environment.requiredApprovals);
  const first = useFocusOnOpen<HTMLInputElement>();
  const patch = settingsPatch(environment, { name, protected: isProtected, requiredApprovals: approvals });
  const save = useAction(async () => onSaved((await environmentsApi.update(environment, patch)).data));
  return (
    <tr data-testid={`environment-row-${environment.key}`} className="editing">
      <td />
      <td>
        <label className="field">
          <span className="field-label">
            Name of <code>{environment.key}</code>
          </span>
          <input ref={first} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="environment-edit-name" />
        </label>
      </td>
      <td>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={isProtected}
            onChange={(e) => setProtected(e.target.checked)}
            data-testid="environment-edit-protected"
          />{' '}
          Protected
        </label>
        <label className="field">
          <span className="field-label">Approvals a change request needs</span>
          <input
            type="number"
            min={1}
            max={10}
            value={approvals}
            onChange={(e) => setApprovals(Math.min(10, Math.max(1, Number(e.target.value) || 1)))}
            data-testid="environment-edit-approvals"
          />
        </label>
        <ErrorBox error={save.error} />
      </td>
      <td>
        <div className="row-actions">
          <Button onClick={onCancel} disabled={save.busy}>
            Cancel
          </Button>
          <Button
            variant="primary"
            busy={save.busy}
            busyLabel="Saving…"
            disabled={Object.keys(patch).length === 0 || !name.trim()}
            onClick={() => void save.run()}
            data-testid="environment-edit-save"
          >
            Save
          </Button>
        </div>
      </td>
    </tr>
  );
}
