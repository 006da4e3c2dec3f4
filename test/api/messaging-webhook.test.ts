import { randomUUID } from 'node:crypto';
import { useHarness } from '../support/harness';
import { useWebhookReceivers, type webhookReceiver } from '../support/services';
import { build, AdminRole } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';
import { verify } from '../../api/src/modules/webhooks/signature';
import { ConfigError, loadConfig, redactedConfig } from '../../api/src/base/config';

const SECRET = 'msg-secret-0123456789abcdef';

/** The provider's answer per messageId; 200 unless a test says otherwise. */
const answers = new Map<string, number[]>();
const newReceiver = useWebhookReceivers();
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;

const env: Record<string, string> = { CAMPAIGNS_SWEEP_MS: '0', MESSAGE_DELIVERY: 'webhook', MESSAGE_WEBHOOK_SECRET: SECRET, MESSAGE_DELIVERY_TIMEOUT_MS: '5000' };
beforeAll(async () => {
  receiver = await newReceiver((body) => answers.get(JSON.parse(body).messageId)?.shift() ?? 200);
  env.MESSAGE_WEBHOOK_URL = receiver.url;
});

const h = useHarness(env);
const b = build(h);

const CREATE = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const LAUNCH = `mutation L($id: ID!) { launchCampaign(id: $id) { id } }`;

let marketer: { token: string };
let countryCounter = 0;
let phoneCounter = 400;

beforeAll(async () => {
  marketer = await b.admin(AdminRole.MARKETER);
});

async function smsMembers(country: string, n: number, consent: boolean) {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await b.member().inCountry(country).withPhone(`+447911123${phoneCounter++}`).withConsent(ConsentMedium.SMS, consent).save()).id);
  return out;
}

