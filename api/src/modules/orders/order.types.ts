import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IdentifierType } from '../members/member-identifier.entity';
import {
  MAX_LINE_QUANTITY,
  MAX_LINE_TOTAL_MINOR,
  MAX_ORDER_LINES,
  MAX_ORDER_TOTAL_MINOR,
  MAX_UNIT_PRICE_MINOR,
  grouped,
} from '../../base/bounds';

@ObjectType()
export class ReturnedLine {
  @Field(() => Int)
  lineNo: number;

  @Field(() => String)
  sku: string;

  @Field(() => Int)
  quantity: number;

  @Field(() => Int)
  valueMinor: number;
}

@InputType()
export class OrderLineInput {
  @Field(() => String)
  @Length(1, 64)
  @Matches(/^\S(.*\S)?$/, { message: 'must not start or end with spaces' })
  sku: string;

  @Field(() => String, { nullable: true, description: 'Used to create the product when the SKU is new.' })
  @IsOptional()
  @Length(1, 200)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  category?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  brand?: string | null;

  @Field(() => Int, { description: `1 to ${grouped(MAX_LINE_QUANTITY)}; quantity × unitPriceMinor at most ${grouped(MAX_LINE_TOTAL_MINOR)}.` })
  @IsInt()
  @Min(1, { message: 'must be at least 1' })
  @Max(MAX_LINE_QUANTITY)
  quantity: number;

  @Field(() => Int, { description: `Minor units, 0 to ${grouped(MAX_UNIT_PRICE_MINOR)}.` })
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_UNIT_PRICE_MINOR)
  unitPriceMinor: number;

  @Field(() => Int, { defaultValue: 0, description: 'Minor units, 0 to quantity × unitPriceMinor.' })
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_LINE_TOTAL_MINOR)
  discountMinor: number;
}

@InputType({ description: 'Who placed the order: by id, or by an identifier the channel knows.' })
export class MemberRefInput {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  id?: string | null;

  @Field(() => IdentifierType, { nullable: true })
  @IsOptional()
  identifierType?: IdentifierType | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 254)
  identifierValue?: string | null;
}

@InputType()
export class RecordOrderInput {
  @Field(() => String, { description: "The channel's own order id; replays with the same id return the stored order." })
  @Length(1, 100)
  externalOrderId: string;

  @Field(() => ID, { nullable: true, description: 'Admin callers: the sales channel. Channel callers use their own.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an id' })
  channelId?: string | null;

  @Field(() => MemberRefInput, { nullable: true, description: 'Omit for a guest order, which a member can claim later.' })
  @IsOptional()
  @ValidateNested()
  member?: MemberRefInput | null;

  @Field(() => DateTimeISOResolver)
  placedAt: Date;

  @Field(() => String, { description: 'ISO 4217, e.g. GBP.' })
  @Matches(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 currency code such as GBP' })
  currency: string;

  @Field(() => [OrderLineInput], { description: `1 to ${MAX_ORDER_LINES} lines, together at most ${grouped(MAX_ORDER_TOTAL_MINOR)} minor units after line discounts.` })
  @ArrayMinSize(1, { message: 'must have at least one line' })
  @ArrayMaxSize(MAX_ORDER_LINES)
  @ValidateNested({ each: true })
  lines: OrderLineInput[];

  @Field(() => Int, { defaultValue: 0, description: 'Minor units, 0 to the sum of the lines.' })
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_ORDER_TOTAL_MINOR)
  orderDiscountMinor: number;

  @Field(() => Int, { description: `What the channel charged, in minor units (0 to ${grouped(MAX_ORDER_TOTAL_MINOR)}); must equal the lines less discounts.` })
  @IsInt()
  @Min(0, { message: 'must not be negative' })
  @Max(MAX_ORDER_TOTAL_MINOR)
  totalMinor: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 64)
  storeCode?: string | null;
}

@InputType()
export class ClaimOrderInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  orderId: string;

  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  memberId: string;
}

@InputType()
export class ReturnLineInput {
  @Field(() => Int)
  @IsInt()
  @Min(1)
  @Max(MAX_ORDER_LINES)
  lineNo: number;

  @Field(() => Int, { description: 'At most what is left of the line.' })
  @IsInt()
  @Min(1, { message: 'must be at least 1' })
  @Max(MAX_LINE_QUANTITY)
  quantity: number;
}

@InputType()
export class RecordReturnInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  orderId: string;

  @Field(() => String, { description: "The channel's return id; a replay returns the stored return." })
  @Length(1, 100)
  externalReturnId: string;

  @Field(() => [ReturnLineInput], { nullable: true, description: 'Omit to return everything not yet returned.' })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_LINES)
  @ValidateNested({ each: true })
  lines?: ReturnLineInput[] | null;
}
