import type { MembersQuery } from '../gql/graphql';
import { can } from '../shared/permissions';

export {
  type ChurnBand,
  type ValueBand,
  MembersDocument,
  type MemberStatus,
  type MembersQueryVariables as MembersVariables,
  type SalesChannelKind,
} from '../gql/graphql';

export type MemberEdge = MembersQuery['members']['edges'][number];

/** A row of the Members query. The PII fields are absent when the query ran with `withPii: false`. */
export type MemberListItem = MemberEdge['node'];

/** Mirrors the API: firstName, lastName, email and phone are FORBIDDEN to analysts. */
export function canSeeMemberPii(admin: { permissions: readonly string[] }): boolean {
  return can(admin, 'members:pii');
}
