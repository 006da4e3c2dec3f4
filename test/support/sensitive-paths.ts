import {
  getNamedType,
  isObjectType,
  isUnionType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { requiredArgs, sample } from './schema-ops';

/** One step of a path: a field of an object type. */
export interface Hop {
  parent: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
}

/** From a root field down to a sensitive field, e.g. `Mutation.updateMember > Member.redemptions > Redemption.voucherCode`. */
export interface SensitivePath {
  name: string;
  root: Hop;
  hops: Hop[];
  /** The sensitive field, e.g. `Redemption.voucherCode`. */
  target: string;
}

/** The object types a field leads to: its own, or each member of its union. */
function targetsOf(field: GraphQLField<unknown, unknown>): GraphQLObjectType[] {
  const type = getNamedType(field.type);
  if (isObjectType(type)) return [type];
  if (isUnionType(type)) return [...type.getTypes()];
  return [];
}

const hopName = (hop: Hop) => `${hop.parent.name}.${hop.field.name}`;

/**
 * Every way into a sensitive field: for each query and mutation that can reach it, the shortest path; and for each
 * field that leads into the sensitive field's type (Member.redemptions, TimelineEntry.node, ...) and is on none of
 * those paths, the shortest path through it. Queries come first. Throws if a named field does not exist.
 */
export function sensitivePaths(schema: GraphQLSchema, sensitive: readonly string[]): SensitivePath[] {
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => !!t);
  const rootFields: Hop[] = roots.flatMap((parent) =>
    Object.values(parent.getFields())
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((field) => ({ parent, field })),
  );
  const objectTypes = Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__') && !roots.includes(t),
  );

  /** Shortest hops from a root field's result to `owner` (empty when the root returns it), or null. */
  const shortest = (root: Hop, owner: GraphQLObjectType): Hop[] | null => {
    const cameFrom = new Map<string, Hop | null>();
    const queue: GraphQLObjectType[] = [];
    for (const t of targetsOf(root.field)) {
      if (!cameFrom.has(t.name)) {
        cameFrom.set(t.name, null);
        queue.push(t);
      }
    }
    while (queue.length) {
      const type = queue.shift()!;
      if (type === owner) {
        const hops: Hop[] = [];
        for (let step = cameFrom.get(type.name); step; step = cameFrom.get(step.parent.name)) hops.unshift(step);
        return hops;
      }
      for (const field of Object.values(type.getFields()).sort((a, b) => a.name.localeCompare(b.name))) {
        for (const next of targetsOf(field)) {
          if (cameFrom.has(next.name)) continue;
          cameFrom.set(next.name, { parent: type, field });
          queue.push(next);
        }
      }
    }
    return null;
  };

  const out: SensitivePath[] = [];
  for (const target of sensitive) {
    const [ownerName, fieldName] = target.split('.');
    const owner = schema.getType(ownerName);
    if (!isObjectType(owner) || !owner.getFields()[fieldName]) throw new Error(`${target} is not a field of the schema`);
    const leaf: Hop = { parent: owner, field: owner.getFields()[fieldName] };
    const found: SensitivePath[] = [];
    const add = (root: Hop, hops: Hop[]) =>
      found.push({ name: [root, ...hops, leaf].map(hopName).join(' > '), root, hops: [...hops, leaf], target });

    for (const root of rootFields) {
      const hops = shortest(root, owner);
      if (hops) add(root, hops);
    }
    const lastHops = new Set(found.map((p) => (p.hops.length > 1 ? hopName(p.hops[p.hops.length - 2]) : hopName(p.root))));
    for (const parent of objectTypes) {
      for (const field of Object.values(parent.getFields())) {
        const entry: Hop = { parent, field };
        if (!targetsOf(field).includes(owner) || lastHops.has(hopName(entry))) continue;
        const via = rootFields
          .map((root) => ({ root, hops: shortest(root, parent) }))
          .filter((r): r is { root: Hop; hops: Hop[] } => r.hops !== null)
          .sort((a, b) => a.hops.length - b.hops.length)[0];
        if (via) add(via.root, [...via.hops, entry]);
      }
    }
    out.push(...found);
  }
  return out;
}

/**
 * The selection below a root call that walks the path: `{ redemptions { __typename voucherCode } }`, with an inline
 * fragment where a union leads on, and variables for the required arguments of the fields on the way.
 */
export function pathSelection(path: SensitivePath, pageSize: number) {
  const defs: string[] = [];
  const variables: Record<string, unknown> = {};
  let text = '';
  for (let i = path.hops.length - 1; i >= 0; i--) {
    const { parent, field } = path.hops[i];
    const args = field.args.filter((a) => requiredArgs(field).includes(a) || a.name === 'first');
    const call = args.length
      ? `${field.name}(${args
          .map((a) => {
            const name = `h${i}_${a.name}`;
            defs.push(`$${name}: ${a.type.toString()}`);
            variables[name] = a.name === 'first' ? pageSize : sample(a.type);
            return `${a.name}: $${name}`;
          })
          .join(', ')})`
      : field.name;
    const inner = `${call}${text ? ` { __typename ${text} }` : isObjectType(getNamedType(field.type)) ? ' { __typename }' : ''}`;
    const before = i === 0 ? getNamedType(path.root.field.type) : getNamedType(path.hops[i - 1].field.type);
    text = before.name === parent.name ? inner : `... on ${parent.name} { ${inner} }`;
  }
  return { selection: `{ __typename ${text} }`, defs, variables };
}

/** The values of the path's last field in a response: [] when the path reached no object (an empty list). */
export function valuesAlong(path: SensitivePath, rootValue: unknown): unknown[] {
  let current: unknown[] = [rootValue];
  for (const { parent, field } of path.hops) {
    current = current
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && v.__typename === parent.name)
      .map((v) => v[field.name]);
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}
