import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { jwtVerify, SignJWT } from 'jose';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../base/config';
import type { Context } from '../../base/context';
import { AppError, conflictOnDuplicate } from '../../base/errors';
import { isUuid } from '../../base/ids';
import type { AuditService } from '../audit/audit.service';
import { AdminUser } from './admin-user.entity';
import { AdminLoginSession } from './admin-session.entity';
import type { LoginThrottle } from './login-throttle';
import { passwordProblems } from './password-policy';
import { AccessControl, AdminRole } from './permissions';
import type { AdminPrincipal } from './principal';
import type { AdminSession, ChangePasswordInput, CreateAdminUserInput, DirectoryAdmin, LoginInput, UpdateAdminUserInput } from './auth.types';
import { DAY_MS } from '../../base/time';

const ISSUER = 'loyalty-api';
const AUDIENCE = 'loyalty-admin';
/** Sessions are kept a day past expiry (for the audit trail of who was signed in), then pruned at the next login. */
const SESSION_RETENTION_MS = DAY_MS;

export class AdminAuthService {
  private readonly secret: Uint8Array;
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly config: Pick<Config, 'JWT_SECRET' | 'ADMIN_TOKEN_TTL_SECONDS' | 'ADMIN_SESSION_MAX_SECONDS'>,
    private readonly audit: AuditService,
    private readonly throttle: LoginThrottle | null = null,
    /** Each role's permissions, plugins' included. */
    private readonly access: AccessControl = new AccessControl(),
  ) {
    this.secret = new TextEncoder().encode(config.JWT_SECRET);
  }

  /**
   * Throttled per email and client IP, per email and per IP (LoginThrottle): the attempt is counted before the password
   * is checked, so parallel guesses get no more checks than the limit. Each success opens a new revocable session.
   */
  async login(em: EntityManager, input: LoginInput, clientIp = 'local'): Promise<AdminSession> {
    const email = input.email.trim().toLowerCase();
    const attempt = await this.throttle?.attempt(email, clientIp);
    const admin = await em.findOne(AdminUser, { email });
    // Verify against a throwaway hash when the user is unknown, so timing does not reveal which emails exist.
    const hash = admin?.passwordHash ?? (await this.getDummyHash());
    const ok = await argon2Verify(hash, input.password).catch(() => false);
    if (!admin || !ok || admin.disabledAt) {
      await attempt?.failed();
      throw AppError.unauthenticated('Invalid email or password');
    }
    await attempt?.succeeded();
    return em.transactional(async (tx) => {
      // The password checked above may have changed, or the admin been disabled, while it was checked (argon2 is slow):
      // under the row's lock, which changePassword and updateAdminUser take, it must still be the one verified.
      const current = await tx.findOneOrFail(AdminUser, admin.id, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (current.passwordHash !== hash || current.disabledAt) throw AppError.unauthenticated('Invalid email or password');
      current.lastLoginAt = new Date();
      await tx.nativeDelete(AdminLoginSession, { admin: current.id, expiresAt: { $lt: new Date(Date.now() - SESSION_RETENTION_MS) } });
      return this.openSession(tx, current);
    });
  }

  /** The token's session and the admin's current role are read from the database, so revoking or demoting takes effect at once. */
  async authenticate(em: EntityManager, token: string): Promise<AdminPrincipal> {
    let subject: string | undefined;
    let sessionId: string | undefined;
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      subject = payload.sub;
      sessionId = payload.jti;
    } catch {
      throw AppError.unauthenticated('Invalid or expired token');
    }
    const session =
      subject && sessionId && isUuid(subject) && isUuid(sessionId)
        ? await em.findOne(AdminLoginSession, { id: sessionId, admin: subject }, { populate: ['admin'] })
        : null;
    const admin = session?.admin.getEntity();
    if (!session || !admin || !session.isActiveAt(new Date()) || admin.disabledAt) {
      throw AppError.unauthenticated('Invalid, expired or revoked token');
    }
    return {
      kind: 'admin',
      adminId: admin.id,
      sessionId: session.id,
      email: admin.email,
      role: admin.role,
      permissions: this.access.forRole(admin.role),
    };
  }

  /** A role's permissions, plugins' included, sorted. */
  permissionsOf(role: AdminRole): string[] {
    return [...this.access.forRole(role)].sort();
  }

  /** Every admin user's id and email for the staff directory, disabled ones too: what they did still names them. */
  async directory(em: EntityManager): Promise<DirectoryAdmin[]> {
    const admins = await em.find(AdminUser, {}, { orderBy: { email: 'asc' } });
    return admins.map(({ id, email }) => ({ id, email }));
  }

  /** Ends the caller's own session; its token stops working at once. */
  async logout(ctx: Context): Promise<boolean> {
    const principal = ctx.principal;
    if (principal?.kind !== 'admin') throw AppError.forbidden('Only admin users have a session');
    await ctx.em.nativeUpdate(AdminLoginSession, { id: principal.sessionId, revokedAt: null }, { revokedAt: new Date() });
    return true;
  }

  /**
   * A new token for the caller's session, valid ADMIN_TOKEN_TTL_SECONDS from now but never past ADMIN_SESSION_MAX_SECONDS
   * from its login: the admin app calls it while the admin is working, so a session ends when they stop, not midway
   * through a form. The session stays the same one (logout and revocation end it), so older tokens of it keep their own
   * expiry. A session at its longest life is not renewed (UNAUTHENTICATED, sign in again).
   */
  async renewSession(ctx: Context): Promise<AdminSession> {
    const principal = ctx.principal;
    if (principal?.kind !== 'admin') throw AppError.forbidden('Only admin users have a session');
    return ctx.em.transactional(async (tx) => {
      const session = await tx.findOne(AdminLoginSession, { id: principal.sessionId }, { populate: ['admin'], lockMode: LockMode.PESSIMISTIC_WRITE });
      const now = new Date();
      if (!session || !session.isActiveAt(now)) throw AppError.unauthenticated('Invalid, expired or revoked token');
      const longest = session.createdAt.getTime() + this.config.ADMIN_SESSION_MAX_SECONDS * 1000;
      const expiresAt = new Date(Math.min(now.getTime() + this.config.ADMIN_TOKEN_TTL_SECONDS * 1000, longest));
      if (expiresAt.getTime() <= session.expiresAt.getTime()) {
        throw AppError.unauthenticated('The session has reached its longest life; sign in again');
      }
      session.expiresAt = expiresAt;
      await tx.flush();
      return { token: await this.sign(session.admin.getEntity(), session.id, expiresAt), expiresAt, admin: session.admin.getEntity() };
    });
  }

  /** Ends every session of one admin user (a lost laptop, a leaver); returns how many were open. */
  async revokeSessions(ctx: Context, adminUserId: string): Promise<number> {
    return ctx.em.transactional(async (tx) => {
      const admin = isUuid(adminUserId) ? await tx.findOne(AdminUser, adminUserId) : null;
      if (!admin) throw AppError.notFound('AdminUser', adminUserId);
      const revoked = await this.revokeAll(tx, admin.id);
      this.audit.record(tx, ctx, {
        action: 'adminUser.revokeSessions',
        entityType: 'AdminUser',
        entityId: admin.id,
        after: { revokedSessions: revoked },
      });
      return revoked;
    });
  }

  /** Sets a new password for the caller, ends all of their sessions, and returns a fresh one for this client. */
  async changePassword(ctx: Context, input: ChangePasswordInput): Promise<AdminSession> {
    const principal = ctx.principal;
    if (principal?.kind !== 'admin') throw AppError.forbidden('Only admin users have a password');
    const problems = passwordProblems(input.newPassword, principal.email);
    const admin = await ctx.em.findOneOrFail(AdminUser, principal.adminId);
    const currentOk = await argon2Verify(admin.passwordHash, input.currentPassword).catch(() => false);
    const fields = [
      ...(currentOk ? [] : [{ path: 'input.currentPassword', message: 'is not your current password' }]),
      ...problems.map((message) => ({ path: 'input.newPassword', message })),
    ];
    if (fields.length) throw AppError.badInput(fields);
    const verifiedHash = admin.passwordHash;
    const passwordHash = await argon2Hash(input.newPassword);
    return ctx.em.transactional(async (tx) => {
      // Locked and checked again: a change committed since (another tab) made the given current password a past one.
      const current = await tx.findOneOrFail(AdminUser, principal.adminId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (current.passwordHash !== verifiedHash) throw AppError.badInput([{ path: 'input.currentPassword', message: 'is not your current password' }]);
      current.passwordHash = passwordHash;
      const revoked = await this.revokeAll(tx, current.id);
      this.audit.record(tx, ctx, {
        action: 'adminUser.changePassword',
        entityType: 'AdminUser',
        entityId: current.id,
        after: { revokedSessions: revoked },
      });
      return this.openSession(tx, current);
    });
  }

  async createAdminUser(em: EntityManager, ctx: Context | null, input: CreateAdminUserInput): Promise<AdminUser> {
    const email = input.email.trim().toLowerCase();
    const problems = passwordProblems(input.password, email);
    if (problems.length) throw AppError.badInput(problems.map((message) => ({ path: 'input.password', message })));
    const passwordHash = await argon2Hash(input.password);
    return conflictOnDuplicate(
      () =>
        em.transactional(async (tx) => {
          const admin = tx.create(AdminUser, {
            email,
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

  /**
   * Role, display name and whether the user may sign in. Disabling ends their sessions in the same transaction. The
   * change is refused (CONFLICT LAST_ADMIN) when it would leave no active ADMIN, so the programme always has someone who
   * can manage users.
   */
  async updateAdminUser(ctx: Context, input: UpdateAdminUserInput): Promise<AdminUser> {
    return ctx.em.transactional(async (tx) => {
      // Admin users are locked in id order, so two admins demoting each other at once cannot both succeed.
      const admins = await tx.find(AdminUser, { role: AdminRole.ADMIN, disabledAt: null }, { orderBy: { id: 'asc' }, lockMode: LockMode.PESSIMISTIC_WRITE });
      const user = await tx.findOne(AdminUser, input.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!user) throw AppError.notFound('AdminUser', input.id);
      const before = { role: user.role, displayName: user.displayName, disabledAt: user.disabledAt };
      if (input.role) user.role = input.role;
      if (input.displayName !== undefined) user.displayName = input.displayName?.trim() || null;
      let revokedSessions = 0;
      if (input.isActive === false && !user.disabledAt) {
        user.disabledAt = new Date();
        revokedSessions = await this.revokeAll(tx, user.id);
      } else if (input.isActive === true) {
        user.disabledAt = null;
      }
      const adminsLeft = admins.filter((a) => a.id !== user.id).length + (user.role === AdminRole.ADMIN && !user.disabledAt ? 1 : 0);
      if (adminsLeft === 0) throw AppError.conflict('LAST_ADMIN', 'This would leave no active ADMIN user');
      this.audit.record(tx, ctx, {
        action: 'adminUser.update',
        entityType: 'AdminUser',
        entityId: user.id,
        before,
        after: { role: user.role, displayName: user.displayName, disabledAt: user.disabledAt, revokedSessions },
      });
      return user;
    });
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

  private async openSession(em: EntityManager, admin: AdminUser): Promise<AdminSession> {
    const expiresAt = new Date(Date.now() + this.config.ADMIN_TOKEN_TTL_SECONDS * 1000);
    const session = em.create(AdminLoginSession, { admin, expiresAt });
    await em.flush();
    return { token: await this.sign(admin, session.id, expiresAt), expiresAt, admin };
  }

  /** A token of session `sessionId` (its `jti`), valid until `expiresAt`. */
  private sign(admin: AdminUser, sessionId: string, expiresAt: Date): Promise<string> {
    return new SignJWT({ role: admin.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(admin.id)
      .setJti(sessionId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.secret);
  }

  private revokeAll(em: EntityManager, adminId: string): Promise<number> {
    return em.nativeUpdate(AdminLoginSession, { admin: adminId, revokedAt: null, expiresAt: { $gt: new Date() } }, { revokedAt: new Date() });
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= argon2Hash('not-a-real-password');
    return this.dummyHash;
  }
}
