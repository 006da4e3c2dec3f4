import { randomUUID } from 'node:crypto';
import { useHarness, testConfig } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import { PermanentDeliveryError, type OutboundMessage } from '../../api/src/modules/campaigns/campaign-delivery';
import { definePlugin } from '../../api/src/composition/plugin';
import { createServices } from '../../api/src/composition/services';
import { ConfigError } from '../../api/src/base/config';

/** A plugin's adapter: keeps what it is given, and refuses for good the bodies that say so. */
const delivered: Array<OutboundMessage & { timeoutMs: number }> = [];
const pigeonPost = definePlugin({
  name: 'test-pigeon-post',
  deliveryAdapters: {
    'pigeon-post': ({ config }) => ({
      name: 'pigeon-post',
      async deliver(message) {
        if (message.body.includes('refuse')) throw new PermanentDeliveryError('the pigeon refused');
        // A plugin that imports only the core's types names its error instead.
        if (message.body.includes('decline')) throw Object.assign(new Error('the pigeon declined'), { name: 'PermanentDeliveryError' });
        delivered.push({ ...message, timeoutMs: config.MESSAGE_DELIVERY_TIMEOUT_MS });
      },
    }),
  },
});

const h = useHarness({ CAMPAIGNS_SWEEP_MS: '0', MESSAGE_DELIVERY: 'pigeon-post', MESSAGE_DELIVERY_TIMEOUT_MS: '4321' }, { plugins: [pigeonPost] });
const b = build(h);

const CREATE = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const LAUNCH = `mutation L($id: ID!) { launchCampaign(id: $id) { id } }`;

let marketer: { token: string };
let countries = 0;
beforeAll(async () => {
  marketer = await b.admin(AdminRole.MARKETER);
});

async function emailCampaign(body: string, members: number): Promise<{ campaignId: string; memberIds: string[] }> {
  const country = `P${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[countries++]}`;
  const memberIds: string[] = [];
  for (let i = 0; i < members; i++) {
    const m = await b.member().inCountry(country).withEmail(`pigeon-${randomUUID()}@test.example`).withConsent(ConsentMedium.EMAIL, true).save();
    memberIds.push(m.id);
  }
  const segment = await h.app.services.segments.create(b.ctx(), { name: `pigeon ${country}`, rule: { attribute: 'country', op: 'eq', value: country }, kind: SegmentKind.DYNAMIC });
  const created = await h.gql(marketer, CREATE, { input: { name: `Pigeon ${country}`, segmentId: segment.id, message: { medium: 'EMAIL', subject: 'Hello', body }, holdoutShare: 0, startsAt: new Date().toISOString() } });
  expect(created.errors).toBeUndefined();
  const launched = await h.gql(marketer, LAUNCH, { id: created.data.createCampaign.id });
  expect(launched.errors).toBeUndefined();
  return { campaignId: launched.data.launchCampaign.id, memberIds };
}

const messagesOf = (campaignId: string) =>
  h.sql<{ id: string; member_id: string; status: string; adapter: string | null; last_error: string | null }>(
    `select id, member_id, status, adapter, last_error from campaign_message where campaign_id = ? order by member_id`,
    [campaignId],
  );

describe('a message delivery adapter from a plugin', () => {
  it('sends a campaign when MESSAGE_DELIVERY names it, built with the configuration', async () => {
    const { campaignId, memberIds } = await emailCampaign('Double points at the loft', 2);
    expect((await h.app.services.campaigns.sweep(h.em())).messages).toMatchObject({ sent: 2, failed: 0 });

    const messages = await messagesOf(campaignId);
    expect(messages.map((m) => [m.status, m.adapter])).toEqual([['SENT', 'pigeon-post'], ['SENT', 'pigeon-post']]);
    const mine = delivered.filter((d) => d.campaignId === campaignId);
    expect(mine.map((d) => d.id).sort()).toEqual(messages.map((m) => m.id).sort());
    expect(mine.map((d) => d.memberId).sort()).toEqual([...memberIds].sort());
    expect(mine[0]).toMatchObject({ medium: 'EMAIL', subject: 'Hello', body: 'Double points at the loft', timeoutMs: 4321 });
    expect(mine[0].address).toMatch(/^pigeon-.*@test\.example$/);
  });

  it("fails a message at once when the plugin's adapter refuses it for good", async () => {
    const { campaignId } = await emailCampaign('Please refuse this', 1);
    expect((await h.app.services.campaigns.sweep(h.em())).messages).toMatchObject({ sent: 0, failed: 1 });
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'FAILED', adapter: 'pigeon-post', last_error: 'the pigeon refused' });
  });

  it('fails a message at once on an error named PermanentDeliveryError, as a plugin importing only types throws it', async () => {
    const { campaignId } = await emailCampaign('Please decline this', 1);
    expect((await h.app.services.campaigns.sweep(h.em())).messages).toMatchObject({ sent: 0, failed: 1, retrying: 0 });
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'FAILED', last_error: 'the pigeon declined' });
  });

  it('refuses to start when MESSAGE_DELIVERY names an adapter nobody registered', () => {
    const config = testConfig({ MESSAGE_DELIVERY: 'carrier-owl' });
    expect(() => createServices(config, { plugins: [pigeonPost] })).toThrow(ConfigError);
    expect(() => createServices(config, { plugins: [pigeonPost] })).toThrow(
      /MESSAGE_DELIVERY: no message delivery adapter named 'carrier-owl' \(registered: log, smtp, webhook, pigeon-post\)/,
    );
  });

  it('refuses a plugin adapter that takes a built-in name', () => {
    const clash = definePlugin({ name: 'clash', deliveryAdapters: { smtp: () => ({ name: 'fake', deliver: async () => undefined }) } });
    expect(() => createServices(testConfig(), { plugins: [clash] })).toThrow(/A message delivery adapter named 'smtp' is already registered/);
  });
});
