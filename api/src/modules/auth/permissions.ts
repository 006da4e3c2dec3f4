import { registerEnumType } from 'type-graphql';

/** What a caller may do. Admin roles map to a fixed set; API keys carry scopes from the channel subset. */
export enum Permission {
  MEMBERS_READ = 'members:read',
  /** Names, email, phone, birthday. */
  MEMBERS_PII = 'members:pii',
  MEMBERS_WRITE = 'members:write',
  MEMBERS_MERGE = 'members:merge',
  MEMBERS_ERASE = 'members:erase',
  /** Export everything held about a member (a subject access or portability request). */
  MEMBERS_EXPORT = 'members:export',
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
  /**
   * Colleagues' work emails and API keys' names (`actorDirectory`), to say who did something: every admin role, never
   * an API key. Nothing else about them (roles, status, key prefixes, scopes) comes with it; that stays admin:manage.
   */
  STAFF_READ = 'staff:read',
  /**
   * Import transaction files (orders, members and their points, in bulk) from the admin app; without members:pii the
   * files' values that may be personal are hidden, and only one's own upload is started.
   */
  IMPORT_RUN = 'import:run',
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
/** What each core scope lets a channel do: in the schema's enum and in `apiKeyScopes`. */
const CORE_SCOPE_DESCRIPTIONS: Record<keyof typeof ApiKeyScope, string> = {
  MEMBERS_READ: 'Find members and read their profile.',
  MEMBERS_WRITE: 'Enrol members, update profiles and consents, and record who referred a member.',
  MEMBERS_MERGE: 'Merge two member records of one person.',
  ORDERS_WRITE: 'Record orders, returns and guest-order claims; consume vouchers at checkout.',
  ORDERS_READ: "Read orders and members' points, tiers and ledgers.",
  REWARDS_REDEEM: "Spend a member's points on rewards and cancel unused redemptions.",
  FEEDBACK_WRITE: "Record members' NPS and CSAT answers about orders, the channel or its stores.",
};
registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  valuesConfig: Object.fromEntries(Object.entries(CORE_SCOPE_DESCRIPTIONS).map(([key, description]) => [key, { description }])),
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
    Permission.STAFF_READ,
    Permission.CAMPAIGNS_READ,
    Permission.CAMPAIGNS_MANAGE,
  ]),
  // Analysts work on behaviour, not identities: they import transactions (personal values hidden from them, import
  // module's personal-data.ts) and choose which model version serves.
  [AdminRole.ANALYST]: new Set([
    Permission.MEMBERS_READ,
    Permission.ORDERS_READ,
    Permission.ANALYTICS_READ,
    Permission.MODELS_READ,
    Permission.MODELS_TRAIN,
    Permission.MODELS_ACTIVATE,
    Permission.IMPORT_RUN,
    Permission.SEGMENTS_READ,
    Permission.FEEDBACK_READ,
    Permission.QUEUES_READ,
    Permission.OWN_ACCOUNT,
    Permission.STAFF_READ,
    Permission.CAMPAIGNS_READ,
  ]),
};

/** A channel that may read members needs their contact details to serve them at the till or checkout. */
export function scopePermissions(scopes: readonly ApiKeyScope[]): ReadonlySet<Permission> {
  const out = new Set<Permission>(scopes as unknown as Permission[]);
  if (out.has(Permission.MEMBERS_READ)) out.add(Permission.MEMBERS_PII);
  return out;
}

/** A permission a plugin declares, for `@Authorized('activities:write')` on its resolvers. */
export interface PermissionDefinition {
  /** `area:action`, lower case (`activities:write`); must not be a core permission. */
  name: string;
  description: string;
  /** Admin roles that hold it besides ADMIN, which holds every permission. */
  roles?: readonly AdminRole[];
}

/** An API-key scope a plugin declares: a channel key with it holds the listed permissions, all the plugin's own. */
export interface ApiKeyScopeDefinition {
  /** `area:action` (`activities:write`); must not be a core scope. */
  scope: string;
  description: string;
  permissions: readonly string[];
}

/** A scope as GraphQL lists it: `key` is the ApiKeyScope enum value's name (ACTIVITIES_WRITE). */
export interface ApiKeyScopeInfo {
  scope: string;
  key: string;
  description: string;
  isCore: boolean;
}

