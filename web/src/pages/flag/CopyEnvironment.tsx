import { useState } from 'react';
import { flagsApi, targetingApi } from '../../api/endpoints.ts';
import type { Environment } from '../../api/types.ts';
import { Button, ConfirmDialog, ErrorBox, Loading, useToast } from '../../components/ui.tsx';
import { copyLines } from '../../lib/environment-admin.ts';
import { environmentName } from '../../lib/environments.ts';
import { useAction, useResource } from '../../lib/hooks.ts';
import type { FlagTabProps } from './tab-props.ts';

/**
 * "Copy from…" on an environment's column: choose another environment, see what the copy replaces here (the state
 * and the rules), confirm; the flags service copies the rules through targeting, then writes the state (one entry
 * in each history).
 */
export function CopyFromEnvironment({
  flag,
  etag,
  env,
  environments,
  details,
  onChanged,
}: Pick<FlagTabProps, 'flag' | 'etag' | 'environments' | 'onChanged'> & { env: string; details: Environment[] | undefined }) {
  const toast = useToast();
  const sources = environments.filter((e) => e !== env);
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState(sources[0] ?? '');
  const name = (key: string) => environmentName(details, key);
  // The flag's rules in every environment, asked when the dialog opens (and again for a newer version of the flag).
  const rules = useResource(
    async () => (open ? (await targetingApi.rules(flag.key)).data.items : undefined),
    [open, flag.key, flag.version],
  );
  const copy = useAction(async () => {
    const { data, etag: next } = await flagsApi.copyEnvironment(flag.key, env, from, etag);
    setOpen(false);
    onChanged({ flag: data, etag: next });
    toast(`${flag.key} in ${name(env)} is now as in ${name(from)}: its state and its rules.`);
  });
  const source = flag.environments[from];
  const target = flag.environments[env];
  const lines =
    rules.data && source && target
      ? copyLines(
          { state: source, rules: rules.data.filter((r) => r.environment === from) },
          { state: target, rules: rules.data.filter((r) => r.environment === env) },
        )
      : undefined;
  if (sources.length === 0) return null;
  return (
    <>
      <Button
        small
        onClick={() => {
          copy.clear();
          if (!sources.includes(from)) setFrom(sources[0]!);
          setOpen(true);
        }}
        title={`Make ${flag.key} in ${name(env)} what it is in another environment, rules and all`}
        data-testid={`env-${env}-copy`}
      >
        Copy from…
      </Button>
      <ConfirmDialog
        open={open}
        title={`Copy another environment onto ${name(env)}?`}
        confirmLabel={from ? `Copy from ${name(from)}` : 'Copy'}
        busy={copy.busy}
        error={copy.error}
        onConfirm={() => {
          if (lines) void copy.run();
        }}
        onCancel={() => {
          setOpen(false);
          copy.clear();
        }}
      >
        <label className="field">
          <span className="field-label">Copy from</span>
          <select value={from} onChange={(e) => setFrom(e.target.value)} data-testid={`env-${env}-copy-from`}>
            {sources.map((key) => (
              <option key={key} value={key}>
                {name(key)}
              </option>
            ))}
          </select>
        </label>
        <p>
          {flag.key} in <strong>{name(env)}</strong> becomes what it is in <strong>{name(from)}</strong>: on or off, off variant, default
          serve, prerequisites, and its targeting rules (copies, in the same order, replacing the ones in {name(env)}). SDKs get it within a
          second. The flag’s history and targeting’s each record the copy.
        </p>
        <ErrorBox error={rules.error} onRetry={rules.reload} />
        {lines ? (
          <table className="table copy-summary" data-testid={`env-${env}-copy-summary`}>
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">In {name(env)}</span>
                </th>
                <th scope="col">Now</th>
                <th scope="col">After the copy</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((line) => (
                <tr key={line.field} className={line.changes ? 'copy-changes' : undefined} data-testid="copy-line">
                  <th scope="row">{line.field}</th>
                  <td>{line.now}</td>
                  <td>{line.changes ? <strong>{line.after}</strong> : line.after}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : rules.error ? null : (
          <Loading what="the rules" />
        )}
      </ConfirmDialog>
    </>
  );
}
