import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectError, useHarness } from '../../../test/support/harness';
import { plugin } from '../src';
import { activityFixtures, key } from './support';

// Channels that may only send allow-listed operations (PERSISTED_OPERATIONS=required-for-api-keys) can record activities.
const h = useHarness({ PERSISTED_OPERATIONS: 'required-for-api-keys' }, { plugins: [plugin] });
const f = activityFixtures(h);

const manifest: Record<string, string> = JSON.parse(readFileSync(path.resolve(__dirname, '../../../schema/persisted-operations.json'), 'utf8'));
const hashOf = (name: string) => Object.entries(manifest).find(([, text]) => new RegExp(`^(query|mutation) ${name}\\b`).test(text))?.[0];

async function post(apiKey: string, body: Record<string, unknown>) {
  const res = await h.http().post('/graphql').set('x-api-key', apiKey).send(body);
  return { ...res.body, headers: res.headers, status: res.status };
}

describe('the channel operations of the allow-list', () => {
  it('record an activity and list the types by hash alone; other activity operations are refused', async () => {
    const type = await f.type({ points: 11 });
    const member = await f.b.member().save();
    const { key: apiKey } = await f.b.apiKey(['activities:write']);
    const record = hashOf('RecordActivity');
    const types = hashOf('ActivityTypes');
    expect(record).toBeDefined();
    expect(types).toBeDefined();

    const res = await post(apiKey, {
      extensions: { persistedQuery: { version: 1, sha256Hash: record } },
      variables: { input: { member: { id: member.id }, type: type.code, idempotencyKey: key('persisted') } },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordActivity).toMatchObject({ memberId: member.id, type: type.code, points: 11, outcome: 'CREDITED' });
    const listed = await post(apiKey, { extensions: { persistedQuery: { version: 1, sha256Hash: types } } });
    expect(listed.data.activityTypes).toContainEqual(expect.objectContaining({ code: type.code, points: 11 }));

    expectError(await post(apiKey, { query: `{ activityStats(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { type } }` }), 'PERSISTED_OPERATION_NOT_ALLOWED');
  });
});
