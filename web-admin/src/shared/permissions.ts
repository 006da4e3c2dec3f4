import type { AdminRole } from '../gql/graphql';

/** Mirrors api/src/modules/auth/permissions.ts (rolePermissions), so pages hide what the API would refuse anyway. */
export type Permission =
  | 'members:pii'
  | 'points:adjust'
  | 'rewards:manage'
  | 'programme:manage'
  | 'analytics:read'
  | 'models:read'
  | 'models:train'
  | 'models:activate'
  | 'segments:read'
  | 'segments:manage'
  | 'queues:read'
  | 'campaigns:read'
  | 'campaigns:manage'
  // The activities plugin's (plugins/activities/src/access.ts).
  | 'activities:manage'
  // The challenges plugin's (plugins/challenges/src/declarations.ts).
  | 'challenges:read'
  | 'challenges:manage';

const rolePermissions: Record<AdminRole, ReadonlySet<Permission>> = {
  ADMIN: new Set<Permission>([
    'members:pii',
    'points:adjust',
    'rewards:manage',
    'programme:manage',
    'analytics:read',
    'models:read',
    'models:train',
    'models:activate',
    'segments:read',
    'segments:manage',
    'queues:read',
    'campaigns:read',
    'campaigns:manage',
    'activities:manage',
    'challenges:read',
    'challenges:manage',
  ]),
  MARKETER: new Set<Permission>([
    'members:pii',
    'points:adjust',
    'rewards:manage',
    'analytics:read',
    'models:read',
    'segments:read',
    'segments:manage',
    'campaigns:read',
    'campaigns:manage',
    'activities:manage',
    'challenges:read',
    'challenges:manage',
  ]),
  ANALYST: new Set<Permission>(['analytics:read', 'models:read', 'models:train', 'segments:read', 'queues:read', 'campaigns:read', 'challenges:read']),
};

export function can(role: AdminRole, permission: Permission): boolean {
  return rolePermissions[role]?.has(permission) ?? false;
}
