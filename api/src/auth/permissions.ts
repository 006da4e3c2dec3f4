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
  ORDERS_READ = 'orders:read',
  /** Spend a member's points on a reward; cancel an unused redemption. */
  REWARDS_REDEEM = 'rewards:redeem',
  /** Manual points adjustments with a reason. */
  POINTS_ADJUST = 'points:adjust',
  /** The rewards catalogue. */
  REWARDS_MANAGE = 'rewards:manage',
  /** Earning rules, tiers, paid plans, programme settings and the points jobs. */
  PROGRAMME_MANAGE = 'programme:manage',
  /** Sales channels, API keys, admin users and the audit log. */
  ADMIN_MANAGE = 'admin:manage',
  /** Programme-wide KPIs, RFM, cohorts: aggregates, never identities. */
  ANALYTICS_READ = 'analytics:read',
  /** Model versions, training jobs and their metrics. */
  MODELS_READ = 'models:read',
  /** Queue a retrain. */
  MODELS_TRAIN = 'models:train',
  /** Serve a model version by hand, or roll back. */
  MODELS_ACTIVATE = 'models:activate',
  /** Preview rules and read saved segments with their members. */
  SEGMENTS_READ = 'segments:read',
  /** Create, change and delete saved segments. */
  SEGMENTS_MANAGE = 'segments:manage',
  /** Record members' NPS and CSAT answers. */
  FEEDBACK_WRITE = 'feedback:write',
  /** Read members' answers (comments also need members:pii). */
  FEEDBACK_READ = 'feedback:read',
  /** Job counts and live workers per queue. */
  QUEUES_READ = 'queues:read',
  /** Sign out and change one's own password: every admin role, never an API key. */
  OWN_ACCOUNT = 'account:own',
  /** Read campaigns, their members by id, and their results. */
  CAMPAIGNS_READ = 'campaigns:read',
  /** Create, change, launch and cancel campaigns. */
  CAMPAIGNS_MANAGE = 'campaigns:manage',
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
  ORDERS_READ = 'orders:read',
  REWARDS_REDEEM = 'rewards:redeem',
  FEEDBACK_WRITE = 'feedback:write',
}
registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  valuesConfig: {
    MEMBERS_READ: { description: 'Find members and read their profile.' },
    MEMBERS_WRITE: { description: 'Enrol members, update profiles and consents, and record who referred a member.' },
    MEMBERS_MERGE: { description: 'Merge two member records of one person.' },
    ORDERS_WRITE: { description: 'Record orders, returns and guest-order claims; consume vouchers at checkout.' },
    ORDERS_READ: { description: "Read orders and members' points, tiers and ledgers." },
    REWARDS_REDEEM: { description: "Spend a member's points on rewards and cancel unused redemptions." },
    FEEDBACK_WRITE: { description: "Record members' NPS and CSAT answers about orders, the channel or its stores." },
  },
});

export const rolePermissions: Record<AdminRole, ReadonlySet<Permission>> = {
  [AdminRole.ADMIN]: new Set(Object.values(Permission)),
  [AdminRole.MARKETER]: new Set([
    Permission.MEMBERS_READ,
    Permission.MEMBERS_PII,
    Permission.MEMBERS_WRITE,
    Permission.MEMBERS_MERGE,
    Permission.ORDERS_READ,
    Permission.REWARDS_REDEEM,
    Permission.POINTS_ADJUST,
    Permission.REWARDS_MANAGE,
    Permission.ANALYTICS_READ,
    Permission.MODELS_READ,
    Permission.SEGMENTS_READ,
    Permission.SEGMENTS_MANAGE,
    Permission.FEEDBACK_READ,
    Permission.OWN_ACCOUNT,
    Permission.CAMPAIGNS_READ,
    Permission.CAMPAIGNS_MANAGE,
  ]),
  // Analysts work on behaviour, not identities.
  [AdminRole.ANALYST]: new Set([
    Permission.MEMBERS_READ,
    Permission.ORDERS_READ,
    Permission.ANALYTICS_READ,
    Permission.MODELS_READ,
    Permission.MODELS_TRAIN,
    Permission.SEGMENTS_READ,
    Permission.FEEDBACK_READ,
    Permission.QUEUES_READ,
    Permission.OWN_ACCOUNT,
    Permission.CAMPAIGNS_READ,
  ]),
};

/** A channel that may read members needs their contact details to serve them at the till or checkout. */
export function scopePermissions(scopes: readonly ApiKeyScope[]): ReadonlySet<Permission> {
  const out = new Set<Permission>(scopes as unknown as Permission[]);
  if (out.has(Permission.MEMBERS_READ)) out.add(Permission.MEMBERS_PII);
  return out;
}
