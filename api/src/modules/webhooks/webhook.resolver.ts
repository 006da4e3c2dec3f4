import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Webhook, WebhookDelivery } from './webhook.entity';
import type { WebhookService } from './webhook.service';
import { RegisterWebhookInput, UpdateWebhookInput, WebhookEventTypeOption, WebhookWithSecret } from './webhook.types';
import type { EventService } from '../events/event.service';

/** Webhooks carry programme-wide data to outside systems: administrators only. */
@Resolver()
export class WebhookResolver {
  constructor(
    private readonly service: WebhookService,
    private readonly events: EventService,
  ) {}

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [WebhookEventTypeOption], { description: "Every event type an endpoint can subscribe to, the core's then plugins'." })
  webhookEventTypes(): WebhookEventTypeOption[] {
    return this.events.types.list().map((t) => ({ type: t.name, name: t.name, description: t.description, isCore: t.isCore }));
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [Webhook], { description: 'Every endpoint, disabled ones included with their reason.' })
  webhooks(@Ctx() ctx: Context): Promise<Webhook[]> {
    return this.service.list(ctx.em);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Query(() => [WebhookDelivery], { description: 'Newest first, each with its attempts.' })
  webhookDeliveries(
    @Arg('webhookId', () => ID) webhookId: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first: number,
    @Ctx() ctx: Context,
  ): Promise<WebhookDelivery[]> {
    return this.service.deliveries(ctx.em, webhookId, first);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => WebhookWithSecret, { description: 'The signing secret is returned here only.' })
  registerWebhook(@Arg('input') input: RegisterWebhookInput, @Ctx() ctx: Context): Promise<WebhookWithSecret> {
    return this.service.register(ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => Webhook)
  updateWebhook(@Arg('input') input: UpdateWebhookInput, @Ctx() ctx: Context): Promise<Webhook> {
    return this.service.update(ctx, input);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => Webhook)
  disableWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Webhook> {
    return this.service.disable(ctx, id);
  }

  @Authorized(Permission.ADMIN_MANAGE)
  @Mutation(() => WebhookWithSecret, { description: 'A new secret replaces the old one at once; it is returned here only.' })
  rotateWebhookSecret(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<WebhookWithSecret> {
    return this.service.rotateSecret(ctx, id);
  }
}
