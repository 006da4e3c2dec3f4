import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import { AppError } from '../../api/src/base/errors';

// Domain errors are the platform's own: the base layer knows no transport, and the GraphQL edge maps them.
describe('domain errors', () => {
  it('AppError is not a GraphQL error, and carries its code and details', () => {
    const err = AppError.conflict('MEMBER_ERASED', 'This member has been erased', { memberId: 'm1' });
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(GraphQLError);
    expect(err.code).toBe('CONFLICT');
    expect(err.extensions).toEqual({ code: 'CONFLICT', reason: 'MEMBER_ERASED', memberId: 'm1' });
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
