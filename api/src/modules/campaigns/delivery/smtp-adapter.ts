import { createTransport, type Transporter } from 'nodemailer';
import { PermanentDeliveryError, type MessageDeliveryAdapter, type OutboundMessage } from '../campaign-delivery';

export interface SmtpSettings {
  /** smtp:// or smtps://, with credentials if the relay wants them. */
  url: string;
  /** The From header: `address` or `Name <address>`. */
  from: string;
  /** Bound on connecting, the greeting and each reply, so one slow relay cannot hold the delivery sweep. */
  timeoutMs: number;
}

/**
 * EMAIL messages over SMTP (MESSAGE_DELIVERY=smtp). The Message-ID is derived from the campaign message's id, so a
 * retried message carries the same one and a mailbox or relay can recognise the repeat. A 5xx reply (a rejected
 * recipient, a refused message) fails the message at once; 4xx replies and network errors are retried by the sweep.
 */
export class SmtpDeliveryAdapter implements MessageDeliveryAdapter {
  readonly name = 'smtp';
  private readonly transport: Transporter;
  private readonly messageIdDomain: string;

  constructor(settings: SmtpSettings) {
    this.transport = createTransport(
      { url: settings.url, connectionTimeout: settings.timeoutMs, greetingTimeout: settings.timeoutMs, socketTimeout: settings.timeoutMs },
      { from: settings.from },
    );
    this.messageIdDomain = addressOf(settings.from).split('@').pop()!;
  }

  async deliver(message: OutboundMessage): Promise<void> {
    if (message.medium !== 'EMAIL') throw new PermanentDeliveryError(`the smtp adapter sends EMAIL messages only, not ${message.medium}`);
    if (!message.address) throw new PermanentDeliveryError('the member has no email address');
    try {
      await this.transport.sendMail({
        to: message.address,
        subject: message.subject ?? '',
        text: message.body,
        html: htmlOf(message.body),
        messageId: `<${message.id}@${this.messageIdDomain}>`,
      });
    } catch (err) {
      const code = (err as { responseCode?: unknown }).responseCode;
      if (typeof code === 'number' && code >= 500 && code < 600) throw new PermanentDeliveryError((err as Error).message, { cause: err });
      throw err;
    }
  }
}

/** The bare address of `address` or `Name <address>`. */
export function addressOf(from: string): string {
  return /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
}

/** The text as a minimal HTML part: escaped, paragraphs on blank lines, line breaks kept. */
function htmlOf(text: string): string {
  const escaped = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const paragraphs = escaped.split(/\r?\n\s*\r?\n/).map((p) => `<p>${p.replace(/\r?\n/g, '<br>')}</p>`);
  return `<!doctype html><html><body>${paragraphs.join('')}</body></html>`;
}
