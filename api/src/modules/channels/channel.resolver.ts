import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { ActorDirectory } from '../auth/auth.types';
import { Permission } from '../auth/permissions';
import { ApiKey } from './api-key.entity';
import { SalesChannel } from './sales-channel.entity';
import type { ApiKeyService } from './api-key.service';
import { ApiKeyScopeOption, CreateApiKeyInput, CreatedApiKey, CreateSalesChannelInput, DirectoryApiKey, RevokeApiKeyInput, RotateApiKeyInput } from './channel.types';

@Resolver(() => ApiKey)
export class ChannelResolver {
  constructor(private readonly apiKeyService: ApiKeyService) {}

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [SalesChannel])
  salesChannels(@Ctx() ctx: Context): Promise<SalesChannel[]> {
    return ctx.em.find(SalesChannel, {}, { orderBy: { name: 'asc' } });
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [ApiKey], { description: 'Keys of one channel, or all; never their secrets.' })
  apiKeys(@Arg('channelId', () => ID, { nullable: true }) channelId: string | null, @Ctx() ctx: Context): Promise<ApiKey[]> {
    return ctx.em.find(ApiKey, channelId ? { channel: channelId } : {}, { orderBy: { createdAt: 'desc' } });
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [ApiKeyScopeOption], { description: "Every scope a key may be given, the core's then plugins', for the key form." })
  apiKeyScopes(): ApiKeyScopeOption[] {
    return this.apiKeyService.access.listScopes();
  }

  @FieldResolver(() => SalesChannel)
  channel(@Root() key: ApiKey): Promise<SalesChannel> {
    return key.channel.load({ dataloader: true }) as Promise<SalesChannel>;
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => SalesChannel)
  createSalesChannel(@Arg('input', () => CreateSalesChannelInput) input: CreateSalesChannelInput, @Ctx() ctx: Context) {
    return this.apiKeyService.createChannel(ctx.em, ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => CreatedApiKey, { description: 'The key is shown once, in this response.' })
  createApiKey(@Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput, @Ctx() ctx: Context) {
    return this.apiKeyService.createKey(ctx.em, ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => CreatedApiKey, { description: 'A new key with the same channel and scopes; the old one stops after graceSeconds.' })
  rotateApiKey(@Arg('input', () => RotateApiKeyInput) input: RotateApiKeyInput, @Ctx() ctx: Context) {
    return this.apiKeyService.rotateKey(ctx.em, ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => ApiKey)
  revokeApiKey(@Arg('input', () => RevokeApiKeyInput) input: RevokeApiKeyInput, @Ctx() ctx: Context) {
    return this.apiKeyService.revokeKey(ctx.em, ctx, input);
  }
}

/** The keys' part of the staff directory (`actorDirectory`, whose root field checks `staff:read`): this module owns the keys. */
@Resolver(() => ActorDirectory)
export class ActorDirectoryKeysResolver {
  constructor(private readonly apiKeyService: ApiKeyService) {}

  @FieldResolver(() => [DirectoryApiKey], { description: 'Every API key, revoked and expired ones included (what they did still names them), newest first.' })
  apiKeys(@Ctx() ctx: Context): Promise<DirectoryApiKey[]> {
    return this.apiKeyService.directory(ctx.em);
  }
}
