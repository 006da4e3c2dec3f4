// The schema as an attacker sees it (introspection when the instance allows it, else the published
// schema/schema.graphql), and well-formed arguments for any field, so that a hostile value can be put in one place.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  isLeafType,
} from 'graphql';
import { repoRoot } from '../lib/api.mjs';

export async function loadSchema(api, cls, caller) {
  const res = await api.gql(cls, caller, getIntrospectionQuery(), undefined, { label: 'introspection (for the attack\'s own use)' });
  if (res.data?.__schema) return { schema: buildClientSchema(res.data), source: 'introspection' };
  return { schema: buildSchema(readFileSync(path.join(repoRoot, 'schema', 'schema.graphql'), 'utf8')), source: 'schema/schema.graphql' };
}

/** Plausible values by argument or input-field name, so that calls get past the obvious checks. */
export function namedSamples(ctx) {
  const uniq = () => randomUUID().slice(0, 8);
  return {
    currency: () => 'GBP',
    pointValueCurrency: () => 'GBP',
    email: () => `atk-${uniq()}@attack.test`,
    externalOrderId: () => `atk-${uniq()}`,
    externalReturnId: () => `atk-ret-${uniq()}`,
    idempotencyKey: () => `atk-${uniq()}`,
    code: () => `ATK-${uniq()}`,
    name: () => `Attack ${uniq()}`,
    sku: () => 'ATK-SKU',
    reason: () => 'attack',
    url: () => 'https://example.com/hook',
    country: () => 'GB',
    placedAt: () => new Date(Date.now() - 3_600_000).toISOString(),
    memberId: () => ctx.memberId,
    rewardId: () => ctx.rewardId,
    orderId: () => ctx.orderId,
    channelId: () => ctx.channelId,
    redemptionId: () => ctx.redemptionId,
    survivorId: () => ctx.memberId,
  };
}

const SCALARS = {
  ID: () => randomUUID(),
  Int: () => 1,
  Float: () => 1,
  Boolean: () => true,
  String: () => 'x',
  DateTimeISO: () => new Date(Date.now() + 86_400_000).toISOString(),
  LocalDate: () => '1990-01-01',
  JSON: () => ({}),
  JSONObject: () => ({}),
};

/**
 * A value for `type`: required fields only (plus `include`, a set of field paths to add), named samples where the
 * name is known. `at` is the dotted path of this value, e.g. `input.lines.0`.
 */
export function sampleValue(type, at, samples, include = new Set()) {
  if (type instanceof GraphQLNonNull) return sampleValue(type.ofType, at, samples, include);
  if (type instanceof GraphQLList) return [sampleValue(type.ofType, `${at}.0`, samples, include)];
  if (type instanceof GraphQLEnumType) return type.getValues()[0].name;
  if (type instanceof GraphQLInputObjectType) {
    const out = {};
    for (const f of Object.values(type.getFields())) {
      const p = `${at}.${f.name}`;
      const isRequired = f.type instanceof GraphQLNonNull && f.defaultValue === undefined;
      if (isRequired || [...include].some((i) => i === p || i.startsWith(`${p}.`))) out[f.name] = sampleValue(f.type, p, samples, include);
    }
    return out;
  }
  const name = at.split('.').filter((s) => !/^\d+$/.test(s)).pop();
  const named = samples[name];
  const scalar = getNamedType(type).name;
  if (named && (scalar === 'String' || scalar === 'ID' || scalar === 'DateTimeISO')) {
    const v = named();
    if (v !== undefined) return v;
  }
  return (SCALARS[scalar] ?? SCALARS.String)();
}

/** Sets `value` at the dotted `path` inside `root` (an object of arguments). */
export function setAt(root, dotted, value) {
  const parts = dotted.split('.');
  let node = root;
  for (const p of parts.slice(0, -1)) node = node[/^\d+$/.test(p) ? Number(p) : p];
  node[parts.at(-1)] = value;
}

/** Every leaf argument or input field of a root field whose named type is `scalarName`, as dotted paths with types. */
export function leavesOf(field, scalarName) {
  const out = [];
  const walk = (type, at, depth, seen) => {
    const named = getNamedType(type);
    if (named instanceof GraphQLInputObjectType) {
      if (depth > 4 || seen.has(named.name)) return;
      for (const f of Object.values(named.getFields())) walk(f.type, `${at}.${f.name}${listSuffix(f.type)}`, depth + 1, new Set([...seen, named.name]));
    } else if (named.name === scalarName) {
      out.push({ path: at, type });
    }
  };
  for (const a of field.args) walk(a.type, `${a.name}${listSuffix(a.type)}`, 0, new Set());
  return out;
}

const listSuffix = (type) => {
  let t = type instanceof GraphQLNonNull ? type.ofType : type;
  return t instanceof GraphQLList ? '.0' : '';
};

/** Arguments for `field` with every required one sampled and the leaf at `leafPath` included (to be overwritten). */
export function argumentsFor(field, samples, leafPath) {
  const include = new Set(leafPath ? [leafPath] : []);
  const args = {};
  for (const a of field.args) {
    const isRequired = a.type instanceof GraphQLNonNull && a.defaultValue === undefined;
    const mentioned = leafPath && (leafPath === a.name || leafPath.startsWith(`${a.name}.`));
    if (isRequired || mentioned) args[a.name] = sampleValue(a.type, a.name, samples, include);
  }
  return args;
}

/** `mutation($a: T!, …) { field(a: $a, …) <selection> }` for the arguments given. */
export function operationFor(kind, field, args) {
  const names = Object.keys(args);
  const defs = names.map((n) => `$${n}: ${field.args.find((a) => a.name === n).type.toString()}`);
  const call = names.length ? `${field.name}(${names.map((n) => `${n}: $${n}`).join(', ')})` : field.name;
  const selection = isLeafType(getNamedType(field.type)) ? '' : '{ __typename }';
  return `${kind}${defs.length ? `(${defs.join(', ')})` : ''} { ${call} ${selection} }`;
}

export function rootFields(schema) {
  return [
    ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => ({ kind: 'query', name: `Query.${field.name}`, field })),
    ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => ({ kind: 'mutation', name: `Mutation.${field.name}`, field })),
  ];
}
