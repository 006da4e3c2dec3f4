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
  return pageWithCursors(rows, first, hasPrevious, (node) => encodeCursor(node.id));
}

/**
 * A row's place in a list ordered by a timestamp, then by id to break ties, both descending (keyset pagination). `at`
 * is the timestamp in UTC to the microsecond, as PostgreSQL stores it (a Date keeps milliseconds only, and a key
 * rounded to them would skip the rows after it in the same millisecond): select it with `timeKeySql(column)`.
 */
export interface TimeKey {
  at: string;
  id: string;
}

/** A row fetched with its TimeKey. */
export interface TimeKeyed<T> {
  node: T;
  key: TimeKey;
}

/** SQL giving `column` (a timestamptz) as a TimeKey's `at`. */
export const timeKeySql = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const TIME_KEY_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Whether `at` is a TimeKey's `at` that PostgreSQL and a Date both read as the same instant: a real calendar date and
 * time (no 30 February, no hour 24) in years 0001 to 9999.
 */
export function isTimeKeyAt(at: string): boolean {
  if (!TIME_KEY_AT.test(at) || at.startsWith('0000')) return false;
  const millis = `${at.slice(0, 23)}Z`;
  const date = new Date(millis);
  return !Number.isNaN(date.getTime()) && date.toISOString() === millis;
}

export const encodeTimeCursor = (key: TimeKey): string => Buffer.from(`k:${key.at}|${key.id}`).toString('base64url');

export function decodeTimeCursor(cursor: string, argName = 'after'): TimeKey {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const [at = '', id = '', ...rest] = decoded.startsWith('k:') ? decoded.slice(2).split('|') : [];
  if (rest.length || !isTimeKeyAt(at) || !isUuid(id)) throw AppError.badInput([{ path: argName, message: 'is not a cursor from this API' }]);
  return { at, id };
}

/** Builds a page from `first + 1` keyed rows fetched in TimeKey order; each edge's cursor is its row's key. */
export function timeKeyedPageOf<T>(rows: TimeKeyed<T>[], first: number, hasPrevious: boolean) {
  const { edges, pageInfo } = pageWithCursors(rows, first, hasPrevious, (row) => encodeTimeCursor(row.key));
  return { edges: edges.map((e) => ({ cursor: e.cursor, node: e.node.node })), pageInfo };
}

function pageWithCursors<T>(rows: T[], first: number, hasPrevious: boolean, cursorOf: (row: T) => string) {
  const hasNextPage = rows.length > first;
  const nodes = hasNextPage ? rows.slice(0, first) : rows;
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
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
