import { useRef, useState, type FormEvent } from 'react';
import { authApi } from '../api/endpoints.ts';
import type { ApiKey, ApiKeyKind, CreatedApiKey } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { useProjectName } from '../auth/projects.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, useCopy, useToast } from '../components/ui.tsx';
import { environmentName, useEnvironmentList, useEnvironments } from '../lib/environments.ts';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';

/** What each kind of key is for and where it may live, as the create form says it. */
const keyKinds: { kind: ApiKeyKind; title: string; text: string }[] = [
  {
    kind: 'server',
    title: 'Server',
    text: 'For a backend service (a server SDK, /evaluate or OFREP): it evaluates every flag, so it is a secret that stays on your servers.',
  },
  {
    kind: 'client',
    title: 'Client',
    text: 'For a web page or a mobile app: it is public (anyone can read it in the page’s source), so it evaluates only the flags marked available to client-side SDKs, through OFREP, and opens nothing else.',
  },
];

/** The current project's SDK keys per environment: create (the secret is shown once), list, revoke. */
export function ApiKeysPage() {
  const { project, canEdit, editReason } = usePermissions();
  const projectName = useProjectName(project);
  const toast = useToast();
  const environments = useEnvironments();
  const environmentDetails = useEnvironmentList();
  const [environment, setEnvironment] = useState('');
  const [showRevoked, setShowRevoked] = useState(false);
  const keys = useResource(
    async () =>
      canEdit ? (await authApi.apiKeys(project, { environment: environment || undefined, includeRevoked: showRevoked })).data.items : [],
    [project, environment, showRevoked, canEdit],
  );
  const [name, setName] = useState('');
  const [newEnvironment, setNewEnvironment] = useState('');
  const [kind, setKind] = useState<ApiKeyKind>('server');
  const [created, setCreated] = useState<CreatedApiKey | undefined>(undefined);
  const [revoking, setRevoking] = useState<ApiKey | undefined>(undefined);
  const create = useAction(async (env: string, keyName: string, keyKind: ApiKeyKind) => {
    const { data } = await authApi.createApiKey(project, env, keyName, keyKind);
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
    void create.run(chosenEnvironment, name.trim(), kind);
  };

  return (
    <section aria-labelledby="keys-title">
      <div className="page-head">
        <h1 id="keys-title">API keys</h1>
      </div>
      <p className="field-hint">
        An SDK key opens one environment of one project for evaluation (<code>X-API-Key</code> or <code>Authorization: Bearer</code> on{' '}
        <code>/evaluate</code> and OFREP): a server key for your backends, a client key for web pages and apps. It is shown once and stored
        only as a hash. The keys here evaluate the flags of project <strong data-testid="api-keys-project">{projectName}</strong>.
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
                {environmentName(environmentDetails.data, e)}
              </option>
            ))}
          </select>
        </Field>
        <fieldset className="kind-choices">
          <legend className="field-label">Kind</legend>
          {keyKinds.map((k) => (
            <label key={k.kind} className="kind-choice">
              <input
                type="radio"
                name="api-key-kind"
                value={k.kind}
                checked={kind === k.kind}
                onChange={() => setKind(k.kind)}
                data-testid={`api-key-kind-${k.kind}`}
              />
              <span>
                <strong>{k.title}</strong>
                <span className="field-hint">{k.text}</span>
              </span>
            </label>
          ))}
        </fieldset>
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
                {environmentName(environmentDetails.data, e)}
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
                <th scope="col">Kind</th>
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
                    <Badge tone={k.kind === 'client' ? 'info' : 'neutral'} testId={`api-key-kind-of-${k.name}`}>
                      {k.kind}
                    </Badge>
                  </td>
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
          {revoking?.kind === 'client' ? 'Pages and apps' : 'Services'} using this {revoking?.environment} key are refused within seconds
          and fall back to their defaults. A revoked key cannot be brought back; create a new one instead.
        </p>
      </ConfirmDialog>
    </section>
  );
}

function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const key = useCopy();
  const input = useRef<HTMLInputElement>(null);
  const client = created.kind === 'client';
  return (
    <div className="card new-key" role="alert" data-testid="new-api-key">
      <h2>
        {client ? 'Client key' : 'Key'} “{created.name}” for {created.environment}
      </h2>
      <p>
        <strong>Copy it now: this is the only time it is shown.</strong>{' '}
        {client
          ? 'It is not a secret: it goes into your page’s or app’s code, and evaluates only the flags marked available to client-side SDKs.'
          : 'Store it as a secret of the service that uses it.'}
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
        <Button variant="primary" onClick={() => void key.copy(created.key, () => input.current?.select())} data-testid="copy-api-key">
          {key.state === 'copied' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {key.state === 'refused' ? (
        <p className="field-hint">The browser did not allow copying; the key is selected, press Ctrl+C (⌘C).</p>
      ) : null}
      {client ? <WebSnippet sdkKey={created.key} /> : null}
      <Button small onClick={onDone}>
        I have stored it
      </Button>
    </div>
  );
}

/**
 * The evaluation service's public address as a browser reaches it: this console's origin, whose server forwards
 * /ofrep to the evaluation service, as the production load balancer does on the same hostname.
 */
function evaluationBaseUrl(): string {
  return window.location.origin;
}

/** The code a web page needs to evaluate with a client key, and to hear of every change as it is made. */
function webSnippet(baseUrl: string, sdkKey: string): string {
  return `import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

// Evaluates every client-visible flag once for this person (rules and splits decide by the context),
// then keeps them current: ToggleMaster streams each change to the page as it is made.
await OpenFeature.setProviderAndWait(
  new OFREPWebProvider({ baseUrl: '${baseUrl}', headers: [['X-API-Key', '${sdkKey}']] }),
  { targetingKey: 'user-123' },
);

const client = OpenFeature.getClient();
// A flag marked “Available to client-side SDKs”; false is what the page gets if it cannot be evaluated.
let showBanner = client.getBooleanValue('my-flag', false);

client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
  if (details?.flagsChanged?.includes('my-flag')) showBanner = client.getBooleanValue('my-flag', false);
});
`;
}

function WebSnippet({ sdkKey }: { sdkKey: string }) {
  const code = webSnippet(evaluationBaseUrl(), sdkKey);
  const snippet = useCopy();
  const pre = useRef<HTMLPreElement>(null);
  return (
    <section className="snippet" aria-labelledby="web-snippet-title">
      <div className="snippet-head">
        <h3 id="web-snippet-title">Use it in a web page</h3>
        <Button
          small
          onClick={() => void snippet.copy(code, () => pre.current && window.getSelection()?.selectAllChildren(pre.current))}
          data-testid="copy-web-snippet"
        >
          {snippet.state === 'copied' ? 'Copied' : 'Copy code'}
        </Button>
      </div>
      <p className="field-hint">
        The page needs <code>npm install @openfeature/web-sdk @openfeature/ofrep-web-provider</code>. <code>baseUrl</code> is this console’s
        address, which forwards OFREP to the evaluation service; if your evaluation service has a public address of its own, use that.
      </p>
      {snippet.state === 'refused' ? (
        <p className="field-hint">The browser did not allow copying; the code is selected, press Ctrl+C (⌘C).</p>
      ) : null}
      <pre ref={pre} className="code" data-testid="web-snippet">
        {code}
      </pre>
    </section>
  );
}
