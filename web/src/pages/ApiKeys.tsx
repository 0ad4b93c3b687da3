import { useRef, useState, type FormEvent } from 'react';
import { authApi } from '../api/endpoints.ts';
import type { ApiKey, CreatedApiKey } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useToast } from '../components/ui.tsx';
import { useEnvironments } from '../lib/environments.ts';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';

/** SDK keys per environment: create (the secret is shown once), list, revoke. */
export function ApiKeysPage() {
  const { canEdit, editReason } = usePermissions();
  const toast = useToast();
  const environments = useEnvironments();
  const [environment, setEnvironment] = useState('');
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useResource(
    async () => (canEdit ? (await authApi.apiKeys({ environment: environment || undefined, includeRevoked: showRevoked })).data.items : []),
    [environment, showRevoked, canEdit],
  );
  const [name, setName] = useState('');
  const [newEnvironment, setNewEnvironment] = useState('');
  const [created, setCreated] = useState<CreatedApiKey | undefined>(undefined);
  const [revoking, setRevoking] = useState<ApiKey | undefined>(undefined);
  const create = useAction(async (env: string, keyName: string) => {
    const { data } = await authApi.createApiKey(env, keyName);
    setCreated(data);
    setName('');
    keys.reload();
  });
  const revoke = useAction(async (key: ApiKey) => {
    await authApi.revokeApiKey(key.id);
    setRevoking(undefined);
    keys.reload();
    toast(`Key “${key.name}” revoked; SDKs using it are refused within seconds.`);
  });

  if (!canEdit) {
    return (
      <section aria-labelledby="keys-title">
        <h1 id="keys-title">API keys</h1>
        <ReadOnlyNote reason={`${editReason} SDK keys are managed by editors and admins.`} />
      </section>
    );
  }
  const envs = environments.data ?? [];
  const chosenEnvironment = newEnvironment || envs[0] || '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || !chosenEnvironment) return;
    void create.run(chosenEnvironment, name.trim());
  };

  return (
    <section aria-labelledby="keys-title">
      <div className="page-head">
        <h1 id="keys-title">API keys</h1>
      </div>
      <p className="field-hint">
        An SDK key opens one environment for evaluation (<code>X-API-Key</code> or <code>Authorization: Bearer</code> on{' '}
        <code>/evaluate</code> and OFREP). It is shown once and stored only as a hash.
      </p>
      <form className="card form inline-form" onSubmit={submit} data-testid="api-key-form">
        <Field label="Name">
          <input
            type="text"
            placeholder="Who uses it, e.g. checkout-service"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
            required
            data-testid="api-key-name"
          />
        </Field>
        <Field label="Environment">
          <select value={chosenEnvironment} onChange={(e) => setNewEnvironment(e.target.value)} data-testid="api-key-environment">
            {envs.map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
        </Field>
        <Button
          type="submit"
          variant="primary"
          busy={create.busy}
          busyLabel="Creating…"
          disabled={!name.trim() || !chosenEnvironment}
          data-testid="api-key-create"
        >
          Create key
        </Button>
      </form>
      <ErrorBox error={create.error} />
      {created ? <NewKey created={created} onDone={() => setCreated(undefined)} /> : null}
      <div className="filters">
        <label>
          <span className="filter-label">Environment</span>
          <select value={environment} onChange={(e) => setEnvironment(e.target.value)}>
            <option value="">all</option>
            {envs.map((e) => (
              <option key={e} value={e}>
                {e}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> Show revoked keys
        </label>
      </div>
      <ErrorBox error={keys.error ?? environments.error} onRetry={keys.reload} />
      {!keys.data ? (
        keys.error ? null : (
          <Loading what="keys" />
        )
      ) : keys.data.length === 0 ? (
        <Empty>No keys{environment ? ` for ${environment}` : ''} yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="api-keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Environment</th>
                <th scope="col">Key starts with</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id} data-testid={`api-key-row-${k.name}`}>
                  <td>{k.name}</td>
                  <td>{k.environment}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td title={formatDateTime(k.createdAt)}>{relativeTime(k.createdAt)}</td>
                  <td>{k.revokedAt ? <Badge tone="off">revoked {relativeTime(k.revokedAt)}</Badge> : <Badge tone="on">active</Badge>}</td>
                  <td>
                    {k.revokedAt ? null : (
                      <Button small variant="danger" onClick={() => setRevoking(k)}>
                        Revoke
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        danger
        busy={revoke.busy}
        error={revoke.error}
        onConfirm={() => revoking && void revoke.run(revoking)}
        onCancel={() => {
          setRevoking(undefined);
          revoke.clear();
        }}
      >
        <p>
          Services using this {revoking?.environment} key are refused within seconds and fall back to their defaults. A revoked key cannot
          be brought back; create a new one instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('yes');
    } catch {
      // No clipboard access (insecure origin or refused): select it for Ctrl+C.
      input.current?.select();
      setCopied('failed');
    }
  };
  return (
    <div className="card new-key" role="alert" data-testid="new-api-key">
      <h2>
        Key “{created.name}” for {created.environment}
      </h2>
      <p>
        <strong>Copy it now: this is the only time it is shown.</strong> Store it as a secret of the service that uses it.
      </p>
      <div className="copy-row">
        <input
          ref={input}
          readOnly
          value={created.key}
          className="code"
          aria-label="The new SDK key"
          onFocus={(e) => e.target.select()}
          data-testid="new-api-key-value"
        />
        <Button variant="primary" onClick={() => void copy()} data-testid="copy-api-key">
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copied === 'failed' ? (
        <p className="field-hint">The browser did not allow copying; the key is selected, press Ctrl+C (⌘C).</p>
      ) : null}
      <Button small onClick={onDone}>
        I have stored it
      </Button>
    </div>
  );
}
