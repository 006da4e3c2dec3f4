import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../base/config';
import type { Context } from '../../base/context';
import { isUuid } from '../../base/ids';
import { hostProblem } from './address-guard';
import { AppError } from '../../base/errors';
import { checkPageSize } from '../../base/pagination';
import { actorRef } from '../auth/principal';
import type { AuditService } from '../audit/audit.service';
import { Webhook, WebhookDelivery } from './webhook.entity';
import { newWebhookSecret } from './signature';
import type { RegisterWebhookInput, UpdateWebhookInput, WebhookWithSecret } from './webhook.types';

/** Webhook endpoints: registration, changes and their delivery log. Delivery itself is the dispatcher's. */
export class WebhookService {
  constructor(
    private readonly config: Pick<Config, 'isProduction' | 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES'>,
    private readonly audit: AuditService,
  ) {}

  list(em: EntityManager): Promise<Webhook[]> {
    return em.find(Webhook, {}, { orderBy: { id: 'asc' } });
  }

  async register(ctx: Context, input: RegisterWebhookInput): Promise<WebhookWithSecret> {
    await this.checkUrl(input.url, 'input.url');
    return ctx.em.transactional(async (em) => {
      const secret = newWebhookSecret();
      const webhook = em.create(Webhook, {
        url: input.url,
        description: input.description ?? null,
        eventTypes: input.eventTypes,
        secret,
        createdBy: actorRef(ctx.principal),
      });
      await em.flush();
      this.audit.record(em, ctx, { action: 'webhook.register', entityType: 'Webhook', entityId: webhook.id, after: describe(webhook) });
      ctx.log.info({ webhookId: webhook.id, eventTypes: input.eventTypes }, 'webhook.registered');
      return { webhook, secret };
    });
  }

  async update(ctx: Context, input: UpdateWebhookInput): Promise<Webhook> {
    if (input.url) await this.checkUrl(input.url, 'input.url');
    return ctx.em.transactional(async (em) => {
      const webhook = await this.lock(em, input.id);
      const before = describe(webhook);
      if (input.url) webhook.url = input.url;
      if (input.eventTypes) webhook.eventTypes = input.eventTypes;
      if (input.description !== undefined) webhook.description = input.description ?? null;
      if (input.isActive === true && !webhook.isActive) {
        Object.assign(webhook, { isActive: true, consecutiveFailures: 0, disabledAt: null, disabledReason: null });
      } else if (input.isActive === false && webhook.isActive) {
        this.markDisabled(webhook, `disabled by ${actorRef(ctx.principal)}`);
      }
      this.audit.record(em, ctx, { action: 'webhook.update', entityType: 'Webhook', entityId: webhook.id, before, after: describe(webhook) });
      return webhook;
    });
  }

  async disable(ctx: Context, id: string): Promise<Webhook> {
    return this.update(ctx, { id, isActive: false });
  }

  /** The old secret stops working at once; receivers switch to the new one. */
  async rotateSecret(ctx: Context, id: string): Promise<WebhookWithSecret> {
    return ctx.em.transactional(async (em) => {
      const webhook = await this.lock(em, id);
      const secret = newWebhookSecret();
      webhook.secret = secret;
      webhook.secretRotatedAt = new Date();
      this.audit.record(em, ctx, { action: 'webhook.rotate_secret', entityType: 'Webhook', entityId: webhook.id });
      return { webhook, secret };
    });
  }

  /** Newest first. */
  async deliveries(em: EntityManager, webhookId: string, first: number): Promise<WebhookDelivery[]> {
    checkPageSize(first);
    if (!isUuid(webhookId) || !(await em.count(Webhook, { id: webhookId }))) throw AppError.notFound('Webhook', webhookId);
    return em.find(WebhookDelivery, { webhook: webhookId }, { orderBy: { id: 'desc' }, limit: first });
  }

  private async lock(em: EntityManager, id: string): Promise<Webhook> {
    const webhook = isUuid(id) ? await em.findOne(Webhook, id, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    if (!webhook) throw AppError.notFound('Webhook', id);
    return webhook;
  }

  private markDisabled(webhook: Webhook, reason: string): void {
    Object.assign(webhook, { isActive: false, disabledAt: new Date(), disabledReason: reason });
  }

  private async checkUrl(url: string, path: string): Promise<void> {
    if (this.config.isProduction && !url.startsWith('https://')) throw AppError.badInput([{ path, message: 'must be an https URL' }]);
    const problem = this.config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES ? null : await hostProblem(url, 'lenient');
    if (problem) throw AppError.badInput([{ path, message: problem }]);
  }
}

function describe(w: Webhook): Record<string, unknown> {
  return { url: w.url, description: w.description, eventTypes: w.eventTypes, isActive: w.isActive, disabledReason: w.disabledReason };
}
