import fc from 'fast-check';
import { getMetadataStorage as validationMetadata } from 'class-validator';
import { getMetadataStorage as typeGraphqlMetadata } from 'type-graphql';
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  type GraphQLField,
  type GraphQLInputType,
  getNamedType,
} from 'graphql';

/** Real record ids and codes, so that fuzzed input gets past NOT_FOUND into the domain rules. */
export type Pools = Record<string, string[]>;

/** Which pool an ID or code field draws from: `Parent.field` first, then the field name alone. */
const POOL_OF: Record<string, string> = {
  memberId: 'members',
  survivorId: 'members',
  absorbedId: 'members',
  rewardId: 'rewards',
  orderId: 'orders',
  redemptionId: 'redemptions',
  memberPlanId: 'memberPlans',
  channelId: 'channels',
  webhookId: 'webhooks',
  ruleKey: 'ruleKeys',
  voucherCode: 'vouchers',
  planCode: 'planCodes',
  tierCodes: 'tierCodes',
  'UpdateMemberInput.id': 'members',
  'EraseMemberInput.id': 'members',
  'MemberRefInput.id': 'members',
  'RevokeApiKeyInput.id': 'apiKeys',
  'RotateApiKeyInput.id': 'apiKeys',
  'UpdateSegmentInput.id': 'segments',
  'UpdateWebhookInput.id': 'webhooks',
  'ActivateModelVersionInput.id': 'modelVersions',
  'Mutation.deleteSegment.id': 'segments',
  'Mutation.disableWebhook.id': 'webhooks',
  'Mutation.rotateWebhookSecret.id': 'webhooks',
  'UpsertTierInput.code': 'tierCodes',
  'UpsertRewardInput.code': 'rewardCodes',
  'UpsertMembershipPlanInput.code': 'planCodes',
};

const MAX_INT = 2 ** 31 - 1;
const long = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** Strings that have broken parsers, databases and renderers before. */
export const HOSTILE_STRINGS: string[] = [
  '',
  ' ',
  '\t\n\r',
  long('a', 100_000),
  long('😀', 100_000),
  long('\u202eevil', 10_000),
  'abc\u0000def',
  '\u0000',
  'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359\u035a\u035b\u035c\u035d\u035e\u035f\u0360\u0361\u0362',
  '\u202e\u2066RTL\u2069 שלום مرحبا',
  '\ufeff\u200b\u200d\u2028\u2029',
  '\ud800',
  "'; drop table member; --",
  "' or '1'='1",
  '" or ""="',
  '%',
  '_',
  '\\',
  '%_\\%',
  '$1',
  "1; select pg_sleep(5); --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}${7*7}',
  '%s%n%x',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '0x7fffffff',
  'null',
  'undefined',
  'true',
  '2147483648',
  '-2147483649',
  '9007199254740993',
];

/** Values of the wrong JSON type; variable coercion must refuse them with BAD_USER_INPUT. */
const WRONG_TYPES: unknown[] = [true, 12, -1.5, 'text', [], [1, 2], {}, { nested: { a: 1 } }];

const HOSTILE_INTS: unknown[] = [
  0, -1, 1, MAX_INT, -MAX_INT - 1, MAX_INT - 1, 2 ** 30, -(2 ** 30), 1_000_000_000,
  // Not Int32: coercion refuses these.
  MAX_INT + 1, -MAX_INT - 2, 2 ** 53, -(2 ** 53), 1e308, -1e308, 0.5, -0.5, 1.000001, 'NaN', 'Infinity', '1', null,
];

const HOSTILE_FLOATS: unknown[] = [0, -0, 1e-300, 1e308, -1e308, Number.MIN_VALUE, 0.1 + 0.2, 'NaN', 'Infinity', MAX_INT + 0.5];

const HOSTILE_DATES: unknown[] = [
  // Year 0000: the scalar parses it, PostgreSQL has no such year.
  '0000-06-15T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-29T00:00:00Z',
  '2026-13-45T25:61:61Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-12-01',
  'yesterday',
  '',
  0,
  -8.64e15,
  8.64e15 + 1,
];

const HOSTILE_LOCAL_DATES: unknown[] = ['0000-01-01', '0001-01-01', '9999-12-31', '2026-02-30', '1990-1-1', '19900101', '', 19900101];

