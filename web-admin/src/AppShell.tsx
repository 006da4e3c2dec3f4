import { Link, NavLink, Outlet } from 'react-router';
import type { AdminRole } from './auth/auth.operations';
import { useCurrentAdmin } from './auth/RequireAuth';
import { useSignOut } from './auth/use-sign-out';
import { resources } from './resources';
import { canAny } from './shared/permissions';

const roleLabels = {
  ADMIN: 'Admin',
  MARKETER: 'Marketer',
  ANALYST: 'Analyst',
} satisfies Record<AdminRole, string>;

/** Layout for signed-in pages: header with navigation and the current admin, then the page. */
export function AppShell() {
  const admin = useCurrentAdmin();
  const signOut = useSignOut();

  return (
    <div className="shell">
      <header className="shell-header">
        <span className="brand">Loyalty admin</span>
        <nav aria-label="Main">
          {resources
            .filter(({ nav }) => canAny(admin, nav.permissions))
            .map(({ nav }) => (
              <NavLink key={nav.to} to={nav.to}>
                {nav.label}
              </NavLink>
            ))}
        </nav>
        <Link to="/account" className="current-admin" aria-label={`${admin.email}: your account and password`} data-testid="current-admin">
          <span className="current-admin-email" title={admin.email}>
            {admin.email}
          </span>
          <span className="badge" data-testid="current-admin-role">
            {roleLabels[admin.role] ?? admin.role}
          </span>
        </Link>
        <button type="button" className="secondary" onClick={() => void signOut()} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <main className="shell-main">
        <Outlet />
      </main>
    </div>
  );
}
