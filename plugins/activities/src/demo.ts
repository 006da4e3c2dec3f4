import { DAY_MS, SalesChannelKind, type PluginDemo } from '@loyalty/api/extension-api';
import { ActivityService } from './activity.service';
import { Activity } from './activity.entity';
import { ActivityType } from './activity-type.entity';

/** The demo programme's activity types: a review on the web shop or app, a visit to a store. */
const TYPES = [
  {
    code: 'review_written',
    name: 'Review written',
    description: 'A product review published on the web shop or in the app.',
    points: 50,
    capPerDay: 1,
    capLifetime: 20,
    channelKinds: [SalesChannelKind.WEB, SalesChannelKind.APP],
  },
  {
    code: 'store_visit',
    name: 'Store visit',
    description: 'A check-in at a store, scanned at the till.',
    points: 10,
    capPerDay: 1,
    minGapMinutes: 240,
    channelKinds: [SalesChannelKind.STORE],
  },
];

/** Declares the demo's activity types, once. */
export async function demoProgramme({ ctx, services }: PluginDemo): Promise<void> {
  const activities = new ActivityService(services);
  for (const type of TYPES) {
    if (await ctx.em.fork().count(ActivityType, { code: type.code })) continue;
    await activities.createType(ctx, { ...type, isActive: true });
  }
}

/**
 * Two weeks of activities for the demo's recent buyers: every other one visits a store every few days, every third
 * writes a review; each recorded through the plugin's own use case, so points, caps and challenges see them. Once.
 */
export async function demoActivity({ ctx, services, now, memberIds }: PluginDemo): Promise<void> {
  if (await ctx.em.fork().count(Activity, {})) return;
  const activities = new ActivityService(services);
  const members = memberIds.slice(0, 120);
  for (const [i, memberId] of members.entries()) {
    const events: Array<{ type: string; daysAgo: number }> = [];
    if (i % 2 === 0) for (let d = 1 + (i % 3); d <= 13; d += 3 + (i % 4)) events.push({ type: 'store_visit', daysAgo: d });
    if (i % 3 === 0) events.push({ type: 'review_written', daysAgo: 2 + (i % 9) });
    for (const [n, event] of events.entries()) {
      await activities.record(ctx, {
        member: { id: memberId },
        type: event.type,
        occurredAt: new Date(now.getTime() - event.daysAgo * DAY_MS - (i % 8) * 3_600_000),
        idempotencyKey: `demo-${memberId}-${n}`,
        attributes: event.type === 'review_written' ? { rating: 3 + (i % 3) } : { store: `S${(i % 4) + 1}` },
      });
    }
  }
}
