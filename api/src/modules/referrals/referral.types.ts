import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { connectionOf } from '../../base/pagination';
import { Referral } from './referral.entity';
import { IsUUID, Length } from 'class-validator';

@InputType()
export class ApplyReferralCodeInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;

  @Field(() => String, { description: 'Case, spaces and dashes do not matter.' })
  @Length(1, 20)
  referralCode: string;
}

@ObjectType()
export class ReferralConnection extends connectionOf(Referral, 'Referral') {}
