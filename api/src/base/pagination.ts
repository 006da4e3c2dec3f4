import { Field, ObjectType, type ClassType } from 'type-graphql';
import { AppError } from './errors';
import { isUuid } from './ids';

@ObjectType({ description: 'Relay cursor pagination state.' })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => Boolean)
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true })
  startCursor: string | null;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 100;

/** Cursors wrap a UUIDv7 primary key, which is unique and time-ordered, so ordering is stable. */
export const encodeCursor = (id: string): string => Buffer.from(`c:${id}`).toString('base64url');

export function decodeCursor(cursor: string, argName = 'after'): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = decoded.startsWith('c:') ? decoded.slice(2) : '';
  if (!isUuid(id)) throw AppError.badInput([{ path: argName, message: 'is not a cursor from this API' }]);
  return id;
}

export function checkPageSize(first: number, argName = 'first'): void {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw AppError.badInput([{ path: argName, message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
  }
}

/** Builds a page from `first + 1` rows fetched in order. */
export function pageOf<T extends { id: string }>(rows: T[], first: number, hasPrevious: boolean) {
  const hasNextPage = rows.length > first;
  const nodes = hasNextPage ? rows.slice(0, first) : rows;
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.id), node }));
  const pageInfo: PageInfo = {
    hasNextPage,
    hasPreviousPage: hasPrevious,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges.at(-1)?.cursor ?? null,
  };
  return { edges, pageInfo };
}

/**
 * The Relay connection of `Node`: `<name>Connection { edges: [<name>Edge] pageInfo }`, each edge `{ cursor node }`.
 * Extend the returned class with `@ObjectType()` (type-graphql's generic types); add `countTotal` where a
 * `totalCount` field resolver needs it.
 */
export function connectionOf<TNode extends object>(Node: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor: string;

    @Field(() => Node)
    node: TNode;
  }

  // type-graphql inherits fields only from an object type; no field returns this one, so the schema never shows it.
  @ObjectType(`${name}ConnectionFields`)
  abstract class Connection {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;
  }
  return Connection;
}
