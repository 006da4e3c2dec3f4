import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsOptional, IsUUID, Length, Max, Min } from 'class-validator';
import { DateTimeISOResolver } from 'graphql-scalars';
import { Product } from '../catalog/product.entity';
import { Reward } from '../rewards/reward.entity';
import { ModelKind, ModelVersion } from './model-version.entity';
import { ChurnBand } from './churn-band';
import { ValueBand } from './value-band';

export { ChurnBand, ValueBand };

export enum ModelJobState {
  WAITING = 'WAITING',
  ACTIVE = 'ACTIVE',
  DELAYED = 'DELAYED',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(ModelJobState, { name: 'ModelJobState' });

@ObjectType({ description: 'Where a training job is: phase, epoch and loss as the worker reports them.' })
export class ModelJobProgress {
  @Field(() => String, { description: 'loading, features, tuning, training, evaluating, scoring, gate or done.' })
  phase: string;

  @Field(() => Int, { nullable: true })
  epoch: number | null;

  @Field(() => Int, { nullable: true })
  epochs: number | null;

  @Field(() => Float, { nullable: true })
  loss: number | null;

  @Field(() => Int, { description: 'Rough share of the job done, 0–100.' })
  percent: number;
}

@ObjectType({ description: 'A training job on its kind\'s queue (recommender.train-recommender, recommender.train-churn or recommender.train-value).' })
export class ModelJob {
  @Field(() => ID)
  id: string;

  @Field(() => ModelKind)
  kind: ModelKind;

  @Field(() => ModelJobState)
  state: ModelJobState;

  @Field(() => ModelJobProgress, { nullable: true })
  progress: ModelJobProgress | null;

  @Field(() => Int, { description: 'Attempts made so far; a failed or stalled attempt is retried with backoff.' })
  attemptsMade: number;

  @Field(() => String, { nullable: true })
  failedReason: string | null;

  @Field(() => String)
  requestedBy: string;

  @Field(() => DateTimeISOResolver, { description: 'When the job was queued (a scheduled retrain: when its firing was set up).' })
  createdAt: Date;

  @Field(() => DateTimeISOResolver, {
    nullable: true,
    description: 'When a DELAYED job will run: the nightly retrain at its scheduled time, a failed attempt at the end of its backoff; null in other states.',
  })
  runAt: Date | null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  finishedAt: Date | null;

  @Field(() => ID, { nullable: true, description: 'The model version this job wrote, once it has one.' })
  modelVersionId: string | null;
}

@InputType()
export class RetrainModelInput {
  @Field(() => ModelKind)
  kind: ModelKind;

  @Field(() => Int, { nullable: true, description: 'Holdout window at the end of the history (default 90 days).' })
  @IsOptional()
  @Min(7)
  @Max(365)
  horizonDays?: number | null;

  @Field(() => Int, { nullable: true, description: 'Caps training epochs, for quick runs on small data.' })
  @IsOptional()
  @Min(1)
  @Max(500)
  maxEpochs?: number | null;
}

@InputType()
export class ActivateModelVersionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be an id' })
  id: string;

  @Field(() => String, { description: 'Why, for the audit log (e.g. rolling back after a complaint).' })
  @Length(1, 500)
  reason: string;
}

@ObjectType({ description: 'A product recommended to a member, with why.' })
export class Recommendation {
  @Field(() => Int)
  rank: number;

  @Field(() => Product)
  product: Product;

  @Field(() => Float)
  score: number;

  @Field(() => String, { description: "A short reason, e.g. 'Similar to WHITE HANGING HEART T-LIGHT HOLDER' or 'Popular in France'." })
  reason: string;

  @Field(() => Boolean, { description: 'True when this is popularity by country rather than a model pick: the member has no history the model could use, no recommender version is active, or (excludePurchased) the picks left too few products the member has not bought.' })
  isColdStart: boolean;

  @Field(() => Boolean, { description: 'The member has bought this product before.' })
  isRepeat: boolean;

  @Field(() => ID)
  modelVersionId: string;
}

@ObjectType({ description: 'What pushes a churn score up or down.' })
export class ChurnDriver {
  @Field(() => String, { description: "The model's name for the feature, stable across versions (e.g. log_recency_days)." })
  feature: string;

