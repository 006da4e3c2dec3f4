import { Arg, Authorized, Ctx, Field, ID, Mutation, ObjectType, Resolver } from 'type-graphql';
import { DateTimeISOResolver, JSONObjectResolver } from 'graphql-scalars';
import type { Context } from '../../base/context';
import { Permission } from '../auth/permissions';
import type { MemberExportService } from './member-export';

@ObjectType({ description: 'Everything the platform holds about one person, as JSON (docs/concepts/members.md, data export).' })
export class MemberDataExport {
  @Field(() => String, { description: 'The layout: loyalty-member-export/1.' })
  format: string;

  @Field(() => ID)
  memberId: string;

  @Field(() => [ID], { description: 'The member and the records merged into it.' })
  recordIds: string[];

  @Field(() => DateTimeISOResolver)
  generatedAt: Date;

  @Field(() => JSONObjectResolver, { description: "Section name → its rows: the core's (profile, identifiers, consents, merges, points, orders, …), then each plugin's as plugin:<name>." })
  sections: Record<string, unknown>;
}

@Resolver()
export class MemberExportResolver {
  constructor(private readonly exports: MemberExportService) {}

  @Authorized(Permission.MEMBERS_EXPORT)
  @Mutation(() => MemberDataExport, {
    description:
      "A subject access or portability request: the member's data from every module, read in one snapshot, and an audit entry saying who exported it. A merged-away record answers CONFLICT MEMBER_MERGED with the survivor, whose export includes it.",
  })
  exportMemberData(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<MemberDataExport> {
    return this.exports.export(ctx, id);
  }
}
