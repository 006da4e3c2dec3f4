import {
  Collection,
  Entity,
  Enum,
  Index,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
  type Ref,
  type Opt,
} from '@mikro-orm/core';
import { Authorized, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, LocalDateResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';
import { SalesChannelKind } from '../../base/enums';
import { Permission } from '../auth/permissions';
import { MemberIdentifier } from './member-identifier.entity';
import { MemberConsent } from './member-consent.entity';

export enum MemberStatus {
  ACTIVE = 'ACTIVE',
  /** Absorbed into another member; its id resolves to the survivor. */
  MERGED = 'MERGED',
  /** Personal data anonymised on request; financial history kept. */
  ERASED = 'ERASED',
}
registerEnumType(MemberStatus, { name: 'MemberStatus' });

@ObjectType({ description: 'A loyalty programme member.' })
@Entity({ tableName: 'member' })
export class Member {

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => MemberStatus)
  @Enum({ items: () => MemberStatus, default: MemberStatus.ACTIVE })
  status: Opt<MemberStatus> = MemberStatus.ACTIVE;

  @Authorized(Permission.MEMBERS_PII)
  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  firstName: string | null = null;

  @Authorized(Permission.MEMBERS_PII)
  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 100, nullable: true })
  lastName: string | null = null;

  /** Primary contact email, normalised; uniqueness is enforced on member_identifier. */
  @Authorized(Permission.MEMBERS_PII)
  @Field(() => String, { nullable: true })
  @Index()
  @Property({ type: 'string', length: 254, nullable: true })
  email: string | null = null;

  /** Primary contact phone in E.164. */
  @Authorized(Permission.MEMBERS_PII)
  @Field(() => String, { nullable: true })
  @Index()
  @Property({ type: 'string', length: 20, nullable: true })
  phone: string | null = null;

  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2 country code.' })
  @Property({ type: 'string', length: 2, nullable: true })
  country: string | null = null;

  @Authorized(Permission.MEMBERS_PII)
  @Field(() => LocalDateResolver, { nullable: true })
  @Property({ type: 'date', nullable: true })
  birthday: string | null = null;

  @Field(() => SalesChannelKind, { nullable: true })
  @Enum({ items: () => SalesChannelKind, nullable: true })
  preferredChannel: SalesChannelKind | null = null;

  @Field(() => String, { nullable: true, description: "The store's own code, e.g. a POS store number." })
  @Property({ type: 'string', length: 64, nullable: true })
  preferredStoreCode: string | null = null;

  @Field(() => SalesChannelKind)
  @Enum({ items: () => SalesChannelKind })
  enrolmentChannel: SalesChannelKind;

  /** Given by the database on insert (`referral_code_new()`), on every path that creates members. */
  @Field(() => String, { description: 'The code this member shares to refer others: 8 characters without look-alikes (no 0, O, 1, I, L).' })
  @Property({ type: 'string', length: 12, defaultRaw: 'referral_code_new()', unique: true })
  referralCode: Opt<string>;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  enrolledAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();

  @ManyToOne(() => Member, { ref: true, nullable: true, deleteRule: 'restrict' })
  mergedInto: Ref<Member> | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  mergedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  erasedAt: Date | null = null;

  @OneToMany(() => MemberIdentifier, (i) => i.member)
  identifiers = new Collection<MemberIdentifier>(this);

  @OneToMany(() => MemberConsent, (c) => c.member)
  consents = new Collection<MemberConsent>(this);

  isActive(): boolean {
    return this.status === MemberStatus.ACTIVE;
  }
}

