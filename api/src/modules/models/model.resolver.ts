import { Arg, Authorized, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { AppError } from '../../base/errors';
import { OPAQUE_ID_ARGUMENTS } from '../../base/ids';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { Product } from '../catalog/product.entity';
import { ModelKind, ModelVersion } from './model-version.entity';
import { MAX_RECOMMENDATIONS, type ModelService } from './model.service';
import type { ModelLoaders } from './model.loaders';
import type { PointsLoaders } from '../ledger/points.loaders';
import { Analytics } from '../analytics/analytics.types';
import { ActivateModelVersionInput, ChurnRisk, ModelJob, PredictedValue, Recommendation, RetrainModelInput, RewardSuggestion, SimilarProduct, ValueAtRisk } from './model.types';

const page = (first: number, max: number, path = 'first') => {
  if (!Number.isInteger(first) || first < 1 || first > max) throw AppError.badInput([{ path, message: `must be between 1 and ${max}` }]);
  return first;
};

@Resolver()
export class ModelResolver {
  constructor(private readonly models: ModelService) {}

  @Authorized(Permission.MODELS_TRAIN)
  @Mutation(() => ModelJob, { description: 'Queues a training run; a run of that kind already waiting or running is returned instead.' })
  retrainModel(@Arg('input', () => RetrainModelInput) input: RetrainModelInput, @Ctx() ctx: Context) {
    return this.models.retrain(ctx, input);
  }

  @Authorized(Permission.MODELS_ACTIVATE)
  @Mutation(() => ModelVersion, { description: 'Serves a trained version by hand; activating an earlier version is a rollback.' })
  activateModelVersion(@Arg('input', () => ActivateModelVersionInput) input: ActivateModelVersionInput, @Ctx() ctx: Context) {
    return this.models.activate(ctx, input);
  }

  @Authorized(Permission.MODELS_READ)
  @Query(() => [ModelJob], { description: 'Training jobs, newest first.' })
  modelJobs(
    @Arg('kind', () => ModelKind, { nullable: true }) kind: ModelKind | null,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
  ) {
    return this.models.jobs(kind ?? null, page(first, 100));
  }

  @Authorized(Permission.MODELS_READ)
  @Query(() => ModelJob, { nullable: true })
  // A job id is the queue's own (a number as text), not a UUID.
  @Extensions({ [OPAQUE_ID_ARGUMENTS]: ['id'] })
  modelJob(@Arg('id', () => ID) id: string) {
    return this.models.job(id);
  }

  @Authorized(Permission.MODELS_READ)
  @Query(() => [ModelVersion], { description: 'Model versions, newest first.' })
  modelVersions(
    @Arg('kind', () => ModelKind, { nullable: true }) kind: ModelKind | null,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() ctx: Context,
  ) {
    return this.models.versions(ctx.em, kind ?? null, page(first, 100));
  }

  @Authorized(Permission.MODELS_READ)
  @Query(() => ModelVersion)
  modelVersion(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.models.version(ctx.em, id);
  }
}

@Resolver(() => Member)
export class MemberModelResolver {
  constructor(private readonly models: ModelService) {}

  @Authorized(Permission.MEMBERS_READ)
  @FieldResolver(() => [Recommendation], { description: 'Products for this member from the active recommender, each with a reason. With excludePurchased, popular products the member has not bought fill the list up to first.' })
  recommendations(
    @Root() member: Member,
    @Arg('first', () => Int, { defaultValue: 10 }) first: number,
    @Arg('excludePurchased', () => Boolean, { defaultValue: false }) excludePurchased: boolean,
    @Ctx() ctx: ResolverContext<ModelLoaders>,
  ) {
    return ctx.loaders.models.recommendations(page(first, MAX_RECOMMENDATIONS), excludePurchased).load(member.id);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => ChurnRisk, { nullable: true, description: 'From the active churn model; null when it has not scored this member.' })
  churnRisk(@Root() member: Member, @Ctx() ctx: ResolverContext<ModelLoaders>) {
    return ctx.loaders.models.churnRisk.load(member.id);
  }

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => PredictedValue, { nullable: true, description: 'From the active customer-value model; null when it has not scored this member or no VALUE version is active.' })
  predictedValue(@Root() member: Member, @Ctx() ctx: ResolverContext<ModelLoaders>) {
    return ctx.loaders.models.predictedValue.load(member.id);
  }

  @Authorized(Permission.MEMBERS_READ)
  @FieldResolver(() => [RewardSuggestion], { description: 'Rewards affordable now or once pending points are released, most wanted first.' })
  async recommendedRewards(@Root() member: Member, @Arg('first', () => Int, { defaultValue: 5 }) first: number, @Ctx() ctx: ResolverContext<PointsLoaders>) {
    const points = await ctx.loaders.points.load(member.id);
    return this.models.recommendedRewardsOf(ctx.em, member.id, points, page(first, 50));
  }
}

@Resolver(() => Analytics)
export class AnalyticsModelResolver {
  constructor(private readonly models: ModelService) {}

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => ValueAtRisk, { nullable: true, description: 'Predicted value × churn probability per churn band, from the active VALUE and CHURN versions; null while either has none.' })
  valueAtRisk(@Ctx() ctx: Context): Promise<ValueAtRisk | null> {
    return this.models.valueAtRisk(ctx.analyticsEm ?? ctx.em);
  }
}

@Resolver(() => Product)
export class ProductModelResolver {
  @FieldResolver(() => [SimilarProduct], { description: "Nearest products in the active recommender's item embedding space." })
  similarProducts(@Root() product: Product, @Arg('first', () => Int, { defaultValue: 10 }) first: number, @Ctx() ctx: ResolverContext<ModelLoaders>) {
    return ctx.loaders.models.similarProducts(page(first, 20)).load(product.id);
  }
}
