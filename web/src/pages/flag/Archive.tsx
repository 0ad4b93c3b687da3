import { flagsApi } from '../../api/endpoints.ts';
import type { Flag } from '../../api/types.ts';
import { usePermissions } from '../../auth/session.tsx';
import { Button, ConfirmDialog, ErrorBox } from '../../components/ui.tsx';
import { describeServe, formatDateTime, relativeTime } from '../../lib/format.ts';
import { useAction } from '../../lib/hooks.ts';

/** Why a purge button is disabled: only admins purge. */
/** `rolePhrase`: "Your role is editor", "Your role in project payments is editor" (usePermissions). */
export function purgeReason(rolePhrase: string): string {
  return `${rolePhrase}: purging a flag needs the admin role.`;
}

/** "Archived 3 hours ago by ann@example.com" (the exact time on hover). */
export function ArchivedWhen({ flag }: { flag: Flag }) {
  if (!flag.archivedAt) return null;
  return (
    <span title={formatDateTime(flag.archivedAt)}>
      {relativeTime(flag.archivedAt)}
      {flag.archivedBy ? <span className="muted"> by {flag.archivedBy.email}</span> : null}
    </span>
  );
}

/** Confirms archiving a flag (DELETE): reversible, so no typed confirmation; says what stops and what is kept. */
export function ArchiveDialog(props: { flag: Flag; etag: string | undefined; open: boolean; onDone: () => void; onCancel: () => void }) {
  const archive = useAction(async () => {
    await flagsApi.archive(props.flag.key, props.etag);
    props.onDone();
  });
  return (
    <ConfirmDialog
      open={props.open}
      title={`Archive ${props.flag.key}?`}
      confirmLabel="Archive flag"
      danger
      busy={archive.busy}
      error={archive.error}
      onConfirm={() => void archive.run()}
      onCancel={() => {
        props.onCancel();
        archive.clear();
      }}
    >
      <p>
        Within a second SDKs asking for <code>{props.flag.key}</code> get FLAG_NOT_FOUND and fall back to their own default value. Its state
        in every environment, its targeting rules and its history are kept: an editor can restore it as it is now from the archived flags.
        Pending scheduled changes are cancelled and a running release plan is paused.
      </p>
      <p className="muted">A flag that an active flag has as a prerequisite cannot be archived.</p>
    </ConfirmDialog>
  );
}

/** Confirms purging an archived flag (admins): irreversible, so the key must be typed. */
export function PurgeDialog(props: { flag: Flag; etag?: string | undefined; open: boolean; onDone: () => void; onCancel: () => void }) {
  const purge = useAction(async () => {
    await flagsApi.purge(props.flag.key, props.etag);
    props.onDone();
  });
  return (
    <ConfirmDialog
      open={props.open}
      title={`Purge ${props.flag.key}?`}
      confirmLabel="Purge flag"
      danger
      busy={purge.busy}
      error={purge.error}
      typeToConfirm={props.flag.key}
      onConfirm={() => void purge.run()}
      onCancel={() => {
        props.onCancel();
        purge.clear();
      }}
    >
      <p>
        The flag and its targeting rules are removed for good: it cannot be restored, and its key becomes free for a new flag. Its history
        stays readable through the API.
      </p>
    </ConfirmDialog>
  );
}

/**
 * What an archived flag's page shows instead of its editors: since when and by whom, what each environment will
 * serve once restored, and Restore (editors) and Purge (admins).
 */
export function ArchivedPanel(props: {
  flag: Flag;
  etag: string | undefined;
  environments: string[];
  onRestored: (loaded: { flag: Flag; etag: string | undefined }) => void;
  onPurge: () => void;
}) {
  const { rolePhrase, canEdit, canAdmin, editReason } = usePermissions();
  const { flag } = props;
  const restore = useAction(async () => {
    const { data, etag } = await flagsApi.restore(flag.key, props.etag);
    props.onRestored({ flag: data, etag });
  });
  return (
    <div className="alert alert-warn archived-panel" role="status" data-testid="archived-panel">
      <p>
        <strong>Archived</strong> <ArchivedWhen flag={flag} />. Evaluation does not know it: SDKs asking for <code>{flag.key}</code> get
        FLAG_NOT_FOUND. Its state, rules and history are kept; restoring brings it back as below.
      </p>
      <ul className="archived-states">
        {props.environments.map((env) => {
          const state = flag.environments[env];
          return state ? (
            <li key={env} data-testid={`archived-${env}-state`}>
              <strong>{env}</strong>:{' '}
              {state.enabled ? `on, serving ${describeServe(state.defaultServe)}` : `off, serving ${state.offVariant}`}
            </li>
          ) : null;
        })}
      </ul>
      <div className="page-actions">
        <Button
          variant="primary"
          onClick={() => void restore.run()}
          busy={restore.busy}
          busyLabel="Restoring…"
          disabledReason={canEdit ? undefined : editReason}
          data-testid="restore-flag"
        >
          Restore
        </Button>
        <Button
          variant="danger"
          onClick={props.onPurge}
          disabledReason={canAdmin ? undefined : purgeReason(rolePhrase)}
          data-testid="purge-flag"
        >
          Purge…
        </Button>
      </div>
      <ErrorBox error={restore.error} title="Not restored" />
    </div>
  );
}
