import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../../base/context';
import { Permission } from '../auth/permissions';
import type { QueueHealthService } from './queue-health.service';
import { OutboxSubscriberHealth, QueueHealth } from './queue-health.types';

@Resolver()
export class QueueHealthResolver {
  constructor(private readonly queues: QueueHealthService) {}

  @Authorized(Permission.QUEUES_READ)
  @Query(() => [QueueHealth], { description: 'Jobs per state in each queue, and whether a worker is taking its jobs.' })
  queueHealth() {
    return this.queues.health();
  }

  @Authorized(Permission.QUEUES_READ)
  @Query(() => [OutboxSubscriberHealth], {
    description: 'The outbox subscribers plugins registered: events behind each, and the failures of the event one is stuck on.',
  })
  outboxSubscribers(@Ctx() ctx: Context) {
    return this.queues.subscribers(ctx.em);
  }
}
