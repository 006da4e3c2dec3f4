import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import * as generated from '../src/generated/operations';
import { errorCodes } from '../src/generated/error-codes';
import { createLoyaltyClient } from '../src';

const root = path.resolve(__dirname, '..', '..', '..');
// Every channel operation (schema/operations/channels/*.graphql: the storefront's and the plugins', such as recordActivity).
const channelDir = path.join(root, 'schema/operations/channels');
const storefrontOperations = readdirSync(channelDir)
  .filter((f) => f.endsWith('.graphql'))
  .flatMap((f) => parse(readFileSync(path.join(channelDir, f), 'utf8')).definitions)
  .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
  .map((d) => d.name!.value);

describe('generated client code', () => {
  it('matches schema/schema.graphql, the storefront operations and schema/error-codes.json (run npm run codegen -w packages/client)', async () => {
    const check = await promisify(execFile)('npm', ['run', '--silent', 'codegen:check', '-w', 'packages/client'], { cwd: root }).then(
      () => ({ isCurrent: true, stale: '' }),
      (err: { stdout: string; stderr: string }) => ({ isCurrent: false, stale: `${err.stdout}\n${err.stderr}` }),
    );
    expect(check).toEqual({ isCurrent: true, stale: '' });
  });

  it('carries for each storefront operation the hash under which schema/persisted-operations.json lists it', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'schema/persisted-operations.json'), 'utf8')) as Record<string, string>;
    const hashes = storefrontOperations.map((name) => {
      const document = (generated as Record<string, unknown>)[`${name}Document`] as { __meta__?: { hash?: string } };
      return { name, hash: document.__meta__?.hash, isListed: document.__meta__?.hash !== undefined && document.__meta__.hash in manifest };
    });
    expect(hashes.filter((h) => !h.isListed)).toEqual([]);
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(Object.keys(manifest).length);
  });

  it('gives the client one method per storefront operation, named after it', () => {
    const client = createLoyaltyClient({ url: 'http://127.0.0.1:1/graphql', apiKey: 'unused', fetch: async () => new Response() });
    const methods = Object.keys(client).filter((k) => k !== 'request').sort();
    expect(methods).toEqual(storefrontOperations.map((n) => n[0].toLowerCase() + n.slice(1)).sort());
    expect(methods).toEqual(expect.arrayContaining(['enrolMember', 'recordOrder', 'memberAccount', 'memberRecommendations', 'redeemReward']));
  });

  it('lists every documented error code', () => {
    const documented = JSON.parse(readFileSync(path.join(root, 'schema/error-codes.json'), 'utf8'));
    expect(errorCodes).toEqual(documented);
  });
});
