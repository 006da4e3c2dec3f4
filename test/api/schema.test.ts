import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { renderDistributionSchemaFiles } from '../../api/src/composition/schema-files';
import { DISTRIBUTION_PLUGINS, DISTRIBUTION_PLUGIN_PATHS } from '../support/distribution';
import { errorCodes } from '../../api/src/base/errors';

const root = path.resolve(__dirname, '..', '..');

describe('generated schema', () => {
  it('is emitted for the distribution: the plugins loyalty.plugins lists, which the tests load from their sources', () => {
    expect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).loyalty.plugins).toEqual(DISTRIBUTION_PLUGIN_PATHS);
    expect(DISTRIBUTION_PLUGINS.map((p) => p.name)).toEqual(DISTRIBUTION_PLUGIN_PATHS.map((p) => path.basename(p)));
  });

  it('matches the committed schema/schema.graphql and schema/error-codes.json (run npm run schema)', async () => {
    const files = await renderDistributionSchemaFiles(DISTRIBUTION_PLUGINS);
    for (const [file, expected] of Object.entries(files)) {
      const committed = readFileSync(file, 'utf8');
      expect({ file: path.relative(root, file), content: committed }).toEqual({ file: path.relative(root, file), content: expected });
    }
  });

  it('writes the schema of an installation with plugins of its own into another folder, leaving the committed files alone', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'schema-out-'));
    const committed = readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8');
    const run = spawnSync(process.execPath, [path.join(root, 'api/dist/composition/cli/emit-schema.js'), '--out', out], {
      cwd: root,
      env: { ...process.env, LOYALTY_PLUGINS: [...DISTRIBUTION_PLUGIN_PATHS, './examples/brand-bonus-plugin'].join(','), LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const written = readFileSync(path.join(out, 'schema.graphql'), 'utf8');
    expect(written).toContain('brandBonusTally(brand: String!): BrandBonusTally');
    expect(written).toContain('recordActivity');
    expect(committed).not.toContain('brandBonusTally');
    expect(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8')).toBe(committed);
    expect(readdirSync(out).sort()).toEqual(['error-codes.json', 'persisted-operations.json', 'schema.graphql']);
    const bad = spawnSync(process.execPath, [path.join(root, 'api/dist/composition/cli/emit-schema.js'), '--out'], { cwd: root, encoding: 'utf8' });
    expect({ status: bad.status, stderr: bad.stderr.trim() }).toEqual({ status: 2, stderr: 'usage: npm run schema -- [--check] [--out DIR]' });
  });

  it("validates every admin operation in schema/operations against the committed schema", () => {
    const schema = buildSchema(readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
    const dir = path.join(root, 'schema/operations');
    const files = readdirSync(dir).filter((f) => f.endsWith('.graphql'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const errors = validate(schema, parse(readFileSync(path.join(dir, f), 'utf8'))).map((e) => e.message);
      expect({ file: f, errors }).toEqual({ file: f, errors: [] });
    }
  });

  it('documents every error code in docs/reference/error-codes.md, each in its own row', () => {
    const page = readFileSync(path.join(root, 'docs', 'reference', 'error-codes.md'), 'utf8');
    const missing = Object.keys(errorCodes).filter((code) => !page.includes(`\n| \`${code}\` | `));
    expect(missing).toEqual([]);
  });
});
