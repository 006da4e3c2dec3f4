import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONResolver } from 'graphql-scalars';
import { IsOptional, Length } from 'class-validator';
import { SegmentKind } from './segment.entity';

@InputType({ description: 'A rule to evaluate without saving it.' })
export class PreviewSegmentInput {
  @Field(() => JSONResolver, { description: 'A rule tree (docs/concepts/segments.md); errors name the bad node, e.g. input.rule.and.1.value.' })
  rule: unknown;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Evaluate as of this moment (default now): windows, recency and RFM count back from it.' })
  @IsOptional()
  asOf?: Date | null;
}

@InputType()
export class CreateSegmentInput {
  @Field(() => String)
  @Length(1, 100)
  name: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;

  @Field(() => JSONResolver, { description: 'A rule tree (docs/concepts/segments.md).' })
  rule: unknown;

  @Field(() => SegmentKind, { description: 'SNAPSHOT records the members now and keeps them; DYNAMIC is evaluated when used.' })
  kind: SegmentKind;
}

@InputType({ description: 'Changes the given fields; a SNAPSHOT keeps its rule (its members were recorded with it).' })
export class UpdateSegmentInput {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 100)
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string | null;

  @Field(() => JSONResolver, { nullable: true })
  @IsOptional()
  rule?: unknown;
}

@ObjectType({ description: 'A member in a preview sample: no personal data.' })
export class SegmentSampleMember {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true })
  country: string | null;

  @Field(() => String, { nullable: true, description: 'Current tier code.' })
  tierCode: string | null;
}

@ObjectType()
export class SegmentPreview {
  @Field(() => Int)
  count: number;

  @Field(() => [SegmentSampleMember], { description: 'The first 20 matching members by id.' })
  sample: SegmentSampleMember[];

  @Field(() => DateTimeISOResolver)
  asOf: Date;
}

/** What a condition's `value` holds for an operator. */
export enum SegmentValueShape {
  /** A single value. */
  ONE = 'ONE',
  /** A non-empty list of values. */
  LIST = 'LIST',
  /** Two values, [low, high]. */
  RANGE = 'RANGE',
}
registerEnumType(SegmentValueShape, { name: 'SegmentValueShape', description: "What a condition's value holds for an operator." });

@ObjectType({ description: "An operator of the rule grammar and the shape of the value it takes." })
export class SegmentOperatorInfo {
  @Field(() => String)
  name: string;

  @Field(() => SegmentValueShape)
  valueShape: SegmentValueShape;
}

@ObjectType({ description: "What a condition's `qualifier` names (an activity type, a challenge code)." })
export class SegmentAttributeQualifier {
  @Field(() => String)
  description: string;

  @Field(() => String, { description: 'The form the qualifier takes, for a form hint or an error.' })
  hint: string;
}

@ObjectType({ description: 'One attribute of the rule grammar, for building rules visually.' })
export class SegmentAttributeInfo {
  @Field(() => String)
  name: string;

  @Field(() => String)
  description: string;

  @Field(() => String, { description: 'INTEGER, NUMBER, ENUM, CODE or DATE.' })
  valueType: string;

  @Field(() => Boolean, { description: 'A member has a set of values (use contains / any / all).' })
  isMany: boolean;

  @Field(() => [String])
  operators: string[];

  @Field(() => [String], { nullable: true, description: 'The allowed values of an ENUM attribute.' })
  values: string[] | null;

  @Field(() => Boolean, { description: 'The condition needs windowDays.' })
  needsWindowDays: boolean;

  @Field(() => Float, { nullable: true })
  min: number | null;

  @Field(() => Float, { nullable: true })
  max: number | null;

  @Field(() => SegmentAttributeQualifier, { nullable: true, description: 'When set, each condition names what the attribute is of in `qualifier`.' })
  qualifier: SegmentAttributeQualifier | null;

  @Field(() => Boolean, { description: 'Added by a plugin rather than the core.' })
  isPlugin: boolean;
}

@ObjectType()
export class SegmentGrammar {
  @Field(() => [SegmentAttributeInfo])
  attributes: SegmentAttributeInfo[];

  @Field(() => [SegmentOperatorInfo], { description: 'Every operator an attribute may list, with the shape of its value.' })
  operators: SegmentOperatorInfo[];

  @Field(() => Int)
  maxDepth: number;

  @Field(() => Int)
  maxNodes: number;

  @Field(() => Int)
  maxListValues: number;

  @Field(() => Int)
  maxWindowDays: number;
}
