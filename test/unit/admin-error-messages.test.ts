import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLError } from 'graphql';
import type { CombinedError } from 'urql';
import { errorMessage, fieldErrorMap } from '../../web-admin/src/shared/errors';

const codes = Object.keys(JSON.parse(readFileSync(path.resolve(__dirname, '../../schema/error-codes.json'), 'utf8')));

function failure(extensions: Record<string, unknown>): CombinedError {
  return { graphQLErrors: [new GraphQLError('failed', { extensions })] } as unknown as CombinedError;
}

describe('admin error messages', () => {
  it.each(codes)('%s has a message of its own in the admin app', (code) => {
    expect(errorMessage(failure({ code, requestId: 'req-1' }))).not.toMatch(/^Something went wrong \(/);
  });

  it.each(['LAST_ADMIN', 'IMPORT_RUNNING', 'IMPORT_STATE', 'API_KEY_REVOKED', 'POINTS_JOBS_RUNNING'])('CONFLICT %s, which the operator pages meet, has a message of its own', (reason) => {
    const generic = errorMessage(failure({ code: 'CONFLICT' }));
    expect(errorMessage(failure({ code: 'CONFLICT', reason }))).not.toBe(generic);
  });

  it('an unknown code shows a generic message with the request id', () => {
    expect(errorMessage(failure({ code: 'BRAND_NEW_CODE', requestId: 'req-42' }))).toBe(
      'Something went wrong (BRAND_NEW_CODE). Request id: req-42.',
    );
  });

  it('maps BAD_USER_INPUT field paths onto the input fields they name', () => {
    const error = failure({
      code: 'BAD_USER_INPUT',
      fields: [
        { path: 'input.costPoints', message: 'must be at least 1 point' },
        { path: ['input', 'name'], message: 'must not be empty' },
      ],
    });
    expect(fieldErrorMap(error)).toEqual({ costPoints: 'must be at least 1 point', name: 'must not be empty' });
  });
});
