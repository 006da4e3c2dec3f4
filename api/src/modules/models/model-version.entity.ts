import { Entity, Enum, Index, PrimaryKey, Property, type Opt } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import { newId } from '../../base/ids';

export enum ModelKind {
  RECOMMENDER = 'RECOMMENDER',
  CHURN = 'CHURN',
  /** Predicted customer value: expected spend over the version's horizon. */
  VALUE = 'VALUE',
}
registerEnumType(ModelKind, { name: 'ModelKind' });

export enum ModelVersionStatus {
  /** A worker is training or scoring it; never served. */
  TRAINING = 'TRAINING',
  /** Trained and scored, but the promotion gate kept it out (see gateReason). */
  REJECTED = 'REJECTED',
  /** Served: at most one per kind. */
  ACTIVE = 'ACTIVE',
  /** Was active before; its scores are kept so that a rollback is instant. */
  RETIRED = 'RETIRED',
  /** Training stopped with an error or its worker died; nothing of it is served. */
  FAILED = 'FAILED',
}
registerEnumType(ModelVersionStatus, { name: 'ModelVersionStatus' });

/** How a VALUE version's scores were banded, and the currency of its amounts; the worker writes it with the scores. */
@ObjectType({ description: "How a customer-value version banded its members: HIGH from the highQuantile of its predictions, MEDIUM from the mediumQuantile." })
export class ValueScoring {
  @Field(() => String, { description: 'Currency of the predicted amounts: the programme currency when the scores were written.' })
  currency: string;

  @Field(() => Float, { description: 'Share of scored members below the MEDIUM threshold, e.g. 0.5.' })
  mediumQuantile: number;

  @Field(() => Float, { description: 'Share of scored members below the HIGH threshold, e.g. 0.8 (the top 20% are HIGH).' })
  highQuantile: number;

  @Field(() => Int, { description: 'Predicted value (minor units) from which a member is MEDIUM.' })
  mediumFromMinor: number;

  @Field(() => Int, { description: 'Predicted value (minor units) from which a member is HIGH.' })
  highFromMinor: number;

  @Field(() => Int, { description: 'Members scored.' })
  members: number;
}

/**
 * One training run. The worker writes it (status TRAINING), then its scores, then the gate's decision; activating it
 * is one status flip, so the served set of recommendations or churn scores changes atomically.
 */
@ObjectType({ description: 'One training run of a model: parameters, data window, metrics next to the baselines, gate decision.' })
@Entity({ tableName: 'model_version' })
@Index({ properties: ['kind', 'createdAt'] })
export class ModelVersion {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: Opt<string> = newId();

  @Field(() => ModelKind)
  @Enum({ items: () => ModelKind })
  kind: ModelKind;

  @Field(() => ModelVersionStatus)
  @Enum({ items: () => ModelVersionStatus })
  status: ModelVersionStatus;

  @Field(() => String, {
    description:
      "The registry name of what was trained: the kind's model (TF-HYBRID, TF-CHURN, TF-VALUE or a model plugin's), or a baseline (RFM-LOGISTIC, BGNBD-GG, ...) trained to serve in place of a churn or value model the gate kept out while no learned version was served; its gateReason then begins with \"in place of\".",
  })
  @Property({ type: 'string', length: 60 })
  algorithm: string;

  @Field(() => String, { nullable: true, description: 'The Bull job that trained it.' })
  @Property({ type: 'string', length: 100, nullable: true })
  jobId: string | null = null;

  @Field(() => JSONObjectResolver, { description: 'Hyper-parameters, including those chosen on inner validation splits.' })
  @Property({ type: 'json' })
  params: Record<string, unknown> = {};

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'First purchase in the training data.' })
  @Property({ type: 'datetime', nullable: true })
  dataFrom: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Holdout cutoff: trained before it, evaluated after it.' })
  @Property({ type: 'datetime', nullable: true })
  cutoff: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'Last purchase in the data.' })
  @Property({ type: 'datetime', nullable: true })
  dataTo: Date | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  horizonDays: number | null = null;

  @Field(() => Int, { nullable: true, description: 'Purchase lines the model was trained on.' })
  @Property({ type: 'integer', nullable: true })
  trainRows: number | null = null;

  @Field(() => JSONObjectResolver, { description: "The model's holdout metrics, e.g. ndcg@10 per view, or rocAuc." })
  @Property({ type: 'json' })
  metrics: Record<string, unknown> = {};

  @Field(() => JSONObjectResolver, { description: 'Each baseline\'s metrics on the same holdout, by baseline name.' })
  @Property({ type: 'json' })
  baselineMetrics: Record<string, unknown> = {};

  @Field(() => String, { nullable: true, description: 'TensorFlow.js backend used: tensorflow, wasm or cpu.' })
  @Property({ type: 'string', length: 20, nullable: true })
  backend: string | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  durationMs: number | null = null;

  /** The TF.js artefact (model topology + weights) as the worker stored it; not exposed over GraphQL. */
  @Property({ type: 'blob', nullable: true, lazy: true })
  artefact: Buffer | null = null;

  @Field(() => Boolean, { nullable: true, description: 'Whether the promotion gate let it through; null until decided.' })
  @Property({ type: 'boolean', nullable: true })
  isPromoted: boolean | null = null;

  @Field(() => String, { nullable: true, description: "The promotion gate's reason for its decision (isPromoted); activating the version by hand leaves it as the gate wrote it." })
  @Property({ type: 'string', length: 500, nullable: true })
  gateReason: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 1000, nullable: true })
  failureReason: string | null = null;

  @Field(() => ValueScoring, { nullable: true, description: 'VALUE versions: the band thresholds and currency of their scores; null for other kinds.' })
  @Property({ type: 'json', nullable: true })
  valueScoring: ValueScoring | null = null;

  @Field(() => DateTimeISOResolver)
  @Property({ type: 'datetime' })
  createdAt: Opt<Date> = new Date();

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  finishedAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true, description: 'When its scores were last written: by its training job, then by each batch-scoring job.' })
  @Property({ type: 'datetime', nullable: true })
  scoredAt: Date | null = null;

  @Field(() => DateTimeISOResolver, { nullable: true })
  @Property({ type: 'datetime', nullable: true })
  activatedAt: Date | null = null;

  @Field(() => String, { nullable: true, description: '`gate`, or the admin who activated it by hand.' })
  @Property({ type: 'string', length: 80, nullable: true })
  activatedBy: string | null = null;

  @Field(() => String, {
    nullable: true,
    description: "The admin's reason when the version was last activated by hand (activatedBy names them, activatedAt says when); null when only the gate activated it.",
  })
  @Property({ type: 'string', length: 500, nullable: true })
  activationReason: string | null = null;
}
