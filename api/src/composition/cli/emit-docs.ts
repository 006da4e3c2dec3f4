import 'reflect-metadata';
import { loadConfig } from '../../base/config';
import { loadPlugins } from '../plugin';
import { renderReferenceDocs } from '../reference-docs';
import { writeGeneratedFiles } from './generated-files';

/**
 * `npm run docs` writes the generated reference pages (docs/reference: configuration, error codes, events), with the
 * plugins LOYALTY_PLUGINS names (unset: the distribution's, as committed); `--check` exits 1 when the committed ones differ.
 */
const check = process.argv.includes('--check');
if (writeGeneratedFiles(renderReferenceDocs(loadPlugins(loadConfig().LOYALTY_PLUGINS)), { check, command: 'npm run docs' })) process.exit(1);