async function smsCampaign(body: string, membersFor: (country: string) => Promise<unknown>): Promise<string> {
  const country = `W${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[countryCounter++ % 26]}`;
  await membersFor(country);
  const segment = await h.app.services.segments.create(b.ctx(), { name: `hook ${country} ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: country }, kind: SegmentKind.DYNAMIC });
  const created = await h.gql(marketer, CREATE, { input: { name: `Sms ${country}`, segmentId: segment.id, message: { medium: 'SMS', body }, holdoutShare: 0, startsAt: new Date().toISOString() } });
  expect(created.errors).toBeUndefined();
  const launched = await h.gql(marketer, LAUNCH, { id: created.data.createCampaign.id });
  expect(launched.errors).toBeUndefined();
  return launched.data.launchCampaign.id;
}

async function messagesOf(campaignId: string) {
  return h.sql<{ id: string; member_id: string; status: string; attempts: number; adapter: string | null; last_error: string | null }>(
    `select id, member_id, status, attempts, adapter, last_error from campaign_message where campaign_id = ? order by member_id`,
    [campaignId],
  );
}

const requestsFor = (messageId: string) => receiver.requests.filter((r) => JSON.parse(r.body).messageId === messageId);
const sweep = () => h.app.services.campaigns.sweep(h.em());

describe('MESSAGE_DELIVERY=webhook', () => {
  it('POSTs each consenting member a JSON message signed with MESSAGE_WEBHOOK_SECRET over timestamp and body', async () => {
    let consenting: string[] = [];
    const campaignId = await smsCampaign('Double points today', async (country) => {
      consenting = await smsMembers(country, 2, true);
      await smsMembers(country, 1, false);
    });
    expect((await sweep()).messages).toMatchObject({ sent: 2, failed: 0 });

    const messages = await messagesOf(campaignId);
    expect(messages.map((m) => [m.status, m.adapter])).toEqual([['SENT', 'webhook'], ['SENT', 'webhook']]);
    for (const message of messages) {
      const [request] = requestsFor(message.id);
      const [member] = await h.sql<{ phone: string }>(`select phone from member where id = ?`, [message.member_id]);
      expect(JSON.parse(request.body)).toEqual({ messageId: message.id, campaignId, memberId: message.member_id, channel: 'SMS', to: member.phone, subject: null, body: 'Double points today' });
      expect(request.headers['content-type']).toBe('application/json');
      const signed = { timestamp: request.headers['x-loyalty-timestamp'] as string, signature: request.headers['x-loyalty-signature'] as string };
      expect(verify(SECRET, signed, request.body)).toBe(true);
      expect(verify('another-secret-0123456789', signed, request.body)).toBe(false);
      expect(verify(SECRET, signed, request.body.replace('Double', 'Triple'))).toBe(false);
    }
    expect(messages.map((m) => m.member_id).sort()).toEqual([...consenting].sort());
  });

  it('a 500 is retried on the next sweep and the message is delivered once', async () => {
    const campaignId = await smsCampaign('Retry me', (country) => smsMembers(country, 1, true));
    const [message] = await messagesOf(campaignId);
    answers.set(message.id, [500]);

    expect((await sweep()).messages).toMatchObject({ sent: 0, retrying: 1 });
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'PENDING', attempts: 1, last_error: 'HTTP 500' });
    expect((await sweep()).messages).toMatchObject({ sent: 1 });
    await sweep();
    expect(requestsFor(message.id).map((r) => r.status)).toEqual([500, 200]);
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'SENT', attempts: 2, last_error: null });
  });

  it('a 400 fails the message at once and it is not sent again', async () => {
    const campaignId = await smsCampaign('Refused', (country) => smsMembers(country, 1, true));
    const [message] = await messagesOf(campaignId);
    answers.set(message.id, [400]);

    expect((await sweep()).messages).toMatchObject({ sent: 0, failed: 1, retrying: 0 });
    await sweep();
    expect(requestsFor(message.id).map((r) => r.status)).toEqual([400]);
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'FAILED', attempts: 1, last_error: 'HTTP 400', adapter: 'webhook' });
  });
});

describe('message delivery settings', () => {
  it('refuses to start when the chosen adapter lacks its settings, naming each missing variable', () => {
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'smtp' })).toThrow(ConfigError);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'smtp' })).toThrow(/SMTP_URL: is required when MESSAGE_DELIVERY=smtp[\s\S]*MESSAGE_FROM: is required when MESSAGE_DELIVERY=smtp/);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'webhook', MESSAGE_WEBHOOK_URL: 'https://sms.example/hook' })).toThrow(/MESSAGE_WEBHOOK_SECRET: is required when MESSAGE_DELIVERY=webhook/);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'webhook', MESSAGE_WEBHOOK_SECRET: SECRET })).toThrow(/MESSAGE_WEBHOOK_URL: is required when MESSAGE_DELIVERY=webhook/);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'Pigeon post!' })).toThrow(/MESSAGE_DELIVERY:/);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'smtp', SMTP_URL: 'http://mail.example', MESSAGE_FROM: 'a@b.example' })).toThrow(/SMTP_URL: must start with smtp:\/\/ or smtps:\/\//);
    expect(() => loadConfig({ MESSAGE_DELIVERY: 'smtp', SMTP_URL: 'smtp://mail.example', MESSAGE_FROM: 'nobody' })).toThrow(/MESSAGE_FROM: must be an address or Name <address>/);
    expect(loadConfig({}).MESSAGE_DELIVERY).toBe('log');
  });

  it('accepts a complete setting and redacts the SMTP credentials and the webhook secret', () => {
    const c = loadConfig({ MESSAGE_DELIVERY: 'smtp', SMTP_URL: 'smtps://user:pw@mail.example:465', MESSAGE_FROM: 'Club <news@club.example>', MESSAGE_WEBHOOK_SECRET: SECRET });
    expect(c).toMatchObject({ MESSAGE_DELIVERY: 'smtp', MESSAGE_FROM: 'Club <news@club.example>', MESSAGE_DELIVERY_TIMEOUT_MS: 10_000 });
    const logged = JSON.stringify(redactedConfig(c));
    expect(logged).not.toContain('pw@mail.example');
    expect(logged).not.toContain(SECRET);
  });
});
