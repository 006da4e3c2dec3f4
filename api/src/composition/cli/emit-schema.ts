import 'reflect-metadata';
import path from 'node:path';
import { loadConfig } from '../../base/config';
import { loadPlugins } from '../plugin';
import { renderDistributionSchemaFiles } from '../schema-files';
import { writeGeneratedFiles } from './generated-files';

/**
 * `npm run schema` writes the files, for the core with the plugins LOYALTY_PLUGINS names (unset: the distribution's, as
 * committed); `--check` exits 1 when the committed ones differ. `--out DIR` writes them into DIR instead (same file
 * names), for the schema of an installation with plugins of its own, without touching the committed files.
 */
async function main() {
  const check = process.argv.includes('--check');
  const at = process.argv.indexOf('--out');
  const out = at >= 0 ? process.argv[at + 1] : undefined;
  if (at >= 0 && (!out || out.startsWith('--'))) {
    console.error('usage: npm run schema -- [--check] [--out DIR]');
    process.exit(2);
  }
  const files = await renderDistributionSchemaFiles(loadPlugins(loadConfig().LOYALTY_PLUGINS));
  const placed = out ? Object.fromEntries(Object.entries(files).map(([file, content]) => [path.resolve(out, path.basename(file)), content])) : files;
  if (writeGeneratedFiles(placed, { check, command: out ? `npm run schema -- --out ${out}` : 'npm run schema' })) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
