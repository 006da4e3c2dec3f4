import { Authorized, Query, Resolver } from 'type-graphql';
import { Permission } from '../auth/permissions';
import type { QueueHealthService } from './queue-health.service';
import { QueueHealth } from './queue-health.types';

@Resolver()
export class QueueHealthResolver {
  constructor(private readonly queues: QueueHealthService) {}

  @Authorized(Permission.QUEUES_READ)
  @Query(() => [QueueHealth], { description: 'Jobs per state in each queue, and whether a worker is taking its jobs.' })
  queueHealth() {
    return this.queues.health();
  }
}
