import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildSchema, parse, validate } from 'graphql';
import path from 'node:path';
import { repoRoot } from '../../base/config';
import { buildManifest, readOperationSources } from '../../modules/security/persisted-operations';

const USAGE = 'usage: npm run persisted-operations -- --out <file.json> <dir or .graphql file>...';

/** Builds an allow-list for PERSISTED_OPERATIONS_FILE from your own operations, checked against the committed schema. */
function main() {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  if (!values.out || positionals.length === 0) throw new Error(USAGE);
  const sources = positionals.flatMap((p) => (statSync(p).isDirectory() ? readOperationSources(p) : [readFileSync(p, 'utf8')]));
  const schema = buildSchema(readFileSync(path.join(repoRoot, 'schema', 'schema.graphql'), 'utf8'));
  const errors = validate(schema, parse(sources.join('\n'))).map((e) => e.message);
  if (errors.length) throw new Error(`operations do not match schema/schema.graphql:\n  ${errors.join('\n  ')}`);
  const manifest = buildManifest(sources);
  writeFileSync(values.out, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote ${Object.keys(manifest).length} operations to ${values.out}`);
}

try {
  main();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
