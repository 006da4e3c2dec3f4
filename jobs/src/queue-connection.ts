import Queue from 'bull';
import { Cluster } from 'ioredis';
import { z } from 'zod';
import { queueOptions } from './payloads';

export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Where the queues live, as both apps' configs carry it: one Redis server (`REDIS_URL`), or the seed nodes of a Redis
 * Cluster (`REDIS_CLUSTER_NODES`, which then wins), and the key prefix every queue shares.
 */
export interface QueueConnection {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES: readonly RedisNode[] | null;
  QUEUE_PREFIX: string;
}

/** The prefix used when QUEUE_PREFIX is unset: Bull's own on one server, the same in a hash tag on a cluster. */
export const DEFAULT_QUEUE_PREFIX = { single: 'bull', cluster: '{bull}' } as const;

/** `bull`, `test-run-1`, or a Redis Cluster hash tag such as `{loyalty}`. */
const QUEUE_PREFIX_PATTERN = /^(?:[\w:-]{1,40}|\{[\w:-]{1,38}\})$/;
const HASH_TAG = /^\{[\w:-]{1,38}\}$/;

/** `QUEUE_PREFIX` as both configs validate it; resolve the default with `resolveQueuePrefix` once cluster mode is known. */
export const queuePrefixSchema = z
  .string()
  .regex(QUEUE_PREFIX_PATTERN, 'letters, digits, _ : - only, optionally wrapped in { } as a Redis Cluster hash tag')
  .optional();

/** `REDIS_CLUSTER_NODES`: comma-separated `host:port` seed nodes (a few are enough; the client discovers the rest). */
export const clusterNodesSchema = z
  .string()
  .optional()
  .transform((value, ctx): RedisNode[] | null => {
    if (value === undefined) return null;
    const nodes: RedisNode[] = [];
    for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
      const match = /^([\w.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : 0;
      if (!match || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port (a comma-separated list of seed nodes such as 10.0.0.1:6379,10.0.0.2:6379)` });
        return z.NEVER;
      }
      nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
    }
    if (nodes.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'lists no node' });
      return z.NEVER;
    }
    return nodes;
  });

/**
 * The prefix in effect. On a cluster every key of a queue must hash to one slot (Bull's scripts touch several keys in
 * one call), so the prefix must be a hash tag: unset, it is `{bull}`; set without braces, it is refused.
 */
export function resolveQueuePrefix(prefix: string | undefined, clusterNodes: readonly RedisNode[] | null): { prefix: string } | { error: string } {
  if (!clusterNodes) return { prefix: prefix ?? DEFAULT_QUEUE_PREFIX.single };
  if (prefix === undefined) return { prefix: DEFAULT_QUEUE_PREFIX.cluster };
  if (HASH_TAG.test(prefix)) return { prefix };
  return {
    error: `must be a hash tag such as {${prefix}} when REDIS_CLUSTER_NODES is set: Bull's scripts touch several keys of a queue at once, and on a cluster they must all hash to one slot`,
  };
}

type ClientType = 'client' | 'subscriber' | 'bclient';

/** Two fixes for a cluster that has lost every node; without them an API or a worker hangs on SIGTERM, or crashes. */
class QueueCluster extends Cluster {
  /**
   * ioredis leaves a cluster client stuck when it is disconnected then: `disconnecting` for good, no `end`, and its
   * queued commands (Bull's pending BRPOPLPUSH) never settle, while Bull's close waits for both. With no node
   * connection left to close, this ends the client the way ioredis does once it gives up reconnecting.
   */
  override disconnect(reconnect = false): void {
    const isStranded = this.status !== 'wait' && this.nodes().length === 0;
    super.disconnect(reconnect);
    if (isStranded && !reconnect) (this as unknown as { handleCloseEvent(): void }).handleCloseEvent();
  }

  /**
   * On close Bull reconnects its blocking client and listens for the outcome only after its jobs have finished
   * (`whenCurrentJobsFinished`): a connect that fails first is an unhandled rejection, which ends the process. The
   * failure tells no caller anything: the client retries by itself, or ends once disconnected.
   */
  override connect(): Promise<void> {
    return super.connect().catch(() => undefined);
  }
}

/**
 * A cluster client for one of Bull's three connections. The blocking one (`bclient`) and the subscriber must neither
 * run a ready check nor give up on a command (Bull refuses them otherwise); node connections reconnect at most 2 s
 * apart, as on one server.
 */
function clusterClient(nodes: readonly RedisNode[], type: ClientType, connectionName: string | undefined): Cluster {
  const isLongLived = type !== 'client';
  return new QueueCluster(
    nodes.map((n) => ({ ...n })),
    {
      clusterRetryStrategy: (times: number) => Math.min(times * 200, 2000),
      redisOptions: isLongLived ? { enableReadyCheck: false, maxRetriesPerRequest: null, connectionName } : { connectionName },
    },
  );
}

/**
 * Opens a Bull queue on the configured Redis. One server: Bull's own clients on `REDIS_URL`, with `queueOptions`.
 * A cluster: every connection is an ioredis `Cluster`, through Bull's `createClient`.
 */
export function openQueue<T = unknown>(name: string, connection: QueueConnection, settings?: Queue.AdvancedSettings): Queue.Queue<T> {
  const { REDIS_URL, REDIS_CLUSTER_NODES: nodes, QUEUE_PREFIX: prefix } = connection;
  if (!nodes) return new Queue<T>(name, REDIS_URL, { ...queueOptions(prefix), ...(settings ? { settings } : {}) });
  const clients: Cluster[] = [];
  // Named as Bull names a worker's blocking connection, on every node it reaches, so that countWorkers finds it.
  const workerName = `${prefix}:${Buffer.from(name).toString('base64')}`;
  const queue = new Queue<T>(name, {
    prefix,
    ...(settings ? { settings } : {}),
    createClient: (type) => {
      const client = clusterClient(nodes, type, type === 'bclient' ? workerName : undefined);
      clients.push(client);
      return client;
    },
  });
  // Bull ends only the connections it made itself: these end with the queue.
  queue.once('close', () => {
    for (const client of clients) client.disconnect();
  });
  return queue;
}

/**
 * Counts the workers connected to a queue. On a cluster, `CLIENT LIST` goes to the master that owns the queue's slot,
 * where each worker's blocking connection waits for jobs; Bull would ask a node at random.
 */
export async function countWorkers(queue: Queue.Queue): Promise<number> {
  const client = queue.client as unknown;
  if (!(client instanceof Cluster)) return (await queue.getWorkers())?.length ?? 0;
  // Every key of the queue carries the prefix's hash tag, and so does its client name: one slot for all of them.
  const slot = (await client.cluster('KEYSLOT', queue.clientName())) as number;
  const owner = client.slots[slot]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) return 0;
  return queue.parseClientList((await node.client('LIST')) as string).length;
}
