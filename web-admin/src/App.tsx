import { useMemo, type ReactNode } from 'react';
import { createBrowserRouter, Navigate } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { Provider as UrqlProvider } from 'urql';
import { AppShell } from './AppShell';
import { AccountPage } from './auth/AccountPage';
import { LoginPage } from './auth/LoginPage';
import { RequireAuth } from './auth/RequireAuth';
import { readToken, sessionIdentity } from './auth/session';
import { SessionProvider, useSession } from './auth/SessionProvider';
import { resources } from './resources';
import { createAdminClient } from './shared/client';

const landingPath = resources[0].nav.to;

const router = createBrowserRouter([
  { path: '/login', Component: LoginPage },
  {
    Component: RequireAuth,
    children: [
      {
        Component: AppShell,
        children: [
          { index: true, element: <Navigate to={landingPath} replace /> },
          ...resources.flatMap((resource) => resource.routes),
          { path: 'account', Component: AccountPage },
          { path: '*', element: <Navigate to={landingPath} replace /> },
        ],
      },
    ],
  },
]);

export function App() {
  return (
    <SessionProvider>
      <ApiClientProvider>
        <RouterProvider router={router} />
      </ApiClientProvider>
    </SessionProvider>
  );
}

function ApiClientProvider({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const identity = session ? sessionIdentity(session.token) : null;
  // A new client (so an empty cache) per session: one admin never sees results cached for another, and a renewed token
  // (the same session) keeps the cache, so pages and their forms stay as they are.
  const client = useMemo(
    () => createAdminClient({ getToken: readToken, onUnauthenticated: () => signOut('expired') }),
    [identity, signOut],
  );
  return <UrqlProvider value={client}>{children}</UrqlProvider>;
}
