/**
 * The principals this module issues (admin-auth.service.ts, channels' API keys). Their shape is the base's, so that a
 * service's `Context` can name its caller without importing a module; the role and permission values are permissions.ts'.
 */
export type { AdminPrincipal, ChannelPrincipal, Principal } from '../../base/principal';
export { actorRef } from '../../base/principal';
