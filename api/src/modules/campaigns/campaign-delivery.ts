import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../base/logger';
import type { ConsentMedium } from '../members/member-consent.entity';

/** One message as an adapter gets it. `address` is the member's email (EMAIL) or phone (SMS); null for PUSH. */
export interface OutboundMessage {
  id: string;
  campaignId: string;
  memberId: string;
  medium: ConsentMedium;
  address: string | null;
  subject: string | null;
  body: string;
}

/**
 * How campaign messages leave the platform (docs/concepts/campaigns.md, delivery adapters; docs/operations/messaging.md). `deliver`
 * resolves once the provider accepted the message and throws to have it retried on the next sweep; after
 * `CAMPAIGN_MESSAGE_MAX_ATTEMPTS` failures the message is FAILED. A PermanentDeliveryError fails it at once (the provider
 * refused it for good). Delivery is at least once: use `message.id` as the provider's idempotency key.
 */
export interface MessageDeliveryAdapter {
  /** Recorded on each delivered message (`campaign_message.adapter`). */
  readonly name: string;
  deliver(message: OutboundMessage): Promise<void>;
}

/** Thrown by an adapter when retrying cannot help (a rejected recipient, a refused request): the message is FAILED now. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentDeliveryError';
  }
}

/** By name too: a plugin that imports only the core's types throws an Error named PermanentDeliveryError. */
export function isPermanentDeliveryError(err: unknown): boolean {
  return err instanceof PermanentDeliveryError || (err instanceof Error && err.name === 'PermanentDeliveryError');
}

/** The default adapter: logs each message (ids and medium, never the address or text) and accepts it. */
export class LoggingDeliveryAdapter implements MessageDeliveryAdapter {
  readonly name = 'logging';

  constructor(private readonly log: Logger) {}

  async deliver(message: OutboundMessage): Promise<void> {
    this.log.info({ messageId: message.id, campaignId: message.campaignId, memberId: message.memberId, medium: message.medium, hasAddress: message.address !== null }, 'campaign.message.delivered');
  }
}

export interface DeliveryReport {
  sent: number;
  skipped: number;
  failed: number;
  retrying: number;
}

interface PendingRow {
  id: string;
  campaign_id: string;
  member_id: string;
  medium: ConsentMedium;
  subject: string | null;
  body: string;
  attempts: number;
  email: string | null;
  phone: string | null;
  is_contactable: boolean;
}

/**
 * Delivers PENDING messages through the adapter, oldest first. Rows are claimed with `for update skip locked`, so
 * several API processes never send one message twice at the same time. Consent is checked again at delivery: a
 * member who withdrew it (or was erased) since the campaign started is SKIPPED, not sent.
 */
export async function deliverPendingMessages(em: EntityManager, adapter: MessageDeliveryAdapter, maxAttempts: number, batch = 100): Promise<DeliveryReport> {
  return em.transactional(async (tx) => {
    const rows = await tx.execute<PendingRow[]>(
      `select msg.id, msg.campaign_id, msg.member_id, msg.medium, msg.subject, msg.body, msg.attempts, m.email, m.phone,
         (m.status = 'ACTIVE' and coalesce(c.is_granted, false)) as is_contactable
       from campaign_message msg
       join member m on m.id = msg.member_id
       left join member_consent c on c.member_id = msg.member_id and c.medium = msg.medium
       where msg.status = 'PENDING'
       order by msg.created_at, msg.id
       limit ?
       for update of msg skip locked`,
      [batch],
    );
    const report: DeliveryReport = { sent: 0, skipped: 0, failed: 0, retrying: 0 };
    for (const row of rows) {
      if (!row.is_contactable) {
        await tx.execute(`update campaign_message set status = 'SKIPPED' where id = ?`, [row.id]);
        report.skipped++;
        continue;
      }
      const address = row.medium === 'EMAIL' ? row.email : row.medium === 'SMS' ? row.phone : null;
      try {
        await adapter.deliver({ id: row.id, campaignId: row.campaign_id, memberId: row.member_id, medium: row.medium, address, subject: row.subject, body: row.body });
        await tx.execute(`update campaign_message set status = 'SENT', attempts = attempts + 1, sent_at = now(), adapter = ?, last_error = null where id = ?`, [adapter.name, row.id]);
        report.sent++;
      } catch (err) {
        const gaveUp = isPermanentDeliveryError(err) || row.attempts + 1 >= maxAttempts;
        await tx.execute(`update campaign_message set status = ?, attempts = attempts + 1, adapter = ?, last_error = ? where id = ?`, [
          gaveUp ? 'FAILED' : 'PENDING',
          adapter.name,
          String(err instanceof Error ? err.message : err).slice(0, 500),
          row.id,
        ]);
        if (gaveUp) report.failed++;
        else report.retrying++;
      }
    }
    return report;
  });
}
