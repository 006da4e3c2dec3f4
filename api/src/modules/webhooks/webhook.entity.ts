import { Entity, Enum, Index, ManyToOne, PrimaryKey, Property, Unique, type Opt, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { EventType } from '../events/event-types';

/** An endpoint that receives signed POSTs for the event types it subscribes to. */
@ObjectType()
@Entity({ tableName: 'webhook' })
export class Webhook {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => String)
  @Property({ type: 'string', length: 2000 })
  url: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 500, nullable: true })
  description: string | null = null;

  /** Wire names; a plugin's event types among them (the GraphQL enum lists the app's registered types). */
  @Field(() => [EventType])
  @Property({ type: 'json' })
  eventTypes: string[];

  /** Shown once, when registered or rotated; never a GraphQL field. */
  @Property({ type: 'string', length: 100, lazy: true })
  secret: string;

  @Field(() => Boolean)
  @Property({ type: 'boolean' })
  isActive: Opt<boolean> = true;

  @Field(() => Int, { description: 'Deliveries in a row that failed every attempt; reset by a success.' })
  @Property({ type: 'integer' })
  consecutiveFailures: Opt<number> = 0;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  disabledAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'Why it was disabled: by whom, or after how many failed deliveries.' })
  @Property({ type: 'string', length: 1000, nullable: true })
  disabledReason: string | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  secretRotatedAt: Date | null = null;

  @Field(() => String)
  @Property({ type: 'string', length: 80 })
  createdBy: string;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}

export enum DeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  /** Every attempt failed. */
  FAILED = 'FAILED',
  /** Not sent: the endpoint was disabled before its turn. */
  SKIPPED = 'SKIPPED',
}
registerEnumType(DeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType()
export class WebhookAttempt {
  @Field(() => Int)
  attempt: number;

  @Field(() => String, { description: 'ISO-8601 time the attempt started.' })
  at: string;

  @Field(() => Int, { nullable: true, description: 'HTTP status; null when no response came (timeout, refused).' })
  statusCode: number | null;

  @Field(() => Int)
  durationMs: number;

  @Field(() => String, { nullable: true })
  error: string | null;
}

/** One event for one endpoint, with a log of every attempt. */
@ObjectType()
@Entity({ tableName: 'webhook_delivery' })
@Unique({ properties: ['eventId', 'webhook'] })
@Index({ properties: ['webhook', 'id'] })
export class WebhookDelivery {
  @Field(() => ID, { description: 'Sent as x-loyalty-delivery; the same on every retry.' })
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => Webhook, { ref: true, deleteRule: 'cascade' })
  webhook: Ref<Webhook>;

  @Field(() => ID)
  @Property({ type: 'uuid' })
  eventId: string;

  @Field(() => EventType)
  @Property({ type: 'string', length: 64 })
  eventType: string;

  @Field(() => DeliveryStatus)
  @Enum({ items: () => DeliveryStatus })
  status: Opt<DeliveryStatus> = DeliveryStatus.PENDING;

  @Field(() => Int)
  @Property({ type: 'integer' })
  attempts: Opt<number> = 0;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  lastStatusCode: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 1000, nullable: true })
  lastError: string | null = null;

  @Field(() => [WebhookAttempt], { description: 'Oldest first.' })
  @Property({ type: 'json' })
  attemptLog: Opt<WebhookAttempt[]> = [];

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;
}
