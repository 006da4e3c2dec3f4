import { Field, InputType, Int } from 'type-graphql';
import { IsEnum, IsOptional, Max, Min, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { isTimeZone } from '../../base/time';
import { isCurrency } from '../../base/currency';
import { TierMetric } from './programme-settings.entity';
import { MAX_ORDER_TOTAL_MINOR, MAX_POINT_VALUE_MINOR, MAX_RULE_POINTS, grouped } from '../../base/bounds';

@ValidatorConstraint({ name: 'isTimeZone' })
class IsTimeZone implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isTimeZone(value);
  }

  defaultMessage(): string {
    return 'must be an IANA time zone such as Europe/London or UTC';
  }
}

// The shape alone let XXQ through: liability would be reported in a currency that does not exist.
@ValidatorConstraint({ name: 'isCurrency' })
class IsCurrency implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isCurrency(value);
  }

  defaultMessage(): string {
    return 'must be an ISO 4217 currency code such as GBP';
  }
}

@InputType({ description: 'Omitted fields are unchanged.' })
export class UpdateProgrammeSettingsInput {
  @Field(() => Int, { nullable: true, description: '0 to 365 days.' })
  @IsOptional()
  @Min(0)
  @Max(365)
  pendingDays?: number;

  @Field(() => Int, { nullable: true, description: '1 to 120 months.' })
  @IsOptional()
  @Min(1)
  @Max(120)
  lotExpiryMonths?: number;

  @Field(() => TierMetric, { nullable: true })
  @IsOptional()
  @IsEnum(TierMetric)
  tierMetric?: TierMetric;

  @Field(() => Int, { nullable: true, description: '1 to 3650 days.' })
  @IsOptional()
  @Min(1)
  @Max(3650)
  tierWindowDays?: number;

  @Field(() => Int, { nullable: true, description: '1 to 3650 days.' })
  @IsOptional()
  @Min(1)
  @Max(3650)
  voucherValidDays?: number;

  @Field(() => Int, { nullable: true, description: `What one point is worth, minor units of pointValueCurrency, 0 to ${grouped(MAX_POINT_VALUE_MINOR)}.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_POINT_VALUE_MINOR)
  pointValueMinor?: number;

  @Field(() => Int, { nullable: true, description: `0 to ${grouped(MAX_RULE_POINTS)} points.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_RULE_POINTS)
  referralReferrerPoints?: number;

  @Field(() => Int, { nullable: true, description: `0 to ${grouped(MAX_RULE_POINTS)} points.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_RULE_POINTS)
  referralReferredPoints?: number;

  @Field(() => Int, { nullable: true, description: `Minor units, 0 to ${grouped(MAX_ORDER_TOTAL_MINOR)}.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_ORDER_TOTAL_MINOR)
  referralMinOrderMinor?: number;

  @Field(() => String, { nullable: true, description: 'An IANA time zone such as Europe/London or UTC.' })
  @IsOptional()
  @Validate(IsTimeZone)
  timeZone?: string;

  @Field(() => String, { nullable: true, description: 'An ISO 4217 currency code such as GBP.' })
  @IsOptional()
  @Validate(IsCurrency)
  pointValueCurrency?: string;
}
