import { Field, InputType, Int } from 'type-graphql';
import { IsEnum, IsOptional, Matches, Max, Min } from 'class-validator';
import { TierMetric } from './programme-settings.entity';

@InputType({ description: 'Omitted fields are unchanged.' })
export class UpdateProgrammeSettingsInput {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(365)
  pendingDays?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(1)
  @Max(120)
  lotExpiryMonths?: number;

  @Field(() => TierMetric, { nullable: true })
  @IsOptional()
  @IsEnum(TierMetric)
  tierMetric?: TierMetric;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(1)
  @Max(3650)
  tierWindowDays?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(1)
  @Max(3650)
  voucherValidDays?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  pointValueMinor?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1_000_000)
  referralReferrerPoints?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1_000_000)
  referralReferredPoints?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1_000_000_000)
  referralMinOrderMinor?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as GBP' })
  pointValueCurrency?: string;
}
