import { registerEnumType } from 'type-graphql';

/** Where an order or an enrolment came from. ADMIN is the back office, not a sales channel. */
export enum SalesChannelKind {
  WEB = 'WEB',
  APP = 'APP',
  STORE = 'STORE',
  MARKETPLACE = 'MARKETPLACE',
  CALL_CENTER = 'CALL_CENTER',
  ADMIN = 'ADMIN',
}

registerEnumType(SalesChannelKind, { name: 'SalesChannelKind', description: 'Where a member or order came from.' });