  @Field(() => String, { description: 'The feature in words, for people; the feature name for scores stored before labels existed.' })
  label: string;

  @Field(() => Float, { description: "The feature's value for this member." })
  value: number;

  @Field(() => Float, { description: 'Contribution to the score (log-odds); positive raises the risk.' })
  contribution: number;
}


@ObjectType({ description: 'Calibrated probability that the member buys nothing in the model\'s horizon.' })
export class ChurnRisk {
  @Field(() => Float)
  score: number;

  @Field(() => ChurnBand)
  band: ChurnBand;

  @Field(() => [ChurnDriver], { description: 'Top drivers, strongest first.' })
  drivers: ChurnDriver[];

  @Field(() => ID)
  modelVersionId: string;

  @Field(() => Int, { description: "The model's horizon in days." })
  horizonDays: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "The member's churn score from at least 28 days before (the newest kept that old, so 4 to 8 weeks when scoring runs every few hours), whichever version computed it: what a rising risk is measured against. A member with no score kept that long gets the serving version's score recomputed on the history as it stood 28 days before the latest scoring, when the model can be re-scored from stored weights. Null for a member who first bought since then. score − previousScore is the segment attribute churnScoreChange.",
  })
  previousScore: number | null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When previousScore was computed, or for a recomputed one the date of the history it was computed as of.' })
  previousScoredAt: Date | null;
}

@ObjectType({ description: 'What pushes a predicted value up or down.' })
export class ValueDriver {
  @Field(() => String)
  feature: string;

  @Field(() => Float, { description: "The feature's value for this member." })
  value: number;

  @Field(() => Float, { description: 'Contribution to the log of the expected spend; positive raises the value.' })
  contribution: number;
}

@ObjectType({ description: "The active customer-value model's expected spend of the member over its horizon." })
export class PredictedValue {
  @Field(() => Int, { description: 'Expected spend over the next horizonDays, in minor units of `currency` (at most 1,000,000,000).' })
  amount: number;

  @Field(() => String, { description: 'ISO 4217: the programme currency when the version was scored.' })
  currency: string;

  @Field(() => ValueBand)
  band: ValueBand;

  @Field(() => Float, { description: 'Probability that the member buys anything at all in the horizon.' })
  pReturn: number;

  @Field(() => [ValueDriver], { description: 'Top drivers, strongest first.' })
  drivers: ValueDriver[];

  @Field(() => ID)
  modelVersionId: string;

  @Field(() => Int, { description: "The model's horizon in days." })
  horizonDays: number;
}

@ObjectType({ description: "Members of one churn band scored by both active models, their predicted value and the part of it at risk." })
export class ValueAtRiskBand {
  @Field(() => ChurnBand)
  churnBand: ChurnBand;

  @Field(() => Int)
  members: number;

  @Field(() => Float, { description: 'Σ predicted value (minor units); a whole number, Float as it passes 2^31.' })
  predictedValueMinor: number;

  @Field(() => Float, { description: 'Σ floor(predicted value × churn probability) (minor units).' })
  valueAtRiskMinor: number;
}

@ObjectType({ description: 'Predicted value weighed by churn probability, per churn band, over ACTIVE members both active models scored.' })
export class ValueAtRisk {
  @Field(() => String, { description: 'Currency of the amounts (the value version\'s).' })
  currency: string;

  @Field(() => ID)
  valueModelVersionId: string;

  @Field(() => ID)
  churnModelVersionId: string;

  @Field(() => [ValueAtRiskBand], { description: 'LOW, MEDIUM, HIGH, each present (0 members when empty).' })
  bands: ValueAtRiskBand[];
}

@ObjectType()
export class SimilarProduct {
  @Field(() => Product)
  product: Product;

  @Field(() => Float)
  score: number;
}

@ObjectType({ description: 'A reward ranked for a member by their recommendation scores and balance.' })
export class RewardSuggestion {
  @Field(() => Reward)
  reward: Reward;

  @Field(() => Boolean)
  canAffordNow: boolean;

  @Field(() => Int, { description: 'Points still missing (0 when affordable now).' })
  pointsShort: number;

  @Field(() => Float)
  score: number;

  @Field(() => String)
  reason: string;
}

export { ModelVersion };
