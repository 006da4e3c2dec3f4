// What the attack needs, made through the API as an outsider would: admin users of each role, API keys with
// chosen scopes on a channel of its own, members with points, rewards.
import { randomBytes, randomUUID } from 'node:crypto';
import { Caller, must } from './http.mjs';

export const ALL_SCOPES = ['MEMBERS_READ', 'MEMBERS_WRITE', 'MEMBERS_MERGE', 'ORDERS_WRITE', 'ORDERS_READ', 'REWARDS_REDEEM', 'FEEDBACK_WRITE'];
/** Scope enum value → the name the authorization matrix uses (`key:members:read`). */
export const scopeName = (scope) => scope.toLowerCase().replace('_', ':');

export const strongPassword = () => `Atk!${randomBytes(15).toString('base64url')}#9`;
export const uid = () => randomUUID().slice(0, 8);
export const hoursAgo = (h) => new Date(Date.now() - h * 3_600_000).toISOString();

export async function login(api, cls, email, password, headers = {}) {
  const res = await api.gql(cls, Caller.anonymous(), 'mutation($i: LoginInput!) { login(input: $i) { token expiresAt admin { id role } } }', { i: { email, password } }, { label: 'login', headers });
  return res;
}

/**
 * Logs in as the given admin and builds the world: `w.admin` (a pool of ADMIN users, so the attack's own volume never
 * meets one user's rate limit), `w.marketer`, `w.analyst`, `w.keys.all` (a pool of keys with every scope),
 * `w.keys[scope]` (one key per single scope), the attack's own channel, and helpers to enrol members, give them
 * points and record orders.
 */
