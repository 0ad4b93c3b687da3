import { useState } from 'react';
import { authApi } from '../api/endpoints.ts';
import type { Role, User } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { Badge, Button, ConfirmDialog, ErrorBox, Loading, ReadOnlyNote, useToast } from '../components/ui.tsx';
import { relativeTime } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';

const roles: Role[] = ['viewer', 'editor', 'admin'];

interface UserList {
  items: User[];
  next: string | null;
}

/** Accounts (admin only): change a role, disable or enable an account. */
export function UsersPage() {
  const { canAdmin, me } = usePermissions();
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

  if (!canAdmin) {
    return (
      <section>
        <h1>Users</h1>
        <ReadOnlyNote reason={`Your role is ${me.role}: managing accounts needs the admin role.`} />
      </section>
    );
  }
  return (
    <section aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">Users</h1>
      </div>
      <p className="field-hint">People sign up as viewers; raise their role here. The last enabled admin cannot be demoted or disabled.</p>
      <ErrorBox error={users.error ?? update.error} onRetry={users.error ? users.reload : undefined} />
      {!users.data ? (
        users.error ? null : (
          <Loading what="users" />
        )
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="users-table">
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
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={update.busy || u.disabled}
                      onChange={(e) => void update.run(u, { role: e.target.value as Role })}
                      data-testid={`user-role-${u.email}`}
                    >
                      {roles.map((r) => (
                        <option key={r} value={r}>
                          {r}
                        </option>
                      ))}
                    </select>
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
          They can no longer sign in; a token they already hold keeps working with the services until it expires (15 minutes by default).
          You can enable the account again later.
        </p>
      </ConfirmDialog>
    </section>
  );
}
