import { AdminRole, type ApiKeyScopeDefinition, type PermissionDefinition } from '@loyalty/api/extension-api';

export const ActivityPermission = {
  /** Record members' activities: channels (the activities:write scope) and admins. */
  WRITE: 'activities:write',
  /** Declare and change activity types. */
  MANAGE: 'activities:manage',
} as const;

// ADMIN holds every permission; the roles listed hold them too.
export const permissions: PermissionDefinition[] = [
  { name: ActivityPermission.WRITE, description: "Record members' activities (recordActivity)." },
  { name: ActivityPermission.MANAGE, description: 'Declare and change activity types and their earning rules.', roles: [AdminRole.MARKETER] },
];

export const apiKeyScopes: ApiKeyScopeDefinition[] = [
  { scope: ActivityPermission.WRITE, description: "Record members' activities (store visits, reviews, check-ins) and list the activity types.", permissions: [ActivityPermission.WRITE] },
];