export async function buildWorld(api, cls, platform, { stamp }) {
  const first = await login(api, cls, platform.admin.email, platform.admin.password);
  const firstToken = must(cls, first, 'login', `log in as ${platform.admin.email}`).token;
  const root = Caller.token('ADMIN', firstToken);
  const gql = (caller, query, variables, label) => api.gql(cls, caller, query, variables, { label });

  const channel = must(
    cls,
    await gql(root, 'mutation($i: CreateSalesChannelInput!) { createSalesChannel(input: $i) { id name kind } }', { i: { kind: 'WEB', name: `Attack shop ${stamp}` } }, 'createSalesChannel'),
    'createSalesChannel',
    'create the attack channel',
  );

  const admins = {};
  const makeAdmin = async (role, n) => {
    const email = `attack-${role.toLowerCase()}-${n}-${stamp}@attack.test`;
    const password = strongPassword();
    must(cls, await gql(root, 'mutation($i: CreateAdminUserInput!) { createAdminUser(input: $i) { id } }', { i: { email, password, role } }, 'createAdminUser'), 'createAdminUser', `create ${role} user`);
    const session = must(cls, await login(api, cls, email, password), 'login', `log in as the new ${role}`);
    return { email, password, token: session.token, id: session.admin.id, caller: Caller.token(role, session.token) };
  };
  const extraAdmins = [];
  for (let i = 0; i < 3; i++) extraAdmins.push(await makeAdmin('ADMIN', i));
  admins.marketer = await makeAdmin('MARKETER', 0);
  admins.analyst = await makeAdmin('ANALYST', 0);

  const makeKey = async (scopes, name) => {
    const created = must(
      cls,
      await gql(root, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id prefix scopes } } }', { i: { channelId: channel.id, name, scopes } }, 'createApiKey'),
      'createApiKey',
      `create key ${name}`,
    );
    return { key: created.key, id: created.apiKey.id, caller: Caller.key(`key:${scopes.map(scopeName).join('+')}`, created.key) };
  };
  const allKeys = [];
  for (let i = 0; i < 4; i++) allKeys.push(await makeKey(ALL_SCOPES, `attack all ${i}`));
  const keys = { all: Caller.pool('key:all-scopes', allKeys.map((k) => k.caller)), allRaw: allKeys };
  for (const scope of ALL_SCOPES) keys[scope] = (await makeKey([scope], `attack ${scope}`)).caller;

  const w = {
    api,
    stamp,
    platform,
    channel,
    rootToken: firstToken,
    root,
    admin: Caller.pool('ADMIN', [root, ...extraAdmins.map((a) => a.caller)]),
    admins: { root: { email: platform.admin.email, password: platform.admin.password, token: firstToken }, extra: extraAdmins, ...admins },
    marketer: admins.marketer.caller,
    analyst: admins.analyst.caller,
    keys,
    makeKey,
    makeAdmin,
  };

  /** Enrols a member through a channel key; returns `{ id, email, referralCode }`. */
  w.enrol = async (c, extra = {}, caller = keys.all) => {
    const email = `m-${uid()}-${stamp}@attack.test`;
    const res = await api.gql(c, caller, 'mutation($i: EnrolMemberInput!) { enrolMember(input: $i) { id email referralCode } }', { i: { email, firstName: 'Atk', ...extra } }, { label: 'enrolMember (setup)' });
    return must(c, res, 'enrolMember', 'enrol a member');
  };

  /** Gives a member available points at once (an ADMIN adjustment). */
  w.givePoints = async (c, memberId, points) => {
    const res = await api.gql(
      c,
      w.admin,
      'mutation($i: AdjustPointsInput!) { adjustPoints(input: $i) { available } }',
      { i: { memberId, points, reason: 'attack setup', idempotencyKey: `atk-give-${uid()}` } },
      { label: 'adjustPoints (setup)' },
    );
    return must(c, res, 'adjustPoints', 'give points');
  };

  /** The input of a one-line order; `over` replaces any field. */
  w.orderInput = (memberId, { unitPriceMinor = 2500, quantity = 1, ...over } = {}) => ({
    externalOrderId: `atk-${uid()}`,
    currency: 'GBP',
    placedAt: hoursAgo(1),
    totalMinor: unitPriceMinor * quantity,
    lines: [{ sku: 'ATK-SKU', quantity, unitPriceMinor }],
    ...(memberId ? { member: { id: memberId } } : {}),
    ...over,
  });

  w.recordOrder = (c, input, caller = keys.all, label = 'recordOrder') =>
    api.gql(c, caller, 'mutation($i: RecordOrderInput!) { recordOrder(input: $i) { id memberId totalMinor pointsEarned lines { lineNo } } }', { i: input }, { label });

  w.redeem = (c, memberId, rewardId, caller = keys.all, idempotencyKey = `atk-${uid()}`, label = 'redeemReward') =>
    api.gql(c, caller, 'mutation($i: RedeemRewardInput!) { redeemReward(input: $i) { id status points voucherCode expiresAt } }', { i: { memberId, rewardId, idempotencyKey } }, { label });

  w.points = async (c, memberId) => {
    const res = await api.gql(c, w.admin, 'query($id: ID!) { member(id: $id) { id status points { available pending lifetime } } }', { id: memberId }, { label: 'member.points (check)' });
    return must(c, res, 'member', 'read points');
  };

  /** A reward of the attack's own (FREE_PRODUCT unless `over` says otherwise). */
  w.reward = async (c, over = {}) => {
    const res = await api.gql(
      c,
      w.admin,
      'mutation($i: UpsertRewardInput!) { upsertReward(input: $i) { id code costPoints stock } }',
      { i: { code: `ATK-${uid()}`.toUpperCase(), name: 'Attack reward', kind: 'FREE_PRODUCT', sku: 'ATK-SKU', costPoints: 100, ...over } },
      { label: 'upsertReward (setup)' },
    );
    return must(c, res, 'upsertReward', 'create a reward');
  };

  /** ledgerCheck; on a build without mergedAwayHoldings, the check without it (`holdingsUnknown` set). */
  w.ledgerCheck = async (c) => {
    const query = (holdings) =>
      `{ ledgerCheck { isConsistent membersChecked mismatches { __typename } ${holdings ? 'mergedAwayHoldings { memberId orders liveLots redemptions available pending ledgerRowsAfterMerge }' : ''} } }`;
    const res = await api.gql(c, w.root, query(true), undefined, { label: 'ledgerCheck' });
    if (res.errors.some((e) => String(e.message).includes('mergedAwayHoldings'))) {
      const older = await api.gql(c, w.root, query(false), undefined, { label: 'ledgerCheck (without mergedAwayHoldings)' });
      if (older.data?.ledgerCheck) Object.assign(older.data.ledgerCheck, { mergedAwayHoldings: [], holdingsUnknown: true });
      return older;
    }
    return res;
  };
  return w;
}
