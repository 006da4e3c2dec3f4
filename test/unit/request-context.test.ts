import { withLazyLog } from '../../api/src/graphql/context';
import type { Logger } from '../../api/src/base/logger';

// The request's logger costs a pino child (redaction over its bindings): made only when something logs.
describe('request context logger', () => {
  it('is not made by copying the context as Apollo does, and is made once when read from the copy', () => {
    const child = { name: 'child' } as unknown as Logger;
    let made = 0;
    let logger: Logger | undefined;
    const ctx = withLazyLog({ requestId: 'r-1' }, () => (logger ??= (made++, child)));
    // Apollo's cloneObject (ApolloServer.ts): own properties into an object with the same prototype.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(ctx)), ctx) as typeof ctx;
    expect(made).toBe(0);
    expect(copy.requestId).toBe('r-1');
    expect(copy.log).toBe(child);
    expect(ctx.log).toBe(copy.log);
    expect(made).toBe(1);
  });
});
