import type { Config } from './shared/config';
import { AuditService } from './audit/audit.service';
import { AdminAuthService } from './auth/admin-auth.service';
import { ApiKeyService } from './channels/api-key.service';
import { MemberService } from './members/member.service';

/** Domain services are stateless singletons; each call gets the request's context. */
export interface Services {
  audit: AuditService;
  adminAuth: AdminAuthService;
  apiKeys: ApiKeyService;
  members: MemberService;
}

export function createServices(config: Config): Services {
  const audit = new AuditService();
  return {
    audit,
    adminAuth: new AdminAuthService(config, audit),
    apiKeys: new ApiKeyService(audit),
    members: new MemberService(config, audit),
  };
}
