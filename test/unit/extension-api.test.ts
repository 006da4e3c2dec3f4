import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// Plugins in the repository import the platform through its public extension API only
// (api/src/composition/extension-api.ts), as a third party's would: nothing reaches into a module.
const EXAMPLES = path.resolve(__dirname, '../../examples');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

describe('examples use the public extension API only', () => {
  const plugins = readdirSync(EXAMPLES).filter((name) => statSync(path.join(EXAMPLES, name)).isDirectory());

  it('finds the example plugins', () => {
    expect(plugins).toContain('brand-bonus-plugin');
  });

  it.each(plugins)('%s/src imports nothing of api/ but extension-api', (plugin) => {
    const offending = sources(path.join(EXAMPLES, plugin, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']*api\/src\/[^']*)'/g)]
        .map((m) => m[1])
        .filter((specifier) => !specifier.endsWith('api/src/composition/extension-api'))
        .map((specifier) => `${path.relative(EXAMPLES, file)} -> ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