/** A rule tree nested `depth` levels deep. */
const nestedRule = (depth: number): unknown =>
  depth === 0 ? { attribute: 'pointsBalance', op: 'gte', value: 0 } : { and: [nestedRule(depth - 1)] };

const HOSTILE_JSON: unknown[] = [
  null,
  0,
  'rule',
  [],
  {},
  nestedRule(9),
  nestedRule(2_000),
  { and: Array.from({ length: 5_000 }, () => ({ attribute: 'country', op: 'eq', value: 'GB' })) },
  { attribute: 'country', op: 'in', value: Array.from({ length: 10_000 }, (_, i) => `C${i}`) },
  { attribute: 'pointsBalance', op: 'between', value: [MAX_INT, -MAX_INT - 1] },
  { attribute: 'pointsBalance', op: 'gte', value: 1e308 },
  { attribute: 'enrolledAt', op: 'lte', value: '9999-99-99' },
  { attribute: 'purchaseCount', op: 'gte', value: 1, windowDays: MAX_INT },
  { attribute: 'categoriesBought', op: 'contains', value: "x'; drop table member; --" },
  { attribute: 'country', op: 'eq', value: 'G\u0000B' },
  { attribute: '__proto__', op: 'eq', value: 1 },
  JSON.parse('{"__proto__": {"isAdmin": true}, "attribute": "tier", "op": "eq", "value": "GOLD"}'),
  { constructor: { prototype: { polluted: true } } },
  { or: [{ not: { not: { not: {} } } }] },
];

let unique = 0;
const uniq = () => `${process.env.JEST_WORKER_ID ?? '1'}-${Date.now().toString(36)}-${++unique}`;

/** Plausible values by field name, so that most of an input is valid and the hostile part reaches the rules. */
function plausibleString(name: string, pools: Pools): fc.Arbitrary<string> {
  const n = name.toLowerCase();
  if (n === 'email') return fc.constantFrom('fuzz@example.com', 'Ann.Smith@Example.com').map((e) => e.replace('@', `+${uniq()}@`));
  if (n === 'password') return fc.constant('correct horse battery staple');
  if (n === 'phone') return fc.constantFrom('+447911123456', '07911 123457', '+1 415 555 2671');
  if (n.includes('currency')) return fc.constantFrom('GBP', 'EUR', 'gbp', 'XXX');
  if (n === 'country') return fc.constantFrom('GB', 'FR', 'gb');
  if (n === 'url') return fc.constantFrom('https://hooks.example.com/loyalty', 'http://127.0.0.1:1/hook');
  if (/idempotencykey|externalorderid|externalreturnid|orderref|channelcustomerid/.test(n)) return fc.constant(null).map(() => `fz-${uniq()}`);
  if (n === 'code') return fc.constantFrom('GOLD', 'SILVER', 'R10').map((c) => `${c}-${uniq()}`);
  if (n === 'sku') return fc.constantFrom('SKU-1', '85123A', 'POST');
  return fc.constantFrom('Fuzz', 'Home', 'Gift card', 'Welcome back');
}

function plausibleInt(name: string): fc.Arbitrary<number> {
  const n = name.toLowerCase();
  if (n === 'quantity' || n === 'lineno') return fc.integer({ min: 1, max: 4 });
  if (n.endsWith('minor')) return fc.integer({ min: 0, max: 50_000 });
  if (n.endsWith('percent')) return fc.integer({ min: 50, max: 300 });
  if (n === 'points' || n.endsWith('points')) return fc.integer({ min: -200, max: 500 });
  if (n === 'daysofweek') return fc.integer({ min: 0, max: 6 });
  if (n === 'first') return fc.integer({ min: 1, max: 50 });
  return fc.integer({ min: 0, max: 400 });
}

function fromPool(key: string | undefined, pools: Pools): fc.Arbitrary<string> | null {
  const pool = key ? pools[key] : undefined;
  return pool?.length ? fc.constantFrom(...pool) : null;
}

