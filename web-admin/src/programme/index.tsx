import type { ComponentType } from 'react';
import { Navigate, NavLink, Outlet, type RouteObject } from 'react-router';
import { EarningRuleList } from './EarningRuleList';
import { PlanList } from './PlanList';
import { RewardList } from './RewardList';
import { SettingsPage } from './SettingsPage';
import { TierList } from './TierList';

// For those who set the programme up (analysts work on behaviour instead); each page says what the role may change.
const permissions = ['programme:manage', 'rewards:manage'];

/** The programme's set-up, one tab each, under one entry of the main navigation. */
const pages: { path: string; label: string; Component: ComponentType }[] = [
  { path: 'rewards', label: 'Rewards', Component: RewardList },
  { path: 'tiers', label: 'Tiers', Component: TierList },
  { path: 'earning-rules', label: 'Earning rules', Component: EarningRuleList },
  { path: 'plans', label: 'Plans', Component: PlanList },
  { path: 'settings', label: 'Settings', Component: SettingsPage },
];

export const resources: { nav: { to: string; label: string; permissions: readonly string[] }; routes: RouteObject[] }[] = [
  {
    nav: { to: '/programme', label: 'Programme', permissions },
    routes: [
      {
        path: 'programme',
        Component: ProgrammeLayout,
        children: [{ index: true, element: <Navigate to={pages[0].path} replace /> }, ...pages.map(({ path, Component }) => ({ path, Component }))],
      },
      // The pages' earlier addresses (bookmarks, links) still open them.
      ...pages.map(({ path }) => ({ path, element: <Navigate to={`/programme/${path}`} replace /> })),
    ],
  },
];

function ProgrammeLayout() {
  return (
    <>
      <nav className="tabs" aria-label="Programme">
        {pages.map((p) => (
          <NavLink key={p.path} to={`/programme/${p.path}`} className={({ isActive }) => (isActive ? 'tab active' : 'tab')}>
            {p.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </>
  );
}
