import type { LoginMutation } from '../gql/graphql';

export { LoginDocument, MeDocument, type AdminRole } from '../gql/graphql';

export type AdminUser = LoginMutation['login']['admin'];
