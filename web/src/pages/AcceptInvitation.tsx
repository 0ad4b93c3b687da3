import { useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { authApi } from '../api/endpoints.ts';
import type { User } from '../api/types.ts';
import { usePermissions, useSession } from '../auth/session.tsx';
import { Button, ErrorBox, Field } from '../components/ui.tsx';
import { useAction } from '../lib/hooks.ts';

const path = '/invitations/accept';

/**
 * Where an invitation's link leads (no sign-in needed): the invitee chooses a password (and a name), which creates
 * the account the admin invited — its e-mail and role are the invitation's — and is then signed in. The link works once.
 */
export function AcceptInvitationPage() {
  const { signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // Read once: after the account is made the token leaves the address bar, and this page stays as it was.
  const [token] = useState(() => params.get('token') ?? '');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [account, setAccount] = useState<User | undefined>(undefined);
  const accept = useAction(async () => {
    const { data } = await authApi.acceptInvitation(token, password, name.trim() || undefined);
    setAccount(data);
    // The link is used up: take it out of the address bar and the history before going on.
    void navigate(path, { replace: true });
    await signIn(data.email, password);
  });
  const shortPassword = password.length > 0 && password.length < 12;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!account) void accept.run();
  };

  if (!token) {
    return (
      <div className="signin">
        <div className="card signin-card" data-testid="invitation-missing">
          <h1>Accept an invitation</h1>
          <p>This page opens from the link of an invitation, which an administrator sends you. Open the whole link you received.</p>
          <p className="signin-switch">
            Have an account? <Link to="/signin">Sign in</Link>
          </p>
        </div>
      </div>
    );
  }
  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="invitation-title" data-testid="accept-invitation">
        <div className="signin-brand">
          <img src="/console/favicon.svg" alt="" width={40} height={40} />
          <h1 id="invitation-title">Join ToggleMaster</h1>
        </div>
        {account ? (
          <p className="alert alert-info" role="status" data-testid="invitation-accepted">
            Your account {account.email} ({account.role}) is ready{accept.error ? '' : '; signing you in…'}
          </p>
        ) : (
          <p className="field-hint">
            You were invited to ToggleMaster. Choose the password of your account; your e-mail and role are the invitation’s.
          </p>
        )}
        <Field label="Name" hint="Optional: how others see you">
          <input
            type="text"
            name="name"
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={200}
            disabled={account !== undefined}
            data-testid="invitation-name"
          />
        </Field>
        <Field label="Password" error={shortPassword ? 'At least 12 characters' : undefined} hint="At least 12 characters">
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            disabled={account !== undefined}
            data-testid="invitation-password"
            autoFocus
          />
        </Field>
        <ErrorBox error={accept.error} />
        {account ? (
          accept.error ? (
            <p className="signin-switch">
              <Link to="/signin">Sign in</Link> with {account.email} and the password you chose.
            </p>
          ) : null
        ) : (
          <Button
            type="submit"
            variant="primary"
            busy={accept.busy}
            busyLabel="Creating your account…"
            disabled={password.length < 12}
            data-testid="invitation-submit"
          >
            Create my account
          </Button>
        )}
        {!account ? (
          <p className="signin-switch">
            Already have an account? <Link to="/signin">Sign in</Link>
          </p>
        ) : null}
      </form>
    </div>
  );
}

/**
 * An invitation's link opened while someone is signed in: the invitation is for a new account, so say whose
 * session this is and offer to sign out first. Without a token (just accepted, then signed in) it goes on to the flags.
 */
export function InvitationWhileSignedIn() {
  const { signOut } = useSession();
  const { me } = usePermissions();
  const [params] = useSearchParams();
  if (!params.get('token')) return <Navigate to="/flags" replace />;
  return (
    <div className="signin">
      <div className="card signin-card" data-testid="invitation-signed-in">
        <h1>Accept an invitation</h1>
        <p>
          You are signed in as <strong>{me.email}</strong>. This invitation creates a new account: sign out first to accept it, or keep
          working as yourself.
        </p>
        <Button variant="primary" onClick={() => signOut()} data-testid="invitation-sign-out">
          Sign out and accept
        </Button>
        <p className="signin-switch">
          <Link to="/flags">Back to the flags</Link>
        </p>
      </div>
    </div>
  );
}
