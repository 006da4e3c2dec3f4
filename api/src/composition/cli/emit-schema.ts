import 'reflect-metadata';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../base/config';
import { loadPlugins } from '../plugin';
import { renderDistributionSchemaFiles } from '../schema-files';

/**
 * `npm run schema` writes the files, for the core with the plugins LOYALTY_PLUGINS names (unset: the distribution's, as
 * committed); `--check` exits 1 when the committed ones differ.
 */
async function main() {
  const check = process.argv.includes('--check');
  const files = await renderDistributionSchemaFiles(loadPlugins(loadConfig().LOYALTY_PLUGINS));
  let drift = 0;
  for (const [file, content] of Object.entries(files)) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as drift
    }
    if (current === content) continue;
    if (check) {
      drift++;
      console.error(`${path.relative(process.cwd(), file)} is out of date: run npm run schema and commit it`);
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  if (drift) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
