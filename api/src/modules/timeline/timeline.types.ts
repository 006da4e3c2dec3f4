import { createUnionType, Field, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { connectionOf } from '../../base/pagination';
import { Order } from '../orders/order.entity';
import { LedgerEntry } from '../ledger/ledger-entry.entity';
import { Redemption } from '../rewards/redemption.entity';
import { TierChange } from '../tiers/member-tier.entity';
import { Feedback } from '../feedback/feedback.entity';
import { CampaignMember, CampaignMessage } from '../campaigns/campaign.entity';

/** What a timeline entry is. Ties at the same moment are ordered by this name, descending, then by id. */
export enum TimelineEntryType {
  ORDER = 'ORDER',
  LEDGER = 'LEDGER',
  REDEMPTION = 'REDEMPTION',
  TIER_CHANGE = 'TIER_CHANGE',
  FEEDBACK = 'FEEDBACK',
  /** The member was targeted by a campaign (treated or held out). */
  CAMPAIGN_CONTACT = 'CAMPAIGN_CONTACT',
  /** A campaign message to the member, in the delivery outbox. */
  MESSAGE = 'MESSAGE',
}
registerEnumType(TimelineEntryType, { name: 'TimelineEntryType' });

/** Every node class a timeline can hold; a new source adds its entity here. */
export const TIMELINE_NODE_TYPES = [Order, LedgerEntry, Redemption, TierChange, Feedback, CampaignMember, CampaignMessage] as const;

export const TimelineNode = createUnionType({
  name: 'TimelineNode',
  description: 'The record behind a timeline entry.',
  types: () => TIMELINE_NODE_TYPES,
  resolveType: (value) => TIMELINE_NODE_TYPES.find((type) => value instanceof type)?.name,
});

@ObjectType({ description: 'One thing that happened to a member.' })
export class TimelineEntry {
  /** A TimelineEntryType value or a plugin's kind (the enum lists the app's). */
  @Field(() => TimelineEntryType)
  type: string;

  @Field(() => DateTimeISOResolver, { description: 'Order placed, ledger row written, redemption made, tier changed, feedback given, campaign contact or assignment, message written.' })
  occurredAt: Date;

  @Field(() => TimelineNode)
  node: object;

  @Field(() => String, { nullable: true, description: "One line about the entry from the plugin that added it; null for the core's kinds, which clients describe from the node." })
  summary: string | null;
}

@ObjectType({ description: 'Newest first; cursors are stable when entries share a moment or new ones arrive.' })
export class TimelineConnection extends connectionOf(TimelineEntry, 'Timeline') {}
