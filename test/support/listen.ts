import type { AddressInfo } from 'node:net';
import type { Harness } from './harness';

/**
 * The harness's API on a real port, for clients that make their own HTTP requests (fetch) instead of supertest's.
 * app.stop() closes it with the rest of the app.
 */
export async function graphqlUrl(h: Harness): Promise<string> {
  const server = h.app.server;
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}
