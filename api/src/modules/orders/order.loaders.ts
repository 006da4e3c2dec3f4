import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TimeKeyed } from '../../base/pagination';
import type { Order } from './order.entity';
import type { MemberOrdersKey, OrderService } from './order.service';

/** Per-request batching: a page of members costs one orders query per `limit` asked for, whatever its size. */
export interface OrderLoaders {
  orders: {
    /** A member's newest orders by placedAt, at most `limit` of them, each with its keyset position. */
    ofMember(limit: number): DataLoader<MemberOrdersKey, TimeKeyed<Order>[], string>;
    /** How many orders a member has. */
    countOf: DataLoader<string, number>;
  };
}

export function createOrderLoaders(em: EntityManager, orders: OrderService): OrderLoaders {
  const byLimit = new Map<number, DataLoader<MemberOrdersKey, TimeKeyed<Order>[], string>>();
  const loaders: OrderLoaders['orders'] = {
    ofMember: (limit) => {
      let loader = byLimit.get(limit);
      if (!loader) {
        loader = new DataLoader((keys) => orders.newestOf(em, keys, limit), { cacheKeyFn: (k) => `${k.memberId}:${k.before ? `${k.before.at}|${k.before.id}` : ''}` });
        byLimit.set(limit, loader);
      }
      return loader;
    },
    countOf: new DataLoader((memberIds) => orders.countOf(em, memberIds)),
  };
  return { orders: loaders };
}
