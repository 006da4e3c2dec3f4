import { Field, ID, InputType } from 'type-graphql';
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
