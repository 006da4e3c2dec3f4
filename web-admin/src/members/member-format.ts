import type { MemberListItem, MemberStatus, SalesChannelKind } from './members.operations';

const locale = 'en-GB';
const numberFormat = new Intl.NumberFormat(locale);
const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });

export const channelLabels = {
  WEB: 'Web',
  APP: 'App',
  STORE: 'Store',
  MARKETPLACE: 'Marketplace',
  CALL_CENTER: 'Call centre',
  ADMIN: 'Admin',
} satisfies Record<SalesChannelKind, string>;

export const statusLabels = {
  ACTIVE: 'Active',
  MERGED: 'Merged',
  ERASED: 'Erased',
} satisfies Record<MemberStatus, string>;

export function memberCount(count: number): string {
  return `${numberFormat.format(count)} ${count === 1 ? 'member' : 'members'}`;
}

export function memberName(member: Pick<MemberListItem, 'firstName' | 'lastName'>): string {
  return [member.firstName, member.lastName].filter(Boolean).join(' ');
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateFormat.format(date);
}
