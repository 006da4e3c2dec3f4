import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, ResolverContext } from '../../base/context';
import { Permission } from '../auth/permissions';
import { MemberConnection } from '../members/member.types';
import type { SegmentService } from './segment.service';
import { Segment } from './segment.entity';
import { CreateSegmentInput, PreviewSegmentInput, SegmentGrammar, SegmentPreview, UpdateSegmentInput } from './segment.types';

@Resolver(() => Segment)
export class SegmentResolver {
  constructor(private readonly service: SegmentService) {}

  @Authorized(Permission.SEGMENTS_READ)
  @Query(() => SegmentGrammar, { description: 'The attributes, operators and limits of segment rules (docs/concepts/segments.md).' })
  segmentGrammar(): SegmentGrammar {
    return this.service.grammar();
  }

  @Authorized(Permission.SEGMENTS_READ)
  @Query(() => SegmentPreview, { description: 'How many members a rule matches now (or as of asOf), with the first 20 by id.' })
  previewSegment(@Arg('input', () => PreviewSegmentInput) input: PreviewSegmentInput, @Ctx() ctx: Context): Promise<SegmentPreview> {
    return this.service.preview(ctx.analyticsEm ?? ctx.em, input);
  }

  @Authorized(Permission.SEGMENTS_READ)
  @Query(() => [Segment], { description: 'Saved segments, newest first; deleted ones are left out.' })
  segments(@Ctx() ctx: Context): Promise<Segment[]> {
    return this.service.list(ctx.em);
  }

  @Authorized(Permission.SEGMENTS_READ)
  @Query(() => Segment)
  segment(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Segment> {
    return this.service.get(ctx.em, id);
  }

  @Authorized(Permission.SEGMENTS_MANAGE)
  @Mutation(() => Segment, { description: 'A SNAPSHOT records its members now; a DYNAMIC one is evaluated whenever it is used.' })
  createSegment(@Arg('input', () => CreateSegmentInput) input: CreateSegmentInput, @Ctx() ctx: Context): Promise<Segment> {
    return this.service.create(ctx, input);
  }

  @Authorized(Permission.SEGMENTS_MANAGE)
  @Mutation(() => Segment)
  updateSegment(@Arg('input', () => UpdateSegmentInput) input: UpdateSegmentInput, @Ctx() ctx: Context): Promise<Segment> {
    return this.service.update(ctx, input);
  }

  @Authorized(Permission.SEGMENTS_MANAGE)
  @Mutation(() => Segment, { description: 'Soft delete: no longer listed or usable; kept for the audit trail.' })
  deleteSegment(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Segment> {
    return this.service.remove(ctx, id);
  }

  @Authorized(Permission.SEGMENTS_READ)
  @FieldResolver(() => Int, { description: 'DYNAMIC: members matching now (one evaluation of the rule per segment); SNAPSHOT: members recorded at creation.' })
  memberCount(@Root() segment: Segment, @Ctx() ctx: Context): Promise<number> {
    return this.service.memberCount(ctx.em, segment);
  }

  @Authorized(Permission.SEGMENTS_READ)
  @FieldResolver(() => MemberConnection, { description: 'Members by id; personal fields need members:pii as elsewhere.' })
  members(
    @Root() segment: Segment,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<MemberConnection> {
    return this.service.members(ctx.em, segment, first, after);
  }
}
