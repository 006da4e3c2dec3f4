import { registerEnumType } from 'type-graphql';

/** What a caller may do. Admin roles map to a fixed set; API keys carry scopes from the channel subset. */
export enum Permission {
  MEMBERS_READ = 'members:read',
  /** Names, email, phone, birthday. */
  MEMBERS_PII = 'members:pii',
  MEMBERS_WRITE = 'members:write',
  MEMBERS_MERGE = 'members:merge',
  MEMBERS_ERASE = 'members:erase',
  ORDERS_WRITE = 'orders:write',
  /** Sales channels, API keys, admin users and the audit log. */
  ADMIN_MANAGE = 'admin:manage',
}

export enum AdminRole {
  ADMIN = 'ADMIN',
  MARKETER = 'MARKETER',
  ANALYST = 'ANALYST',
}
registerEnumType(AdminRole, { name: 'AdminRole' });

export enum ApiKeyScope {
  MEMBERS_READ = 'members:read',
  MEMBERS_WRITE = 'members:write',
  MEMBERS_MERGE = 'members:merge',
  ORDERS_WRITE = 'orders:write',
}
registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  valuesConfig: {
    MEMBERS_READ: { description: 'Find members and read their profile.' },
    MEMBERS_WRITE: { description: 'Enrol members and update profiles and consents.' },
    MEMBERS_MERGE: { description: 'Merge two member records of one person.' },
    ORDERS_WRITE: { description: 'Record orders and returns.' },
  },
});

export const rolePermissions: Record<AdminRole, ReadonlySet<Permission>> = {
  [AdminRole.ADMIN]: new Set(Object.values(Permission)),
  [AdminRole.MARKETER]: new Set([
    Permission.MEMBERS_READ,
    Permission.MEMBERS_PII,
    Permission.MEMBERS_WRITE,
    Permission.MEMBERS_MERGE,
  ]),
  // Analysts work on behaviour, not identities.
  [AdminRole.ANALYST]: new Set([Permission.MEMBERS_READ]),
};

/** A channel that may read members needs their contact details to serve them at the till or checkout. */
export function scopePermissions(scopes: readonly ApiKeyScope[]): ReadonlySet<Permission> {
  const out = new Set<Permission>(scopes as unknown as Permission[]);
  if (out.has(Permission.MEMBERS_READ)) out.add(Permission.MEMBERS_PII);
  return out;
}
