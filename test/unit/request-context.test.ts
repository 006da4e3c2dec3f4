import { lazyRequestContext } from '../../api/src/graphql/context';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../api/src/base/logger';

// The request's logger costs a pino child (redaction over its bindings): made only when something logs.
describe('request context logger', () => {
  it('is not made by copying the context as Apollo does, and is made once when read from the copy', () => {
    const child = { name: 'child' } as unknown as Logger;
    let made = 0;
    let logger: Logger | undefined;
    const ctx = lazyRequestContext({ requestId: 'r-1' }, { log: () => (logger ??= (made++, child)) });
    // Apollo's cloneObject (ApolloServer.ts): own properties into an object with the same prototype.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx) as typeof ctx;
    expect(made).toBe(0);
    expect(copy.requestId).toBe('r-1');
    expect(copy.log).toBe(child);
    expect(ctx.log).toBe(copy.log);
    expect(made).toBe(1);
  });

  it('forks the heavy-read entity manager only when read, and has none without a maker', () => {
    const fork = { name: 'fork' } as unknown as EntityManager;
    let forks = 0;
    let made: EntityManager | undefined;
    const ctx = lazyRequestContext({ requestId: 'r-2' }, { log: () => ({}) as Logger, analyticsEm: () => (made ??= (forks++, fork)) });
    const copy = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx) as typeof ctx;
    expect(forks).toBe(0);
    expect(copy.analyticsEm).toBe(fork);
    expect(ctx.analyticsEm).toBe(fork);
    expect(forks).toBe(1);
    expect(lazyRequestContext({}, { log: () => ({}) as Logger }).analyticsEm).toBeUndefined();
  });
});
