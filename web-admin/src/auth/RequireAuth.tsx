import { createContext, useContext } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { useQuery } from 'urql';
import { errorMessage } from '../shared/errors';
import { MeDocument, type AdminUser } from './auth.operations';
import { useSession } from './SessionProvider';
import { useSignOut } from './use-sign-out';

const CurrentAdminContext = createContext<AdminUser | null>(null);

/** Layout route: sends visitors without a live session to /login, then loads `me` for the pages below. */
export function RequireAuth() {
  const { session } = useSession();
  const location = useLocation();
  if (!session) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <CurrentAdminGate />;
}

function CurrentAdminGate() {
  const signOut = useSignOut();
  const [{ data, error, fetching }, refetch] = useQuery({ query: MeDocument });

  if (data) {
    return (
      <CurrentAdminContext.Provider value={data.me}>
        <Outlet />
      </CurrentAdminContext.Provider>
    );
  }
  if (error && !fetching) {
    // UNAUTHENTICATED never lands here: the client signs out and RequireAuth redirects.
    return (
      <main className="centered">
        <div className="panel" role="alert" data-testid="me-error">
          <p>{errorMessage(error)}</p>
          <div className="actions">
            <button type="button" onClick={() => refetch({ requestPolicy: 'network-only' })}>
              Retry
            </button>
            <button type="button" className="secondary" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </main>
    );
  }
  return (
    <main className="centered">
      <p role="status" className="muted">
        Loading…
      </p>
    </main>
  );
}

export function useCurrentAdmin(): AdminUser {
  const admin = useContext(CurrentAdminContext);
  if (!admin) throw new Error('useCurrentAdmin must be used below <RequireAuth>');
  return admin;
}
