import { sign } from '../../webhooks/signature';
import { PermanentDeliveryError, type MessageDeliveryAdapter, type OutboundMessage } from '../campaign-delivery';

export interface MessageWebhookSettings {
  url: string;
  secret: string;
  timeoutMs: number;
}

/**
 * Hands each message to an email/SMS provider's HTTP endpoint (MESSAGE_DELIVERY=webhook): a JSON POST signed like the
 * platform's event webhooks (x-loyalty-timestamp, x-loyalty-signature; modules/webhooks/signature.ts). 2xx: delivered. 4xx:
 * the provider refused the message, FAILED at once, except 408 and 429, which ask to try later. 3xx, 5xx, network
 * errors and timeouts: retried by the sweep. `messageId` (also the Idempotency-Key header) is the same on every retry.
 */
export class WebhookDeliveryAdapter implements MessageDeliveryAdapter {
  readonly name = 'webhook';

  constructor(private readonly settings: MessageWebhookSettings) {}

  async deliver(message: OutboundMessage): Promise<void> {
    const body = JSON.stringify({
      messageId: message.id,
      campaignId: message.campaignId,
      memberId: message.memberId,
      channel: message.medium,
      to: message.address,
      subject: message.subject,
      body: message.body,
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(this.settings.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(this.settings.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'loyalty-messages/1',
        'idempotency-key': message.id,
        'x-loyalty-timestamp': String(timestamp),
        'x-loyalty-signature': sign(this.settings.secret, timestamp, body),
      },
      body,
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    const retryLater = res.status === 408 || res.status === 429;
    if (res.status >= 400 && res.status < 500 && !retryLater) throw new PermanentDeliveryError(`HTTP ${res.status}`);
    throw new Error(`HTTP ${res.status}`);
  }
}
