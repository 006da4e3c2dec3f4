import DataLoader from 'dataloader';
import type { Context } from '../../base/context';
import type { AnalyticsService } from './analytics.service';
import type { MemberRfm } from './analytics.types';

/** One loader per request and per asOf, so a page of members costs one RFM statement. */
const perRequest = new WeakMap<Context, Map<string, DataLoader<string, MemberRfm | null>>>();
/** "Now" is fixed once per request, so every member of a page is scored against the same moment. */
const requestNow = new WeakMap<Context, Date>();

export function rfmLoader(ctx: Context, service: AnalyticsService, asOf: Date | null): { loader: DataLoader<string, MemberRfm | null>; at: Date } {
  let at = asOf;
  if (!at) {
    at = requestNow.get(ctx) ?? new Date();
    requestNow.set(ctx, at);
  }
  const loaders = perRequest.get(ctx) ?? new Map<string, DataLoader<string, MemberRfm | null>>();
  perRequest.set(ctx, loaders);
  const key = at.toISOString();
  let loader = loaders.get(key);
  if (!loader) {
    const when = at;
    loader = new DataLoader((ids: readonly string[]) => service.rfmOf(ctx.em, ids, when));
    loaders.set(key, loader);
  }
  return { loader, at };
}
