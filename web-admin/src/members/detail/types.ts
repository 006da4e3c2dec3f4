import type { MemberDetailQuery } from '../../gql/graphql';

/** The member as the page's main query reads it; each section below takes what it needs from it. */
export type Member = MemberDetailQuery['member'];
