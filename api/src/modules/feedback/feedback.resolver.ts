import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { Member } from '../members/member.entity';
import { Analytics } from '../analytics/analytics.types';
import { Feedback, NpsCategory, FeedbackKind, npsCategory } from './feedback.entity';
import type { FeedbackService } from './feedback.service';
import { FeedbackAnalytics, FeedbackAnalyticsInput, FeedbackConnection, RecordFeedbackInput } from './feedback.types';

@Resolver(() => Feedback)
export class FeedbackResolver {
  constructor(private readonly feedbackService: FeedbackService) {}

  @Authorized(Permission.FEEDBACK_WRITE)
  @Mutation(() => Feedback, { description: 'Records an NPS or CSAT answer; idempotent per idempotencyKey, one answer of each kind per order.' })
  recordFeedback(@Arg('input', () => RecordFeedbackInput) input: RecordFeedbackInput, @Ctx() ctx: Context): Promise<Feedback> {
    return this.feedbackService.record(ctx, input);
  }

  @Authorized(Permission.FEEDBACK_READ)
  @Query(() => FeedbackConnection, { description: "Every member's NPS and CSAT answers, newest recorded first: the feedback inbox. Comments need members:pii." })
  feedbackInbox(
    @Ctx() ctx: Context,
    @Arg('kind', () => FeedbackKind, { nullable: true }) kind: FeedbackKind | null,
    @Arg('npsCategory', () => NpsCategory, { nullable: true, description: 'NPS answers in this band only.' }) npsCategory: NpsCategory | null,
    @Arg('withComment', () => Boolean, { defaultValue: false, description: 'Only answers with a comment.' }) withComment: boolean,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<FeedbackConnection> {
    return this.feedbackService.inbox(ctx.em, { kind, npsCategory, withComment }, first, after);
  }

  @FieldResolver(() => ID)
  memberId(@Root() feedback: Feedback): string {
    return feedback.member.id;
  }

  @FieldResolver(() => ID, { nullable: true })
  orderId(@Root() feedback: Feedback): string | null {
    return feedback.order?.id ?? null;
  }

  @FieldResolver(() => ID, { description: 'The channel the answer is about (the order’s, when it is about an order).' })
  channelId(@Root() feedback: Feedback): string {
    return feedback.channel.id;
  }

  @FieldResolver(() => NpsCategory, { nullable: true, description: 'For NPS answers.' })
  npsCategory(@Root() feedback: Feedback): NpsCategory | null {
    return feedback.kind === FeedbackKind.NPS ? npsCategory(feedback.score) : null;
  }
}

@Resolver(() => Member)
export class MemberFeedbackResolver {
  constructor(private readonly feedbackService: FeedbackService) {}

  @Authorized(Permission.FEEDBACK_READ)
  @FieldResolver(() => FeedbackConnection, { description: "The member's NPS and CSAT answers, newest recorded first." })
  feedback(
    @Root() member: Member,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<FeedbackConnection> {
    return this.feedbackService.ofMember(ctx.em, member.id, first, after);
  }
}

@Resolver(() => Analytics)
export class FeedbackAnalyticsResolver {
  constructor(private readonly feedbackService: FeedbackService) {}

  @Authorized(Permission.ANALYTICS_READ)
  @FieldResolver(() => FeedbackAnalytics, { description: 'NPS and CSAT over [from, to): overall, by channel and per day, week or month.' })
  feedback(@Arg('input', () => FeedbackAnalyticsInput) input: FeedbackAnalyticsInput, @Ctx() ctx: Context): Promise<FeedbackAnalytics> {
    return this.feedbackService.analytics(ctx.em, input);
  }
}
