import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { jwtVerify, SignJWT } from 'jose';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../shared/config';
import type { Context } from '../shared/context';
import { AppError, conflictOnDuplicate } from '../shared/errors';
import { isUuid } from '../shared/ids';
import type { AuditService } from '../audit/audit.service';
import { AdminUser } from './admin-user.entity';
import { AdminRole, rolePermissions } from './permissions';
import type { AdminPrincipal } from './principal';
import type { AdminSession, CreateAdminUserInput, LoginInput } from './auth.types';

const ISSUER = 'loyalty-api';
const AUDIENCE = 'loyalty-admin';

export class AdminAuthService {
  private readonly secret: Uint8Array;
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly config: Pick<Config, 'JWT_SECRET' | 'ADMIN_TOKEN_TTL_SECONDS'>,
    private readonly audit: AuditService,
  ) {
    this.secret = new TextEncoder().encode(config.JWT_SECRET);
  }

  async login(em: EntityManager, input: LoginInput): Promise<AdminSession> {
    const admin = await em.findOne(AdminUser, { email: input.email.trim().toLowerCase() });
    // Verify against a throwaway hash when the user is unknown, so timing does not reveal which emails exist.
    const hash = admin?.passwordHash ?? (await this.getDummyHash());
    const ok = await argon2Verify(hash, input.password).catch(() => false);
    if (!admin || !ok || admin.disabledAt) throw AppError.unauthenticated('Invalid email or password');

    admin.lastLoginAt = new Date();
    await em.flush();
    const expiresAt = new Date(Date.now() + this.config.ADMIN_TOKEN_TTL_SECONDS * 1000);
    const token = await new SignJWT({ role: admin.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(admin.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.secret);
    return { token, expiresAt, admin };
  }

  /** The admin's current role is read from the database, so disabling or demoting takes effect at once. */
  async authenticate(em: EntityManager, token: string): Promise<AdminPrincipal> {
    let subject: string | undefined;
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      subject = payload.sub;
    } catch {
      throw AppError.unauthenticated('Invalid or expired token');
    }
    const admin = subject && isUuid(subject) ? await em.findOne(AdminUser, subject) : null;
    if (!admin || admin.disabledAt) throw AppError.unauthenticated('Invalid or expired token');
    return { kind: 'admin', adminId: admin.id, email: admin.email, role: admin.role, permissions: rolePermissions[admin.role] };
  }

  async createAdminUser(ctx: Context | null, em: EntityManager, input: CreateAdminUserInput): Promise<AdminUser> {
    const passwordHash = await argon2Hash(input.password);
    return conflictOnDuplicate(
      () =>
        em.transactional(async (tx) => {
          const admin = tx.create(AdminUser, {
            email: input.email.trim().toLowerCase(),
            passwordHash,
            role: input.role,
            displayName: input.displayName ?? null,
          });
          await tx.flush();
          this.audit.record(tx, ctx, {
            action: 'adminUser.create',
            entityType: 'AdminUser',
            entityId: admin.id,
            after: { email: admin.email, role: admin.role },
          });
          return admin;
        }),
      () => AppError.conflict('EMAIL_TAKEN', 'An admin user with this email already exists'),
    );
  }

  /** Used by the demo seed to reset the demo login's password idempotently. */
  async upsertAdminUser(em: EntityManager, email: string, password: string, role: AdminRole): Promise<AdminUser> {
    const passwordHash = await argon2Hash(password);
    const existing = await em.findOne(AdminUser, { email });
    if (existing) {
      existing.passwordHash = passwordHash;
      existing.role = role;
      existing.disabledAt = null;
      await em.flush();
      return existing;
    }
    const admin = em.create(AdminUser, { email, passwordHash, role, displayName: 'Demo admin' });
    await em.flush();
    return admin;
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= argon2Hash('not-a-real-password');
    return this.dummyHash;
  }
}
