import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { AppError, isDatabaseUnreachable } from '../../api/src/base/errors';

// Domain errors are the platform's own: the base layer knows no transport, and the GraphQL edge maps them.
describe('domain errors', () => {
  it('AppError is not a GraphQL error, and carries its code and details', () => {
    const err = AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId: 'm1' });
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(GraphQLError);
    expect(err.code).toBe('CONFLICT');
    expect(err.extensions).toEqual({ code: 'CONFLICT', reason: 'MEMBER_ERASED', memberId: 'm1' });
  });

  it('tells a lost database connection from a bug, however the driver and the ORM wrap it', () => {
    // node-postgres's own words for a query on a client whose connection failed or closed, as the ORM rethrows them.
    const ormWrapped = (message: string) => Object.assign(new Error(message), { name: 'DriverException' });
    expect(isDatabaseUnreachable(ormWrapped('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isDatabaseUnreachable(ormWrapped('Client was closed and is not queryable'))).toBe(true);
    expect(isDatabaseUnreachable({ message: 'outer', cause: Object.assign(new Error('x'), { code: '57P01' }) })).toBe(true);
    expect(isDatabaseUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnreachable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnreachable(new Error('relation "x" does not exist'))).toBe(false);
  });

  it('graphql-js keeps the code when it wraps a domain error thrown by a resolver', () => {
    const wrapped = new GraphQLError('x', { originalError: AppError.notFound('Member', 'm1') });
    expect(wrapped.extensions).toEqual({ code: 'NOT_FOUND', entity: 'Member', id: 'm1' });
  });

  it('the errors module imports no transport', () => {
    // The base also holds domain-free GraphQL building blocks (PageInfo, enum registration) for the modules'
    // resolvers; what must stay transport-free is the error vocabulary domain code throws.
    const source = readFileSync(path.resolve(__dirname, '../../api/src/base/errors.ts'), 'utf8');
    expect(source).not.toMatch(/from '(graphql|type-graphql|@apollo\/[^']+)'/);
  });
});
