import { Navigate, NavLink, Outlet, useLocation, type RouteObject } from 'react-router';
import { useCurrentAdmin } from '../auth/RequireAuth';
import * as channels from '../channels';
import * as webhooks from '../webhooks';
import * as audit from '../audit';
import * as adminUsers from '../admin-users';
import * as imports from '../import';
import * as service from '../service';
import * as pointsJobs from '../points-jobs';
import { canAny } from '../shared/permissions';
import type { OperationsPage } from './operations-page';

/** The operator pages, one tab each, in the order they are shown. */
const pages: OperationsPage[] = [channels.page, webhooks.page, audit.page, adminUsers.page, imports.page, pointsJobs.page, ...service.pages];

export const nav = { to: '/operations', label: 'Operations', permissions: [...new Set(pages.flatMap((p) => p.permissions))] };

export const routes: RouteObject[] = [
  {
    path: 'operations',
    Component: OperationsLayout,
    children: [{ index: true, Component: FirstAllowedPage }, ...pages.flatMap((p) => p.routes)],
  },
];

/** Tabs for the pages this admin may open (`me.permissions`), then the open page. */
function OperationsLayout() {
  const admin = useCurrentAdmin();
  const { pathname } = useLocation();
  const current = pages.find((p) => pathname.startsWith(p.to));
  const isAllowed = !current || canAny(admin, current.permissions);
  return (
    <>
      <nav className="tabs" aria-label="Operations">
        {pages
          .filter((p) => canAny(admin, p.permissions))
          .map((p) => (
            <NavLink key={p.to} to={p.to} className={({ isActive }) => (isActive ? 'tab active' : 'tab')}>
              {p.label}
            </NavLink>
          ))}
      </nav>
      {isAllowed ? (
        <Outlet />
      ) : (
        <p className="notice" data-testid="operations-forbidden">
          Your role cannot open {current.label.toLowerCase()}.
        </p>
      )}
    </>
  );
}

function FirstAllowedPage() {
  const admin = useCurrentAdmin();
  const first = pages.find((p) => canAny(admin, p.permissions));
  return first ? <Navigate to={first.to} replace /> : <p className="empty">Your role has no operator pages.</p>;
}