const ACCESS_NAME = /^[a-z][a-z0-9-]{0,30}:[a-z][a-z0-9-]{0,30}$/;

/** The GraphQL enum value name of a scope: `activities:write` is ACTIVITIES_WRITE. */
export const scopeKey = (scope: string) => scope.replace(/[:-]/g, '_').toUpperCase();

/**
 * Who may do what in one app: the core's roles and scopes (above) plus the permissions and scopes plugins declare.
 * The auth checker only asks whether a principal's set has a permission, so a plugin's resolvers use `@Authorized`
 * with their own names as the core's do.
 */
export class AccessControl {
  private readonly permissions = new Map<string, PermissionDefinition & { owner: string }>();
  private readonly scopes = new Map<string, ApiKeyScopeInfo & { permissions: readonly string[] }>();
  private readonly roles = new Map<AdminRole, ReadonlySet<string>>(Object.entries(rolePermissions) as Array<[AdminRole, ReadonlySet<string>]>);

  constructor() {
    for (const [key, scope] of Object.entries(ApiKeyScope)) {
      this.scopes.set(scope, { scope, key, description: CORE_SCOPE_DESCRIPTIONS[key as keyof typeof ApiKeyScope], isCore: true, permissions: [] });
    }
  }

  registerPermission(def: PermissionDefinition, owner: string): void {
    const name = def?.name;
    if (typeof name !== 'string' || !ACCESS_NAME.test(name)) throw new Error(`permission ${JSON.stringify(name)} of ${owner} must look like area:action (a-z, 0-9, -)`);
    if ((Object.values(Permission) as string[]).includes(name) || this.permissions.has(name)) throw new Error(`permission ${name} of ${owner} is already declared`);
    if (typeof def.description !== 'string' || !def.description.trim()) throw new Error(`permission ${name} of ${owner} needs a description`);
    const roles = def.roles ?? [];
    const unknown = roles.filter((r) => !(Object.values(AdminRole) as string[]).includes(r));
    if (unknown.length) throw new Error(`permission ${name} of ${owner}: unknown role(s) ${unknown.join(', ')}`);
    this.permissions.set(name, { ...def, owner });
    for (const role of new Set([AdminRole.ADMIN, ...roles])) this.roles.set(role, new Set([...this.roles.get(role)!, name]));
  }

  /** After its permissions: a scope grants only permissions its own plugin declared. */
  registerScope(def: ApiKeyScopeDefinition, owner: string): void {
    const scope = def?.scope;
    if (typeof scope !== 'string' || !ACCESS_NAME.test(scope)) throw new Error(`API-key scope ${JSON.stringify(scope)} of ${owner} must look like area:action (a-z, 0-9, -)`);
    const key = scopeKey(scope);
    if ([...this.scopes.values()].some((s) => s.scope === scope || s.key === key)) throw new Error(`API-key scope ${scope} of ${owner} is already declared`);
    if (typeof def.description !== 'string' || !def.description.trim()) throw new Error(`API-key scope ${scope} of ${owner} needs a description`);
    if (!Array.isArray(def.permissions) || def.permissions.length === 0) throw new Error(`API-key scope ${scope} of ${owner} must grant at least one permission`);
    const foreign = def.permissions.filter((p) => this.permissions.get(p)?.owner !== owner);
    if (foreign.length) throw new Error(`API-key scope ${scope} of ${owner} grants ${foreign.join(', ')}, which ${owner} does not declare`);
    this.scopes.set(scope, { scope, key, description: def.description, isCore: false, permissions: [...def.permissions] });
  }

  forRole(role: AdminRole): ReadonlySet<string> {
    return this.roles.get(role) ?? new Set();
  }

  /** A scope no longer registered (its plugin removed) grants nothing. */
  forScopes(scopes: readonly string[]): ReadonlySet<string> {
    const core = scopes.filter((s) => this.scopes.get(s)?.isCore) as ApiKeyScope[];
    const out = new Set<string>(scopePermissions(core));
    for (const s of scopes) for (const p of this.scopes.get(s)?.permissions ?? []) out.add(p);
    return out;
  }

  isScope(scope: string): boolean {
    return this.scopes.has(scope);
  }

  listScopes(): ApiKeyScopeInfo[] {
    return [...this.scopes.values()].map(({ scope, key, description, isCore }) => ({ scope, key, description, isCore }));
  }
}