/** A value of a scalar or enum that the API should accept, by the field's name and pools. */
function plausibleLeaf(type: GraphQLInputType, parent: string, name: string, pools: Pools): fc.Arbitrary<unknown> {
  const named = getNamedType(type);
  if (named instanceof GraphQLEnumType) return fc.constantFrom(...named.getValues().map((v) => v.name));
  const pool = fromPool(POOL_OF[`${parent}.${name}`] ?? POOL_OF[name], pools);
  const plausible: Record<string, () => fc.Arbitrary<unknown>> = {
    Int: () => plausibleInt(name),
    Float: () => fc.double({ min: 0, max: 1, noNaN: true }),
    Boolean: () => fc.boolean(),
    DateTimeISO: () => fc.integer({ min: -400, max: 30 }).map((days) => new Date(Date.now() + days * 86_400_000).toISOString()),
    LocalDate: () => fc.constantFrom('1990-05-17', '2000-02-29'),
    JSON: () => fc.constantFrom(nestedRule(0), { or: [nestedRule(0), { attribute: 'country', op: 'eq', value: 'GB' }] }),
    JSONObject: () => fc.constant({}),
    ID: () => pool ?? fc.uuid(),
    String: () => pool ?? plausibleString(name, pools),
  };
  return plausible[named.name]?.() ?? fc.string({ maxLength: 20 });
}

function leafArb(type: GraphQLInputType, parent: string, name: string, pools: Pools): fc.Arbitrary<unknown> {
  const named = getNamedType(type);
  const wrong = fc.constantFrom(...WRONG_TYPES);
  if (named instanceof GraphQLEnumType) {
    const values = named.getValues().map((v) => v.name);
    return fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...values) },
      { weight: 1, arbitrary: fc.constantFrom(values[0].toLowerCase(), 'NOT_A_VALUE', '', 0) },
    );
  }
  const hostile: Record<string, fc.Arbitrary<unknown>> = {
    Int: fc.oneof(fc.constantFrom(...HOSTILE_INTS), fc.integer({ min: -MAX_INT - 1, max: MAX_INT }), fc.double()),
    Float: fc.oneof(fc.constantFrom(...HOSTILE_FLOATS), fc.double({ noNaN: true })),
    Boolean: fc.constantFrom('true', 1, 0, 'yes'),
    DateTimeISO: fc.oneof(fc.constantFrom(...HOSTILE_DATES), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    LocalDate: fc.constantFrom(...HOSTILE_LOCAL_DATES),
    JSON: fc.constantFrom(...HOSTILE_JSON),
    JSONObject: fc.constantFrom(...HOSTILE_JSON),
    ID: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.uuid(), fc.constantFrom(0, -1, MAX_INT, 1.5)),
    String: fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: 'binary', maxLength: 40 })),
  };
  const good = plausibleLeaf(type, parent, name, pools);
  const bad = hostile[named.name] ?? fc.constantFrom(...HOSTILE_STRINGS);
  return fc.oneof({ weight: 5, arbitrary: good }, { weight: 3, arbitrary: bad }, { weight: 1, arbitrary: wrong });
}

/** `undefined` leaves the field out of the JSON body: a missing argument. */
export function valueArb(type: GraphQLInputType, parent: string, name: string, pools: Pools, depth = 0): fc.Arbitrary<unknown> {
  if (type instanceof GraphQLNonNull) {
    return fc.oneof({ weight: 12, arbitrary: valueArb(type.ofType, parent, name, pools, depth) }, { weight: 1, arbitrary: fc.constantFrom(null, undefined) });
  }
  const inner = innerArb(type, parent, name, pools, depth);
  return fc.oneof({ weight: 6, arbitrary: inner }, { weight: 1, arbitrary: fc.constantFrom(null, undefined) });
}

function innerArb(type: GraphQLInputType, parent: string, name: string, pools: Pools, depth: number): fc.Arbitrary<unknown> {
  if (type instanceof GraphQLNonNull) return innerArb(type.ofType, parent, name, pools, depth);
  if (type instanceof GraphQLList) {
    const item = valueArb(type.ofType, parent, name, pools, depth + 1);
    return fc.oneof(
      { weight: 12, arbitrary: fc.array(item, { minLength: 1, maxLength: 4 }) },
      { weight: 2, arbitrary: fc.constant([]) },
      // Past every list cap (order lines allow 500); rare, as each costs hundreds of coercions and checks.
      { weight: 1, arbitrary: item.map((v) => Array.from({ length: 501 }, () => v)) },
      // A single value where a list is expected is coerced to a list of one.
      { weight: 2, arbitrary: item },
    );
  }
  if (type instanceof GraphQLInputObjectType) {
    const fields = Object.values(type.getFields());
    const record = fc.record(
      Object.fromEntries(fields.map((f) => [f.name, valueArb(f.type, type.name, f.name, pools, depth + 1)])),
    ) as fc.Arbitrary<Record<string, unknown>>;
    return fc.oneof(
      { weight: 10, arbitrary: record },
      { weight: 1, arbitrary: record.map((r) => ({ ...r, unexpectedField: 'x', isAdmin: true })) },
      { weight: 1, arbitrary: fc.constantFrom('object', 7, [{}]) },
    );
  }
  return leafArb(type, parent, name, pools);
}

