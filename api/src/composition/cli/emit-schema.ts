import 'reflect-metadata';
import { loadConfig } from '../../base/config';
import { loadPlugins } from '../plugin';
import { renderDistributionSchemaFiles } from '../schema-files';
import { writeGeneratedFiles } from './generated-files';

/**
 * `npm run schema` writes the files, for the core with the plugins LOYALTY_PLUGINS names (unset: the distribution's, as
 * committed); `--check` exits 1 when the committed ones differ.
 */
async function main() {
  const check = process.argv.includes('--check');
  const files = await renderDistributionSchemaFiles(loadPlugins(loadConfig().LOYALTY_PLUGINS));
  if (writeGeneratedFiles(files, { check, command: 'npm run schema' })) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
