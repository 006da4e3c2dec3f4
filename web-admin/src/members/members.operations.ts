import source from '../../../schema/operations/members.graphql?raw';
import type { AdminRole } from '../auth/auth.operations';
import { operationsFrom } from '../shared/documents';

export type MemberStatus = 'ACTIVE' | 'MERGED' | 'ERASED';

export type SalesChannelKind = 'WEB' | 'APP' | 'STORE' | 'MARKETPLACE' | 'CALL_CENTER' | 'ADMIN';

/** A row of the Members query. The PII fields are absent when the query ran with `withPii: false`. */
export interface MemberListItem {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  phone?: string | null;
  country: string | null;
  status: MemberStatus;
  enrolmentChannel: SalesChannelKind;
  /** DateTimeISO */
  enrolledAt: string;
}

export interface MemberEdge {
  cursor: string;
  node: MemberListItem;
}

export interface MembersResult {
  members: {
    totalCount: number;
    edges: MemberEdge[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

export type MembersVariables = {
  first?: number;
  after?: string | null;
  search?: string | null;
  status?: MemberStatus | null;
  withPii: boolean;
};

const operation = operationsFrom(source);

export const MembersDocument = operation<MembersResult, MembersVariables>('Members');

/** Mirrors the API: firstName, lastName, email and phone are FORBIDDEN to analysts. */
export function canSeeMemberPii(role: AdminRole): boolean {
  return role !== 'ANALYST';
}
