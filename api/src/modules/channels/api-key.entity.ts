import { Entity, ManyToOne, PrimaryKey, Property, type Ref, type Opt } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { ApiKeyScope } from '../auth/permissions';
import { SalesChannel } from './sales-channel.entity';

/** A channel's credential. Only a SHA-256 of the secret is stored; the key is shown once. */
@ObjectType()
@Entity({ tableName: 'api_key' })
export class ApiKey {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @ManyToOne(() => SalesChannel, { ref: true, index: true })
  channel: Ref<SalesChannel>;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  name: string;

  @Field(() => String, { description: 'The public part of the key, for recognising it in lists and logs.' })
  @Property({ type: 'string', length: 16, unique: true })
  prefix: string;

  @Property({ type: 'string', length: 64, hidden: true })
  secretHash: string;

  /** Core and plugin scopes (modules/auth/permissions.ts AccessControl). */
  @Field(() => [ApiKeyScope])
  @Property({ type: 'text[]' })
  scopes: string[];

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => String)
  @Property({ type: 'string', length: 80 })
  createdBy: string;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'After this instant the key no longer works.' })
  @Property({ type: 'datetime', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  revokedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Updated at most once a minute.' })
  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;

  @Field(() => ID, { nullable: true, description: 'The key this one replaced by rotation.' })
  @Property({ type: 'uuid', nullable: true })
  rotatedFromId: string | null = null;

  isUsableAt(now: Date): boolean {
    return keyIsUsableAt(this, now);
  }
}

/** Neither revoked nor expired at `now`: for the entity and for the copy API processes cache (api-key.service.ts). */
export function keyIsUsableAt(key: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): boolean {
  return !key.revokedAt && (!key.expiresAt || key.expiresAt > now);
}
