import { ConfigError, type Config } from '../../../base/config';
import type { Logger } from '../../../base/logger';
import { LoggingDeliveryAdapter, type MessageDeliveryAdapter } from '../campaign-delivery';
import { SmtpDeliveryAdapter } from './smtp-adapter';
import { WebhookDeliveryAdapter } from './webhook-adapter';

export interface DeliveryAdapterDeps {
  config: Readonly<Config>;
  /** The campaigns logger; an adapter logs ids, never addresses or text. */
  log: Logger;
}

/** Builds an adapter when it is chosen, so only the chosen one's settings are read. */
export type DeliveryAdapterFactory = (deps: DeliveryAdapterDeps) => MessageDeliveryAdapter;

/** Message delivery adapters by name (MESSAGE_DELIVERY); a plugin registers its own before services are created. */
export class DeliveryAdapterRegistry {
  private readonly factories = new Map<string, DeliveryAdapterFactory>();

  constructor(private readonly deps: DeliveryAdapterDeps) {}

  register(name: string, factory: DeliveryAdapterFactory): this {
    if (this.factories.has(name)) throw new Error(`A message delivery adapter named '${name}' is already registered`);
    this.factories.set(name, factory);
    return this;
  }

  /** MESSAGE_DELIVERY may name a plugin's adapter, so an unknown name is a configuration error found here, at boot. */
  create(name: string): MessageDeliveryAdapter {
    const factory = this.factories.get(name);
    if (!factory) {
      throw new ConfigError(`Invalid configuration:\n  MESSAGE_DELIVERY: no message delivery adapter named '${name}' (registered: ${[...this.factories.keys()].join(', ')})`);
    }
    return factory(this.deps);
  }
}

/** The built-in adapters: log (development), smtp and webhook. config.ts has checked the chosen one's settings. */
export function builtInDeliveryAdapters(config: Config, log: Logger): DeliveryAdapterRegistry {
  const timeoutMs = config.MESSAGE_DELIVERY_TIMEOUT_MS;
  return new DeliveryAdapterRegistry({ config, log })
    .register('log', () => new LoggingDeliveryAdapter(log))
    .register('smtp', () => new SmtpDeliveryAdapter({ url: config.SMTP_URL!, from: config.MESSAGE_FROM!, timeoutMs }))
    .register('webhook', () => new WebhookDeliveryAdapter({ url: config.MESSAGE_WEBHOOK_URL!, secret: config.MESSAGE_WEBHOOK_SECRET!, timeoutMs }));
}
