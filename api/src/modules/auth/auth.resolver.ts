import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { AppError } from '../../base/errors';
import { AdminUser } from './admin-user.entity';
import { ActorDirectory, AdminSession, ChangePasswordInput, CreateAdminUserInput, LoginInput, UpdateAdminUserInput } from './auth.types';
import type { AdminAuthService } from './admin-auth.service';
import { Permission } from './permissions';

@Resolver(() => AdminUser)
export class AuthResolver {
  constructor(private readonly auth: AdminAuthService) {}

  /** Public: the only way in for admin users. */
  @Mutation(() => AdminSession, { description: 'Exchange an admin email and password for a short-lived token.' })
  login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() ctx: Context): Promise<AdminSession> {
    return this.auth.login(ctx.em, input, ctx.clientIp);
  }

  @Authorized(Permission.OWN_ACCOUNT)
  @Mutation(() => Boolean, { description: "Ends the caller's session: its token stops working at once." })
  logout(@Ctx() ctx: Context): Promise<boolean> {
    return this.auth.logout(ctx);
  }

  @Authorized(Permission.OWN_ACCOUNT)
  @Mutation(() => AdminSession, {
    description:
      "A new token for the caller's session, valid ADMIN_TOKEN_TTL_SECONDS more but not past ADMIN_SESSION_MAX_SECONDS from its login (then UNAUTHENTICATED: sign in again). The admin app calls it while the admin is active.",
  })
  renewSession(@Ctx() ctx: Context): Promise<AdminSession> {
    return this.auth.renewSession(ctx);
  }

  @Authorized(Permission.OWN_ACCOUNT)
  @Mutation(() => AdminSession, {
    description: "Changes the caller's password, ends all of their sessions and returns a new one for this client.",
  })
  changePassword(@Arg('input', () => ChangePasswordInput) input: ChangePasswordInput, @Ctx() ctx: Context): Promise<AdminSession> {
    return this.auth.changePassword(ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => Int, { description: "Ends every session of an admin user at once; returns how many were open." })
  revokeAdminSessions(@Arg('adminUserId', () => ID) adminUserId: string, @Ctx() ctx: Context): Promise<number> {
    return this.auth.revokeSessions(ctx, adminUserId);
  }

  @Authorized()
  @Query(() => AdminUser, { description: 'The signed-in admin user.' })
  async me(@Ctx() ctx: Context): Promise<AdminUser> {
    if (ctx.principal?.kind !== 'admin') throw AppError.forbidden('Only admin users have a profile');
    return ctx.em.findOneOrFail(AdminUser, ctx.principal.adminId);
  }

  /** The admin app hides what the API would refuse by reading this list, so it keeps no copy of the role table. */
  @FieldResolver(() => [String], {
    description: "What this user's role may do (`area:action`, plugins' permissions included), sorted; the API checks every field anyway.",
  })
  permissions(@Root() admin: AdminUser): string[] {
    return this.auth.permissionsOf(admin.role);
  }

  @Authorized(Permission.STAFF_READ)
  @Query(() => ActorDirectory, {
    description:
      'Who actor references name, for every admin role: admin users by email, API keys by name and channel (revoked keys and disabled admins included); API keys get FORBIDDEN.',
  })
  async actorDirectory(@Ctx() ctx: Context): Promise<ActorDirectory> {
    return { admins: await this.auth.directory(ctx.em) };
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [AdminUser])
  adminUsers(@Ctx() ctx: Context): Promise<AdminUser[]> {
    return ctx.em.find(AdminUser, {}, { orderBy: { email: 'asc' } });
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => AdminUser)
  createAdminUser(@Arg('input', () => CreateAdminUserInput) input: CreateAdminUserInput, @Ctx() ctx: Context): Promise<AdminUser> {
    return this.auth.createAdminUser(ctx.em, ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => AdminUser, { description: "Changes a user's role or name, or disables (ending their sessions) or re-enables them." })
  updateAdminUser(@Arg('input', () => UpdateAdminUserInput) input: UpdateAdminUserInput, @Ctx() ctx: Context): Promise<AdminUser> {
    return this.auth.updateAdminUser(ctx, input);
  }
}
