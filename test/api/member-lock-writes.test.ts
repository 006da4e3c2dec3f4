/**
 * Profile changes and feedback take the member lock like points writes do, so a merge or an erasure that arrives while
 * one is being written waits for it (or makes it wait) instead of passing it by. To make the interleaving certain, a
 * trigger holds the write's insert for a second; the merge or erasure starts while it is held.
 */
import { useHarness, type GqlResult } from '../support/harness';
import { build, ApiKeyScope, SalesChannelKind } from '../fixtures/build';
import { ERASE, MERGE, codesOf, sleep } from '../support/races';

const h = useHarness();
const b = build(h);

const RECORD_FEEDBACK = `mutation R($input: RecordFeedbackInput!) { recordFeedback(input: $input) { id memberId comment } }`;
const UPDATE_MEMBER = `mutation U($input: UpdateMemberInput!) { updateMember(input: $input) { id email firstName } }`;
/** The insert is held this long; the rival starts HOLD_MS / 4 after the write. */
const HOLD_MS = 1200;

let admin: Awaited<ReturnType<ReturnType<typeof build>['admin']>>;
let store: Awaited<ReturnType<ReturnType<typeof build>['apiKey']>>;

beforeAll(async () => {
  admin = await b.admin();
  store = await b.apiKey([ApiKeyScope.FEEDBACK_WRITE, ApiKeyScope.MEMBERS_READ], SalesChannelKind.STORE);
  // Rows marked "hold" are inserted HOLD_MS late. The database is this file's own, and only this file writes such rows.
  await h.sql(`create or replace function test_hold_insert() returns trigger language plpgsql as $$
    begin perform pg_sleep(${HOLD_MS / 1000}); return new; end $$`);
  await h.sql(`create or replace trigger test_hold_feedback before insert on feedback for each row when (new.comment like 'hold:%') execute function test_hold_insert()`);
  await h.sql(`create or replace trigger test_hold_identifier before insert on member_identifier for each row when (new.value like 'hold-%') execute function test_hold_insert()`);
  // A merge given a reason starting "hold" writes its record last, so it is held with both members' locks taken.
  await h.sql(`create or replace trigger test_hold_merge before insert on member_merge for each row when (new.reason like 'hold%') execute function test_hold_insert()`);
});

/** Fires `write`, then `rival` a quarter of the hold later, and waits for both. */
async function heldRace(write: () => Promise<GqlResult<any>>, rival: () => Promise<GqlResult<any>>) {
  const first = write();
  await sleep(HOLD_MS / 4);
  const second = rival();
  return { write: await first, rival: await second };
}

const merge = (survivorId: string, absorbedId: string) => () => h.gql(admin.auth, MERGE, { input: { survivorId, absorbedId } });
const heldMerge = (survivorId: string, absorbedId: string) => () => h.gql(admin.auth, MERGE, { input: { survivorId, absorbedId, reason: 'hold: same person' } });
const erase = (id: string) => () => h.gql(admin.auth, ERASE, { input: { id, reason: 'race' } });

describe('recordFeedback under the member lock', () => {
  it('an erasure that starts while the answer is written still clears its comment (or the answer is refused)', async () => {
    const member = await b.member().save();
    const answers = await heldRace(
      () => h.gql(store.auth, RECORD_FEEDBACK, { input: { memberId: member.id, kind: 'CSAT', score: 2, comment: 'hold: call me on 07911 123456' } }),
      erase(member.id),
    );
    expect(answers.rival.errors).toBeUndefined();
    expect(codesOf([answers.write]).filter((code) => code !== 'CONFLICT:MEMBER_ERASED')).toEqual([]);
    expect(await h.sql('select comment from feedback where member_id = ? and comment is not null', [member.id])).toEqual([]);
  });

  it('a merge that starts while the answer is written moves it to the survivor (or the answer goes there)', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    const answers = await heldRace(
      () => h.gql(store.auth, RECORD_FEEDBACK, { input: { memberId: absorbed.id, kind: 'NPS', score: 9, comment: 'hold: lovely staff' } }),
      merge(survivor.id, absorbed.id),
    );
    expect([answers.write.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    const rows = await h.sql<{ member_id: string }>('select member_id from feedback where id = ?', [answers.write.data.recordFeedback.id]);
    expect(rows).toEqual([{ member_id: survivor.id }]);
  });

  it('an answer that arrives while a merge is written waits for it and goes to the survivor', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    const answers = await heldRace(heldMerge(survivor.id, absorbed.id), () =>
      h.gql(store.auth, RECORD_FEEDBACK, { input: { memberId: absorbed.id, kind: 'NPS', score: 8, comment: 'arrived during the merge' } }),
    );
    expect([answers.write.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    expect(answers.rival.data.recordFeedback.memberId).toBe(survivor.id);
    expect(await h.sql('select member_id from feedback where id = ?', [answers.rival.data.recordFeedback.id])).toEqual([{ member_id: survivor.id }]);
  });
});

describe('updateMember under the member lock', () => {
  it("a merge that starts while a new email is written moves it to the survivor: nothing stays on the merged record", async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    const email = `hold-${absorbed.id}@race.example`;
    const answers = await heldRace(
      () => h.gql(admin.auth, UPDATE_MEMBER, { input: { id: absorbed.id, email, firstName: 'Held' } }),
      merge(survivor.id, absorbed.id),
    );
    expect([answers.write.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    expect(await h.sql('select type, value from member_identifier where member_id = ?', [absorbed.id])).toEqual([]);
    expect(await h.sql('select member_id from member_identifier where value = ?', [email])).toEqual([{ member_id: survivor.id }]);
  });

  it('a change that arrives while a merge is written waits for it and is made on the survivor', async () => {
    const survivor = await b.member().save();
    const absorbed = await b.member().save();
    const email = `during-${absorbed.id}@race.example`;
    const answers = await heldRace(heldMerge(survivor.id, absorbed.id), () =>
      h.gql(admin.auth, UPDATE_MEMBER, { input: { id: absorbed.id, email, firstName: 'Late' } }),
    );
    expect([answers.write.errors, answers.rival.errors]).toEqual([undefined, undefined]);
    expect(answers.rival.data.updateMember).toEqual({ id: survivor.id, email, firstName: 'Late' });
    expect(await h.sql('select member_id from member_identifier where value = ?', [email])).toEqual([{ member_id: survivor.id }]);
  });

  it('an erasure that starts while a new email is written removes it (or the change is refused)', async () => {
    const member = await b.member().save();
    const email = `hold-${member.id}@race.example`;
    const answers = await heldRace(
      () => h.gql(admin.auth, UPDATE_MEMBER, { input: { id: member.id, email, firstName: 'Held' } }),
      erase(member.id),
    );
    expect(answers.rival.errors).toBeUndefined();
    expect(codesOf([answers.write]).filter((code) => code !== 'CONFLICT:MEMBER_ERASED')).toEqual([]);
    expect(await h.sql('select value from member_identifier where member_id = ?', [member.id])).toEqual([]);
    expect(await h.sql('select email, first_name from member where id = ?', [member.id])).toEqual([{ email: null, first_name: null }]);
  });
});
