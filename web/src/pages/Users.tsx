import { useRef, useState, type FormEvent } from 'react';
import { authApi } from '../api/endpoints.ts';
import type { CreatedInvitation, Invitation, Role, User } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import {
  Badge,
  Button,
  ConfirmDialog,
  Empty,
  ErrorBox,
  Field,
  Loading,
  ReadOnlyNote,
  RoleSelect,
  useCopy,
  useToast,
} from '../components/ui.tsx';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';
import { relativeToNow } from '../lib/schedules.ts';

interface UserList {
  items: User[];
  next: string | null;
}

/** Accounts (admin only): invite people, change a role, disable or enable an account. */
export function UsersPage() {
  const { isOrgAdmin: canAdmin, me } = usePermissions();
  const toast = useToast();
  const users = useResource(async (): Promise<UserList> => {
    if (!canAdmin) return { items: [], next: null };
    const { data } = await authApi.users();
    return { items: data.items, next: data.nextCursor };
  }, [canAdmin]);
  const [disabling, setDisabling] = useState<User | undefined>(undefined);
  const replace = (user: User) =>
    users.data && users.setData({ ...users.data, items: users.data.items.map((u) => (u.id === user.id ? user : u)) });
  const update = useAction(async (user: User, patch: { role?: Role; disabled?: boolean }) => {
    const { data } = await authApi.updateUser(user.id, patch);
    replace(data);
    setDisabling(undefined);
    toast(patch.role ? `${data.email} is now ${data.role}.` : `${data.email} is ${data.disabled ? 'disabled' : 'enabled again'}.`);
  });
  const more = useAction(async () => {
    const { data } = await authApi.users(users.data!.next!);
    users.setData({ items: [...users.data!.items, ...data.items], next: data.nextCursor });
  });

  const invitations = useResource(async () => (canAdmin ? (await authApi.invitations()).data.items : []), [canAdmin]);
  const [inviteEmail, setInviteEmail] = useState('');
  const [inviteRole, setInviteRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<CreatedInvitation | undefined>(undefined);
  const [revoking, setRevoking] = useState<Invitation | undefined>(undefined);
  const invite = useAction(async (email: string, role: Role) => {
    const { data } = await authApi.createInvitation(email, role);
    setCreated(data);
    setInviteEmail('');
    invitations.reload();
  });
  const revoke = useAction(async (invitation: Invitation) => {
    await authApi.revokeInvitation(invitation.id);
    setRevoking(undefined);
    if (created?.id === invitation.id) setCreated(undefined);
    invitations.reload();
    toast(`The invitation of ${invitation.email} is revoked; its link no longer works.`);
  });
  const submitInvite = (event: FormEvent) => {
    event.preventDefault();
    if (inviteEmail.trim()) void invite.run(inviteEmail.trim(), inviteRole);
  };

  if (!canAdmin) {
    return (
      <section>
        <h1>Users</h1>
        <ReadOnlyNote reason={`Your account role is ${me.role}: managing accounts needs the organisation admin role.`} />
      </section>
    );
  }
  return (
    <section aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">Users</h1>
      </div>
      <p className="field-hint">
        Invite people with the role they need: they choose their password from the invitation’s link, which works once. Change a role or
        disable an account below; the last enabled admin cannot be demoted or disabled.
      </p>
      <form className="card form inline-form" onSubmit={submitInvite} data-testid="invite-form">
        <Field label="E-mail">
          <input
            type="email"
            placeholder="someone@example.com"
            value={inviteEmail}
            onChange={(e) => setInviteEmail(e.target.value)}
            maxLength={254}
            required
            data-testid="invite-email"
          />
        </Field>
        <Field label="Role">
          <RoleSelect value={inviteRole} onChange={setInviteRole} testId="invite-role" />
        </Field>
        <Button
          type="submit"
          variant="primary"
          busy={invite.busy}
          busyLabel="Inviting…"
          disabled={!inviteEmail.trim()}
          data-testid="invite-submit"
        >
          Invite
        </Button>
      </form>
      <ErrorBox error={invite.error} />
      {created ? <NewInvitation created={created} onDone={() => setCreated(undefined)} /> : null}
      <h2 id="invitations-title">Pending invitations</h2>
      <ErrorBox error={invitations.error} onRetry={invitations.reload} />
      {!invitations.data ? (
        invitations.error ? null : (
          <Loading what="invitations" />
        )
      ) : invitations.data.length === 0 ? (
        <Empty>No pending invitations.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="invitations-title" data-testid="invitations-table">
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">Invited</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {invitations.data.map((i) => (
                <tr key={i.id} data-testid={`invitation-row-${i.email}`}>
                  <td>{i.email}</td>
                  <td>
                    <Badge tone="neutral">{i.role}</Badge>
                  </td>
                  <td title={formatDateTime(i.createdAt)}>{relativeTime(i.createdAt)}</td>
                  <td title={formatDateTime(i.expiresAt)}>{relativeToNow(i.expiresAt)}</td>
                  <td>
                    <Button small variant="danger" onClick={() => setRevoking(i)} data-testid={`invitation-revoke-${i.email}`}>
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2 id="accounts-title">Accounts</h2>
      <ErrorBox error={users.error ?? update.error} onRetry={users.error ? users.reload : undefined} />
      {!users.data ? (
        users.error ? null : (
          <Loading what="users" />
        )
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="accounts-title" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Joined</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id} data-testid={`user-row-${u.email}`}>
                  <td>
                    <strong>{u.name ?? u.email}</strong>
                    {u.name ? <div className="muted">{u.email}</div> : null}
                    {u.id === me.sub ? <Badge tone="info">you</Badge> : null}
                  </td>
                  <td>
                    <RoleSelect
                      label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={update.busy || u.disabled}
                      onChange={(role) => void update.run(u, { role })}
                      testId={`user-role-${u.email}`}
                    />
                  </td>
                  <td>{u.disabled ? <Badge tone="off">disabled</Badge> : <Badge tone="on">active</Badge>}</td>
                  <td>{relativeTime(u.createdAt)}</td>
                  <td>
                    {u.disabled ? (
                      <Button small onClick={() => void update.run(u, { disabled: false })} disabled={update.busy}>
                        Enable
                      </Button>
                    ) : (
                      <Button
                        small
                        variant="danger"
                        onClick={() => setDisabling(u)}
                        disabledReason={u.id === me.sub ? 'You cannot disable your own account here.' : undefined}
                      >
                        Disable
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {users.data?.next ? (
        <Button onClick={() => void more.run()} busy={more.busy} busyLabel="Loading…">
          Load more
        </Button>
      ) : null}
      <ConfirmDialog
        open={disabling !== undefined}
        title={`Disable ${disabling?.email ?? ''}?`}
        confirmLabel="Disable account"
        danger
        busy={update.busy}
        error={update.error}
        onConfirm={() => disabling && void update.run(disabling, { disabled: true })}
        onCancel={() => {
          setDisabling(undefined);
          update.clear();
        }}
      >
        <p>
          They can no longer sign in, and every service refuses the token they already hold within a second. You can enable the account
          again later.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke the invitation of ${revoking?.email ?? ''}?`}
        confirmLabel="Revoke invitation"
        danger
        busy={revoke.busy}
        error={revoke.error}
        onConfirm={() => revoking && void revoke.run(revoking)}
        onCancel={() => {
          setRevoking(undefined);
          revoke.clear();
        }}
      >
        <p>Its link stops working at once. You can invite the same address again later.</p>
      </ConfirmDialog>
    </section>
  );
}

/** The invitation's link as a person can open it: absolute, on this console's origin when the server answered a path. */
function invitationLink(acceptUrl: string): string {
  return new URL(acceptUrl, window.location.origin).toString();
}

function NewInvitation({ created, onDone }: { created: CreatedInvitation; onDone: () => void }) {
  const link = invitationLink(created.acceptUrl);
  const copy = useCopy();
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="card new-key" role="alert" data-testid="new-invitation">
      <h2>
        Invitation of {created.email} as {created.role}
      </h2>
      <p>
        <strong>Copy the link now: this is the only time it is shown.</strong> Send it to {created.email}; it works once, until{' '}
        {formatDateTime(created.expiresAt)}. Anyone who has it can create this account, so send it the way you would send a password.
      </p>
      <div className="copy-row">
        <input
          ref={input}
          readOnly
          value={link}
          className="code"
          aria-label="The invitation link"
          onFocus={(e) => e.target.select()}
          data-testid="new-invitation-link"
        />
        <Button variant="primary" onClick={() => void copy.copy(link, () => input.current?.select())} data-testid="copy-invitation-link">
          {copy.state === 'copied' ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {copy.state === 'refused' ? (
        <p className="field-hint">The browser did not allow copying; the link is selected, press Ctrl+C (⌘C).</p>
      ) : null}
      <Button small onClick={onDone}>
        I have sent it
      </Button>
    </div>
  );
}
