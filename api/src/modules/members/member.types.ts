import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { LocalDateResolver } from 'graphql-scalars';
import {
  ArrayMaxSize,
  IsEnum,
  IsISO31661Alpha2,
  IsOptional,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { SalesChannelKind } from '../../base/enums';
import { connectionOf } from '../../base/pagination';
import { IsEmailAddress } from '../../base/validators';
import { Member, MemberStatus } from './member.entity';
import { ConsentMedium } from './member-consent.entity';
import type { ChurnBand } from '../models/churn-band';
import type { ValueBand } from '../models/value-band';

@InputType()
export class ConsentInput {
  @Field(() => ConsentMedium)
  @IsEnum(ConsentMedium)
  medium: ConsentMedium;

  @Field(() => Boolean)
  isGranted: boolean;
}

/** Fields shared by enrolment and update. On update, an omitted field is unchanged and null clears it. */
@InputType()
abstract class MemberProfileInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  firstName?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  lastName?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(254)
  @IsEmailAddress()
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'E.164, or national format in DEFAULT_PHONE_REGION.' })
  @IsOptional()
  @MaxLength(32)
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2, e.g. GB.' })
  @IsOptional()
  @IsISO31661Alpha2({ message: 'must be an ISO 3166-1 alpha-2 country code' })
  country?: string | null;

  @Field(() => LocalDateResolver, { nullable: true })
  @IsOptional()
  birthday?: string | null;

  @Field(() => SalesChannelKind, { nullable: true })
  @IsOptional()
  @IsEnum(SalesChannelKind)
  preferredChannel?: SalesChannelKind | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 64)
  preferredStoreCode?: string | null;

  @Field(() => [ConsentInput], { nullable: true, description: 'Marketing consents to record now.' })
  @IsOptional()
  @ArrayMaxSize(3)
  @ValidateNested({ each: true })
  consents?: ConsentInput[] | null;
}

@InputType({ description: 'At least one of email, phone or channelCustomerId is required.' })
export class EnrolMemberInput extends MemberProfileInput {
  @Field(() => String, { nullable: true, description: "The channel's own customer id, e.g. a loyalty card number." })
  @IsOptional()
  @Length(1, 64)
  @Matches(/^\S(.*\S)?$/, { message: 'must not start or end with spaces' })
  channelCustomerId?: string | null;

  @Field(() => String, { nullable: true, description: "Another member's referral code (docs/concepts/referrals.md)." })
  @IsOptional()
  @Length(1, 20)
  referralCode?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'Admin callers: the sales channel that owns channelCustomerId. Channel callers use their own.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  channelId?: string | null;
}

@InputType()
export class UpdateMemberInput extends MemberProfileInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;
}

@InputType()
export class MergeMembersInput {
  @Field(() => ID, { description: 'The record that remains.' })
  @IsUUID('all', { message: 'must be an id' })
  survivorId: string;

  @Field(() => ID, { description: 'The record absorbed; its id resolves to the survivor afterwards.' })
  @IsUUID('all', { message: 'must be an id' })
  absorbedId: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  reason?: string | null;
}

@InputType()
export class EraseMemberInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => String, { description: 'The request reference, e.g. a ticket number.' })
  @Length(1, 200)
  reason: string;
}

export enum MemberOrder {
  NEWEST_FIRST = 'NEWEST_FIRST',
  OLDEST_FIRST = 'OLDEST_FIRST',
}
registerEnumType(MemberOrder, { name: 'MemberOrder' });

@ObjectType()
export class MemberConnection extends connectionOf(Member, 'Member') {
  /** Runs only when totalCount is asked for. */
  countTotal: () => Promise<number>;
}

@ObjectType({ description: 'The outcome of a merge.' })
export class MergeMembersResult {
  @Field(() => Member)
  survivor: Member;

  @Field(() => Int)
  movedIdentifiers: number;
}

export interface MemberFilter {
  first: number;
  after?: string | null;
  search?: string | null;
  status?: MemberStatus | null;
  country?: string | null;
  churnBand?: ChurnBand | null;
  valueBand?: ValueBand | null;
  orderBy: MemberOrder;
}
