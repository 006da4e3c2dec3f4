import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { IsOptional, IsUUID, Length, Max, Min } from 'class-validator';
import { DateTimeISOResolver } from 'graphql-scalars';
import { Product } from '../catalog/product.entity';
import { Reward } from '../rewards/reward.entity';
import { ModelKind, ModelVersion } from './model-version.entity';
import { ChurnBand } from './churn-band';

export { ChurnBand };

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

@ObjectType({ description: 'A training job on its kind\'s queue (recommender.train-recommender or recommender.train-churn).' })
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

  @Field(() => DateTimeISOResolver)
  createdAt: Date;

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

  @Field(() => Boolean, { description: 'True when this is popularity by country rather than a model pick: the member has no history the model could use, or no recommender version is active.' })
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
