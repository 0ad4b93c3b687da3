import { useState, type FormEvent } from 'react';
import { authApi } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { Button, ErrorBox, Field } from '../components/ui.tsx';
import { useAction, useResource } from '../lib/hooks.ts';

export function SignInPage({ reason }: { reason?: string | undefined }) {
  const { signIn } = useSession();
  const [mode, setMode] = useState<'signin' | 'register'>('signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [registered, setRegistered] = useState(false);
  // Whether this server lets anyone register; until it says so (or if it cannot), only signing in is offered.
  const settings = useResource(async () => (await authApi.settings()).data, []);
  const selfRegistration = settings.data?.selfRegistration === true;
  const domains = settings.data?.selfRegistrationDomains ?? [];
  const login = useAction(signIn);
  const register = useAction(async () => {
    await authApi.register(email.trim(), password, name.trim() || undefined);
    setRegistered(true);
    await signIn(email.trim(), password);
  });
  const busy = login.busy || register.busy;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === 'signin') void login.run(email.trim(), password);
    else void register.run();
  };
  const shortPassword = mode === 'register' && password.length > 0 && password.length < 12;

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="signin-brand">
          <img src="/console/favicon.svg" alt="" width={40} height={40} />
          <h1 id="signin-title">{mode === 'signin' ? 'Sign in to ToggleMaster' : 'Create an account'}</h1>
        </div>
        {reason && mode === 'signin' ? (
          <p className="alert alert-info" role="status">
            {reason}
          </p>
        ) : null}
        <Field label="Email">
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            data-testid="signin-email"
            autoFocus
          />
        </Field>
        {mode === 'register' ? (
          <Field label="Name" hint="Optional">
            <input type="text" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
        ) : null}
        <Field label="Password" error={shortPassword ? 'At least 12 characters' : undefined}>
          <input
            type="password"
            name="password"
            autoComplete={mode === 'signin' ? 'current-password' : 'new-password'}
            required
            minLength={mode === 'register' ? 12 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="signin-password"
          />
        </Field>
        <ErrorBox error={mode === 'signin' ? login.error : register.error} />
        {registered && register.error ? (
          <p className="field-hint" data-testid="registered-hint">
            If this email already had an account, that account was left as it was: sign in with its password.
          </p>
        ) : null}
        <Button
          type="submit"
          variant="primary"
          busy={busy}
          busyLabel={mode === 'signin' ? 'Signing in…' : 'Creating…'}
          data-testid="signin-submit"
          disabled={shortPassword}
        >
          {mode === 'signin' ? 'Sign in' : 'Create account'}
        </Button>
        <p className="signin-switch" data-testid="signin-switch">
          {mode === 'signin' ? (
            selfRegistration ? (
              <>
                No account?{' '}
                <button type="button" className="link" onClick={() => setMode('register')}>
                  Create one
                </button>{' '}
                {domains.length > 0 ? `with an address at ${domains.map((d) => `@${d}`).join(', ')} ` : ''}(new accounts are viewers until
                an admin changes their role).
              </>
            ) : settings.data ? (
              <>No account? Ask an administrator to invite you: the invitation’s link lets you set your password.</>
            ) : null
          ) : (
            <>
              Have an account?{' '}
              <button type="button" className="link" onClick={() => setMode('signin')}>
                Sign in
              </button>
            </>
          )}
        </p>
      </form>
    </div>
  );
}
