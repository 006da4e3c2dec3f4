import type { EntityManager } from '@mikro-orm/postgresql';
import { TransactionImporter } from '../../modules/import/importer';
import type { SourceRecord } from '../../modules/import/source';
import { Campaign } from '../../modules/campaigns/campaign.entity';
import { SegmentKind } from '../../modules/segments/segment.entity';
import { DAY_MS } from '../../base/time';
import type { DemoSeedContext, DemoSeedStep } from './demo-context';
import { readDemoHistory, rowsBefore, rowsFrom } from './demo-transactions';

export const FINISHED_CAMPAIGN = 'Double points for regulars';
/** The finished campaign ran for this long and ended this long before the newest order of the history. */
const CAMPAIGN_DAYS = 30;
const CAMPAIGN_ENDED_DAYS_BEFORE_NEWEST = 28;

/**
 * Real customers, orders and returns: the slice of Online Retail in data/demo through the importer, dates moved so
 * that its newest order was a day or two ago, with a finished campaign inside it. The campaign is launched through
 * the campaign service when the history has reached its start, then the rest is imported: its treated members'
 * orders in the window earn the bonus as live orders would, and its results compare real purchases of treated and
 * holdout members. Then the points jobs, so that pending, available points and tiers look live.
 */
export const historyStep: DemoSeedStep = {
  name: 'history',
  async run(demo) {
    const history = await readDemoHistory(demo.now, demo.history.file, demo.history);
    const campaignEnd = new Date(Math.floor(history.newestAt.getTime() / DAY_MS) * DAY_MS - CAMPAIGN_ENDED_DAYS_BEFORE_NEWEST * DAY_MS);
    const campaignStart = new Date(campaignEnd.getTime() - CAMPAIGN_DAYS * DAY_MS);

    const before = await importRows(demo, rowsBefore(history, campaignStart), history.shiftMs);
    await seedFinishedCampaign(demo, campaignStart, campaignEnd);
    const after = await importRows(demo, rowsFrom(history, campaignStart), history.shiftMs);
    await demo.services.points.runJobs(demo.rootEm, demo.log, demo.now);
    await demo.services.campaigns.sweep(demo.rootEm.fork(), demo.now);

    demo.historyEnd = history.newestAt;
    demo.counts.customers = history.customers;
    demo.counts.ordersImported = before.orders + after.orders;
    demo.log.info(
      { customers: history.customers, rows: history.rows.length, orders: before.orders + after.orders, returns: before.returns + after.returns, seconds: before.seconds + after.seconds },
      'seed.history',
    );
  },
};

async function importRows(demo: DemoSeedContext, records: SourceRecord[], shiftMs: number) {
  return new TransactionImporter(demo.rootEm, demo.services, demo.log).run(records, {
    channelName: demo.web.name,
    channelKind: demo.web.kind,
    currency: 'GBP',
    batchInvoices: 500,
    shiftMs,
  });
}

/** Regulars (3+ orders in a year) at the campaign's start, double points for 30 days, a fifth held out. */
async function seedFinishedCampaign(demo: DemoSeedContext, startsAt: Date, endsAt: Date): Promise<void> {
  const { services, ctx } = demo;
  if ((await demo.rootEm.fork().count(Campaign, { name: FINISHED_CAMPAIGN })) > 0) return;
  const segment = await services.segments.create(ctx(), {
    name: 'Regulars at the start of the double points campaign',
    description: 'Members with 3 or more orders in the year before the campaign, recorded when it was launched.',
    rule: { attribute: 'purchaseCount', op: 'gte', value: 3, windowDays: 365 },
    kind: SegmentKind.SNAPSHOT,
  });
  // The service launches campaigns now; it is moved to its place in the history right after (moveIntoThePast).
  const draft = await services.campaigns.create(ctx(), {
    name: FINISHED_CAMPAIGN,
    description: `Double points for ${CAMPAIGN_DAYS} days for regular customers, a fifth of them held out to measure what it changed.`,
    segmentId: segment.id,
    bonus: { multiplierPercent: 200 },
    holdoutShare: 0.2,
    startsAt: demo.now,
    endsAt: new Date(demo.now.getTime() + CAMPAIGN_DAYS * DAY_MS),
  });
  await services.campaigns.launch(ctx(), draft.id);
  await moveIntoThePast(demo.rootEm.fork(), draft.id, startsAt, endsAt);
}

/**
 * The one write of the seed without a service: no use case launches a campaign in the past. Its window, launch and
 * contact move to where the history puts them, as if it had been launched then.
 */
async function moveIntoThePast(em: EntityManager, campaignId: string, startsAt: Date, endsAt: Date): Promise<void> {
  await em.transactional(async (tx) => {
    await tx.execute(`update campaign set starts_at = ?, ends_at = ?, launched_at = ?, contacted_at = ?, created_at = ?, updated_at = ? where id = ?`, [
      startsAt,
      endsAt,
      startsAt,
      startsAt,
      startsAt,
      startsAt,
      campaignId,
    ]);
    await tx.execute(`update campaign_member set assigned_at = ?, contacted_at = case when contacted_at is null then null else ?::timestamptz end where campaign_id = ?`, [
      startsAt,
      startsAt,
      campaignId,
    ]);
  });
}
