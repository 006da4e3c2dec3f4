import { useId, useState, type FormEvent } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useMutation, type CombinedError } from 'urql';
import { errorMessage } from '../shared/errors';
import { formatDateTime } from '../shared/format';
import { LoginDocument } from './auth.operations';
import { useSession } from './SessionProvider';

// The index route redirects to the first resource's list.
const defaultLanding = '/';

export function LoginPage() {
  const { session, endReason, endedExpiresAt, signIn } = useSession();
  const location = useLocation();
  const [{ fetching }, login] = useMutation(LoginDocument);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<CombinedError>();
  const id = useId();

  if (session) {
    return <Navigate to={redirectTarget(location.state)} replace />;
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(undefined);
    const result = await login({ input: { email: email.trim(), password } });
    if (result.data) {
      signIn(result.data.login);
    } else {
      setError(result.error);
      setPassword('');
    }
  }

  return (
    <main className="centered">
      <form className="panel login" onSubmit={onSubmit} aria-labelledby={`${id}-title`} data-testid="login-form">
        <h1 id={`${id}-title`}>Loyalty admin</h1>
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input
            id={`${id}-email`}
            name="email"
            type="email"
            autoComplete="username"
            required
            autoFocus
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error ? (
          <p className="error" role="alert" data-testid="login-error">
            {errorMessage(error, { UNAUTHENTICATED: 'Invalid email or password' })}
          </p>
        ) : endReason === 'expired' ? (
          <p className="notice" role="status" data-testid="session-expired">
            Your session has expired. Please sign in again.
          </p>
        ) : endReason === 'not-revoked' ? (
          <p className="error" role="alert" data-testid="session-not-revoked">
            Signed out in this browser, but the server did not confirm that your session ended: a copy of it works
            {endedExpiresAt ? ` until ${formatDateTime(endedExpiresAt)}` : ' until it expires'}. Sign in and out again, or ask an
            admin to end your sessions.
          </p>
        ) : null}
        <button type="submit" disabled={fetching} aria-busy={fetching} data-testid="sign-in">
          Sign in
        </button>
      </form>
    </main>
  );
}

function redirectTarget(state: unknown): string {
  const from = (state as { from?: unknown } | null)?.from;
  // Only same-app paths: never bounce to /login again or to another origin.
  return typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') && !from.startsWith('/login')
    ? from
    : defaultLanding;
}
