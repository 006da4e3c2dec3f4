import type { SalesChannelKind } from '../shared/enums';
import type { AdminRole, Permission } from './permissions';

export interface AdminPrincipal {
  kind: 'admin';
  adminId: string;
  /** The token's session (its `jti`), which logout revokes. */
  sessionId: string;
  email: string;
  role: AdminRole;
  permissions: ReadonlySet<Permission>;
}

export interface ChannelPrincipal {
  kind: 'channel';
  apiKeyId: string;
  channelId: string;
  channelKind: SalesChannelKind;
  permissions: ReadonlySet<Permission>;
}

export type Principal = AdminPrincipal | ChannelPrincipal;

/** How the audit log and merge records name an actor. */
export function actorRef(principal: Principal | null): string {
  if (!principal) return 'system';
  return principal.kind === 'admin' ? `admin:${principal.adminId}` : `apiKey:${principal.apiKeyId}`;
}
