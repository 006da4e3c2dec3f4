import type { SalesChannelKind } from './enums';

/**
 * Who is calling, as every service sees it in its `Context`. The base knows only the shape: the auth module issues
 * principals and owns the vocabulary of roles and permissions (modules/auth/permissions.ts), whose values are these strings.
 */
export interface AdminPrincipal {
  kind: 'admin';
  adminId: string;
  /** The token's session (its `jti`), which logout revokes. */
  sessionId: string;
  email: string;
  /** An `AdminRole`. */
  role: string;
  /** `Permission` values. */
  permissions: ReadonlySet<string>;
}

export interface ChannelPrincipal {
  kind: 'channel';
  apiKeyId: string;
  channelId: string;
  channelKind: SalesChannelKind;
  /** `Permission` values. */
  permissions: ReadonlySet<string>;
}

export type Principal = AdminPrincipal | ChannelPrincipal;

/** How the audit log and merge records name an actor. */
export function actorRef(principal: Principal | null): string {
  if (!principal) return 'system';
  return principal.kind === 'admin' ? `admin:${principal.adminId}` : `apiKey:${principal.apiKeyId}`;
}
