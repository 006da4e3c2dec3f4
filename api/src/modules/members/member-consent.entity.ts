import { Entity, Enum, ManyToOne, PrimaryKey, Property, type Ref, Unique, type Opt } from '@mikro-orm/core';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import type { EntityById } from '../../base/database';

export enum ConsentMedium {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PUSH = 'PUSH',
}
registerEnumType(ConsentMedium, { name: 'ConsentMedium', description: 'A marketing channel that needs consent.' });

/** The current marketing consent for one medium; the audit log keeps each change. */
@ObjectType()
@Entity({ tableName: 'member_consent' })
@Unique({ properties: ['member', 'medium'] })
export class MemberConsent {
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  /** The member (member.entity.ts), by id: that file imports this one for its collection. */
  @ManyToOne('Member', { ref: true, deleteRule: 'cascade' })
  member: Ref<EntityById>;

  @Field(() => ConsentMedium)
  @Enum({ items: () => ConsentMedium })
  medium: ConsentMedium;

  @Field(() => Boolean)
  @Property({ type: 'boolean' })
  isGranted: boolean;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When consent was last given.' })
  @Property({ type: 'datetime', nullable: true })
  grantedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When consent was last withdrawn.' })
  @Property({ type: 'datetime', nullable: true })
  withdrawnAt: Date | null = null;

  @Field(() => String, { description: 'Who recorded it: a sales channel kind or ADMIN.' })
  @Property({ type: 'string', length: 32 })
  source: string;

  /** Applies a decision; returns false when it changes nothing. */
  record(isGranted: boolean, at: Date, source: string): boolean {
    if (this.isGranted === isGranted && (this.grantedAt || this.withdrawnAt)) return false;
    this.isGranted = isGranted;
    if (isGranted) this.grantedAt = at;
    else this.withdrawnAt = at;
    this.source = source;
    return true;
  }
}