/** A value the API should accept, with required fields only: what a probe puts its one hostile value into. */
function plausibleArb(type: GraphQLInputType, parent: string, name: string, pools: Pools): fc.Arbitrary<unknown> {
  if (type instanceof GraphQLNonNull) return plausibleArb(type.ofType, parent, name, pools);
  if (type instanceof GraphQLList) return plausibleArb(type.ofType, parent, name, pools).map((item) => [item]);
  if (type instanceof GraphQLInputObjectType) {
    const required = Object.values(type.getFields()).filter((f) => f.type instanceof GraphQLNonNull && f.defaultValue === undefined);
    return fc.record(Object.fromEntries(required.map((f) => [f.name, plausibleArb(f.type, type.name, f.name, pools)])));
  }
  return plausibleLeaf(type, parent, name, pools);
}

const INT_EXTREMES = [0, -1, MAX_INT, -MAX_INT - 1];
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Edges of an Int, of a double's exact integers, and an Int's edge as a Float. */
const FLOAT_EXTREMES = [0, -1, MAX_INT, MAX_SAFE, -MAX_SAFE];

/** Strings the API must refuse at the edge: control characters and unpaired surrogates, at the start, middle and end. */
export const EDGE_REFUSED_STRINGS: Array<[string, string]> = [
  ['a NUL byte', 'ab\u0000cd'],
  ['only a NUL byte', '\u0000'],
  ['a start-of-heading control', '\u0001ab'],
  ['an escape sequence', '\u001b[31mred'],
  ['a unit separator at the end', 'ab\u001f'],
  ['a lone high surrogate', 'a\ud800b'],
  ['a lone low surrogate', 'a\udc00b'],
  ['a high surrogate at the end', 'ab\ud83d'],
  ['a low surrogate at the start', '\ude00ab'],
];

const EDGE_REFUSED = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when a string anywhere in the value, JSON keys included, has a character the API refuses before any resolver runs. */
export function hasEdgeRefusedText(value: unknown): boolean {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (EDGE_REFUSED.test(v)) return true;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === 'object') {
      for (const [k, inner] of Object.entries(v)) {
        if (EDGE_REFUSED.test(k)) return true;
        stack.push(inner);
      }
    }
  }
  return false;
}

/**
 * The classes every argument of every operation is tried with, by its scalar: control characters and lone surrogates
 * in any string-like scalar; 100,000 characters and one past the field's documented maximum in strings and ids;
 * the integer extremes in an Int; 2^53-1 in a Float; and the same classes inside a JSON value and key.
 */
function hostileClasses(named: string, maxLength: number | undefined): Array<[string, unknown]> {
  const refused = EDGE_REFUSED_STRINGS.map(([label, text]): [string, unknown] => [label, text]);
  const lengthy: Array<[string, unknown]> = [['100,000 characters', long('a', 100_000)]];
  if (maxLength !== undefined) lengthy.push([`${maxLength + 1} characters, one past the maximum`, long('b', maxLength + 1)]);
  switch (named) {
    case 'Int':
      return INT_EXTREMES.map((n) => [`Int ${n}`, n]);
    case 'Float':
      return FLOAT_EXTREMES.map((n) => [`Float ${n}`, n]);
    case 'Boolean':
      return [];
    case 'JSON':
    case 'JSONObject':
      return [
        ['a NUL byte in a JSON value', { attribute: 'country', op: 'eq', value: 'G\u0000B' }],
        ['a lone surrogate in a JSON key', { attribute: 'country', op: 'eq', value: 'GB', 'k\ud800': 1 }],
        ['a JSON string with a control character', 'rule\u0007'],
        ['2^53-1 in a JSON value', { attribute: 'pointsBalance', op: 'gte', value: MAX_SAFE }],
        ['Int extremes in a JSON range', { attribute: 'pointsBalance', op: 'between', value: [-MAX_INT - 1, MAX_INT] }],
        ['100,000 characters in a JSON value', { attribute: 'country', op: 'eq', value: long('c', 100_000) }],
      ];
    case 'String':
    case 'ID':
      return [...refused, ...lengthy];
    default:
      // Dates and other string scalars: their own parsing refuses length, but the edge must see the characters first.
      return refused.filter(([label]) => label === 'a NUL byte' || label === 'a lone high surrogate');
  }
}

