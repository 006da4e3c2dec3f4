import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail, type AddressObject } from 'mailparser';
import { useHarness } from '../support/harness';
import { freePort } from '../support/services';
import { build, AdminRole } from '../fixtures/build';
import { ConsentMedium } from '../../api/src/modules/members/member-consent.entity';
import { SegmentKind } from '../../api/src/modules/segments/segment.entity';

/** A real SMTP relay on 127.0.0.1: it wants the credentials from SMTP_URL and answers each recipient as `answerFor` says. */
interface Arrived {
  envelopeFrom: string;
  envelopeTo: string[];
  mail: ParsedMail;
}
const arrived: Arrived[] = [];
let answerFor: (recipient: string) => { code: number; text: string } | null = () => null;
let relay: SMTPServer | null = null;
let port = 0;

async function startRelay(): Promise<void> {
  relay = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'relay-pass') callback(null, { user: 'mailer' });
      else callback(new Error('Invalid credentials'));
    },
    onRcptTo(address, _session, callback) {
      const answer = answerFor(address.address);
      if (answer) callback(Object.assign(new Error(answer.text), { responseCode: answer.code }));
      else callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          arrived.push({ envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => relay!.listen(port, '127.0.0.1', resolve));
}

async function stopRelay(): Promise<void> {
  if (!relay) return;
  const closing = relay;
  relay = null;
  await new Promise<void>((resolve) => closing.close(() => resolve()));
}

const env: Record<string, string> = {
  CAMPAIGNS_SWEEP_MS: '0',
  MESSAGE_DELIVERY: 'smtp',
  MESSAGE_FROM: 'Loyalty Club <news@loyalty.test>',
  MESSAGE_DELIVERY_TIMEOUT_MS: '5000',
};
beforeAll(async () => {
  port = await freePort();
  env.SMTP_URL = `smtp://mailer:relay-pass@127.0.0.1:${port}`;
  await startRelay();
});
afterAll(stopRelay);

const h = useHarness(env);
const b = build(h);

const CREATE = `mutation C($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }`;
const LAUNCH = `mutation L($id: ID!) { launchCampaign(id: $id) { id counts { treated contacted messagesPending } } }`;
const COUNTS = `query Q($id: ID!) { campaign(id: $id) { counts { messagesPending messagesSent messagesFailed } } }`;

let marketer: { token: string };
let countryCounter = 0;

beforeAll(async () => {
  marketer = await b.admin(AdminRole.MARKETER);
});

beforeEach(() => {
  arrived.length = 0;
  answerFor = () => null;
});

async function emailMembers(country: string, n: number, consent: boolean | null) {
  const out: { id: string; email: string }[] = [];
  for (let i = 0; i < n; i++) {
    const email = `m-${randomUUID().slice(0, 8)}@shop.test`;
    let builder = b.member().inCountry(country).withEmail(email);
    if (consent !== null) builder = builder.withConsent(ConsentMedium.EMAIL, consent);
    out.push({ id: (await builder.save()).id, email });
  }
  return out;
}

/** Creates and launches an EMAIL campaign through the API for a fresh country's members. */
async function emailCampaign(country: string, subject: string, body: string): Promise<string> {
  const segment = await h.app.services.segments.create(b.ctx(), { name: `smtp ${country} ${randomUUID()}`, rule: { attribute: 'country', op: 'eq', value: country }, kind: SegmentKind.DYNAMIC });
  const created = await h.gql(marketer, CREATE, { input: { name: `Mail ${country}`, segmentId: segment.id, message: { medium: 'EMAIL', subject, body }, holdoutShare: 0, startsAt: new Date().toISOString() } });
  expect(created.errors).toBeUndefined();
  const launched = await h.gql(marketer, LAUNCH, { id: created.data.createCampaign.id });
  expect(launched.errors).toBeUndefined();
  return launched.data.launchCampaign.id;
}

function freshCountry(): string {
  return `S${'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[countryCounter++ % 26]}`;
}

async function messagesOf(campaignId: string) {
  return h.sql<{ id: string; member_id: string; status: string; attempts: number; adapter: string | null; last_error: string | null }>(
    `select id, member_id, status, attempts, adapter, last_error from campaign_message where campaign_id = ? order by member_id`,
    [campaignId],
  );
}

const sweep = () => h.app.services.campaigns.sweep(h.em());

describe('MESSAGE_DELIVERY=smtp', () => {
  it('mails each treated member with an email and EMAIL consent, with the subject, text and HTML body, From and a Message-ID of the message', async () => {
    const country = freshCountry();
    const consenting = await emailMembers(country, 2, true);
    const refused = await emailMembers(country, 1, false);
    const silent = await emailMembers(country, 1, null);
    const body = 'Double points this week & next.\nShow this <mail> at the till.';
    const campaignId = await emailCampaign(country, 'Double points', body);

    const report = await sweep();
    expect(report.messages).toMatchObject({ sent: 2, failed: 0, retrying: 0 });

    expect(arrived.flatMap((a) => a.envelopeTo).sort()).toEqual(consenting.map((m) => m.email).sort());
    for (const other of [...refused, ...silent]) expect(arrived.some((a) => a.envelopeTo.includes(other.email))).toBe(false);
    const messages = await messagesOf(campaignId);
    expect(messages.map((m) => [m.status, m.adapter, m.attempts])).toEqual([['SENT', 'smtp', 1], ['SENT', 'smtp', 1]]);
    for (const member of consenting) {
      const mail = arrived.find((a) => a.envelopeTo.includes(member.email))!;
      const message = messages.find((m) => m.member_id === member.id)!;
      expect(mail.envelopeFrom).toBe('news@loyalty.test');
      expect((mail.mail.from as AddressObject).value).toEqual([{ address: 'news@loyalty.test', name: 'Loyalty Club' }]);
      expect((mail.mail.to as AddressObject).value.map((v) => v.address)).toEqual([member.email]);
      expect(mail.mail.subject).toBe('Double points');
      expect(mail.mail.text?.trim()).toBe(body);
      expect(mail.mail.html).toContain('<p>Double points this week &#38; next.<br>Show this &#60;mail&#62; at the till.</p>');
      expect(mail.mail.messageId).toBe(`<${message.id}@loyalty.test>`);
    }
    const counts = await h.gql(marketer, COUNTS, { id: campaignId });
    expect(counts.data.campaign.counts).toEqual({ messagesPending: 0, messagesSent: 2, messagesFailed: 0 });
  });

  it('a recipient the relay refuses with 550 is FAILED at the first attempt; the others are delivered', async () => {
    const country = freshCountry();
    const [good1, bad, good2] = await emailMembers(country, 3, true);
    answerFor = (recipient) => (recipient === bad.email ? { code: 550, text: 'No such mailbox' } : null);
    const campaignId = await emailCampaign(country, 'Hello', 'Hi there');

    const report = await sweep();
    expect(report.messages).toMatchObject({ sent: 2, failed: 1, retrying: 0 });
    expect(arrived.flatMap((a) => a.envelopeTo).sort()).toEqual([good1.email, good2.email].sort());
    const messages = await messagesOf(campaignId);
    const failed = messages.find((m) => m.member_id === bad.id)!;
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1, adapter: 'smtp' });
    expect(failed.last_error).toContain('550');
    expect(messages.filter((m) => m.member_id !== bad.id).map((m) => m.status)).toEqual(['SENT', 'SENT']);

    // Failed for good: a later sweep does not try again.
    answerFor = () => null;
    await sweep();
    expect(arrived.some((a) => a.envelopeTo.includes(bad.email))).toBe(false);
  });

  it('a temporary refusal (451) is retried on the next sweep with the same Message-ID', async () => {
    const country = freshCountry();
    const [member] = await emailMembers(country, 1, true);
    answerFor = () => ({ code: 451, text: 'Try again later' });
    const campaignId = await emailCampaign(country, 'Later', 'Soon');

    expect((await sweep()).messages).toMatchObject({ sent: 0, retrying: 1 });
    const [pending] = await messagesOf(campaignId);
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(pending.last_error).toContain('451');
    expect(arrived).toHaveLength(0);

    answerFor = () => null;
    expect((await sweep()).messages).toMatchObject({ sent: 1 });
    expect(arrived.map((a) => a.envelopeTo)).toEqual([[member.email]]);
    expect(arrived[0].mail.messageId).toBe(`<${pending.id}@loyalty.test>`);
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'SENT', attempts: 2 });
  });

  it('a relay that is down is retried, and the message arrives exactly once when it is back', async () => {
    const country = freshCountry();
    const [member] = await emailMembers(country, 1, true);
    const campaignId = await emailCampaign(country, 'Back', 'We are back');
    await stopRelay();
    try {
      expect((await sweep()).messages).toMatchObject({ sent: 0, retrying: 1 });
      const [pending] = await messagesOf(campaignId);
      expect(pending).toMatchObject({ status: 'PENDING', attempts: 1 });
      expect(pending.last_error).toMatch(/ECONNREFUSED/);
    } finally {
      await startRelay();
    }
    expect((await sweep()).messages).toMatchObject({ sent: 1 });
    await sweep();
    expect(arrived.map((a) => a.envelopeTo)).toEqual([[member.email]]);
    expect((await messagesOf(campaignId))[0]).toMatchObject({ status: 'SENT', attempts: 2 });
  });
});