export interface Probe {
  /** Where the hostile value is: `input.lines.0.sku`. */
  path: string;
  label: string;
  args: Record<string, unknown>;
}

/** `Type.field` to the most characters its validation allows (`@Length`, `@MaxLength`), read from the API's own metadata. */
export function maxLengths(): Map<string, number> {
  const lengths = new Map<string, number>();
  for (const input of typeGraphqlMetadata().inputTypes) {
    for (const rule of validationMetadata().getTargetValidationMetadatas(input.target, '', true, false)) {
      const max = rule.name === 'isLength' ? rule.constraints?.[1] : rule.name === 'maxLength' ? rule.constraints?.[0] : undefined;
      if (typeof max === 'number') lengths.set(`${input.name}.${rule.propertyName}`, max);
    }
  }
  return lengths;
}

/**
 * One probe per leaf of every argument (input fields at any depth, and the first item of lists) and per hostile class of
 * its scalar: the field's arguments plausible everywhere else (required ones only), so the hostile value reaches the
 * rules and the database behind them. Deterministic for a seed.
 */
export function probes(field: GraphQLField<unknown, unknown>, opName: string, pools: Pools, lengths: Map<string, number>, seed: number): Probe[] {
  const sample = (arb: fc.Arbitrary<unknown>) => fc.sample(arb, { seed, numRuns: 1 })[0];
  const base = Object.fromEntries(
    field.args
      .filter((a) => a.type instanceof GraphQLNonNull && a.defaultValue === undefined)
      .map((a) => [a.name, sample(plausibleArb(a.type, opName, a.name, pools))]),
  );
  const found: Probe[] = [];
  /** `value` with `hostile` put at `path` below it, creating plausible parents on the way. */
  const place = (type: GraphQLInputType, parent: string, name: string, value: unknown, path: Array<string | number>, hostile: unknown): unknown => {
    if (path.length === 0) return hostile;
    const inner = type instanceof GraphQLNonNull ? type.ofType : type;
    if (inner instanceof GraphQLList) {
      const list = Array.isArray(value) && value.length ? value : [sample(plausibleArb(inner.ofType, parent, name, pools))];
      return [place(inner.ofType, parent, name, list[0], path.slice(1), hostile), ...list.slice(1)];
    }
    if (!(inner instanceof GraphQLInputObjectType)) return hostile;
    const object = (value && typeof value === 'object' ? value : sample(plausibleArb(inner, parent, name, pools))) as Record<string, unknown>;
    const f = inner.getFields()[path[0] as string];
    return { ...object, [f.name]: place(f.type, inner.name, f.name, object[f.name], path.slice(1), hostile) };
  };
  const visit = (type: GraphQLInputType, parent: string, name: string, path: Array<string | number>, seen: Set<string>) => {
    const inner = type instanceof GraphQLNonNull ? type.ofType : type;
    if (inner instanceof GraphQLList) return visit(inner.ofType, parent, name, [...path, 0], seen);
    if (inner instanceof GraphQLInputObjectType) {
      if (seen.has(inner.name)) return;
      for (const f of Object.values(inner.getFields())) visit(f.type, inner.name, f.name, [...path, f.name], new Set([...seen, inner.name]));
      return;
    }
    const named = getNamedType(inner);
    if (named instanceof GraphQLEnumType) return;
    for (const [label, hostile] of hostileClasses(named.name, lengths.get(`${parent}.${name}`))) {
      const [arg, ...below] = path as [string, ...Array<string | number>];
      const definition = field.args.find((a) => a.name === arg)!;
      found.push({ path: path.join('.'), label, args: { ...base, [arg]: place(definition.type, opName, arg, base[arg], below, hostile) } });
    }
  };
  for (const a of field.args) visit(a.type, opName, a.name, [a.name], new Set());
  return found;
}

/** Long strings abbreviated, so a failure report stays readable. */
export function abbreviate(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => {
      if (typeof v === 'string' && v.length > 120) return `${v.slice(0, 40)}…(${v.length} chars)`;
      if (Array.isArray(v) && v.length > 20) return [...v.slice(0, 3), `…(${v.length} items)`];
      return v;
    }),
  );
}
