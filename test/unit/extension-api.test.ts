import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// Plugins in the repository (examples/ and the first-party plugins/) import the platform through its public extension
// API only, the package specifier `@loyalty/api/extension-api` (api/src/composition/extension-api.ts), as a third
// party's would: nothing reaches into a module, and no relative path leaves the plugin's folder.
const ROOT = path.resolve(__dirname, '../..');
const FOLDERS = ['examples', 'plugins'];
const PUBLIC = '@loyalty/api/extension-api';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

const plugins = FOLDERS.flatMap((folder) =>
  existsSync(path.join(ROOT, folder))
    ? readdirSync(path.join(ROOT, folder))
        .filter((name) => statSync(path.join(ROOT, folder, name)).isDirectory())
        .map((name) => `${folder}/${name}`)
    : [],
);

describe('plugins use the public extension API only', () => {
  it('finds the example and first-party plugins', () => {
    expect(plugins).toEqual(expect.arrayContaining(['examples/brand-bonus-plugin', 'plugins/activities', 'plugins/challenges']));
  });

  it.each(plugins)('%s/src imports the platform only through @loyalty/api/extension-api', (plugin) => {
    const src = path.join(ROOT, plugin, 'src');
    const offending = sources(src).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from|import|require\()\s*'([^']+)'/g)]
        .map((m) => m[1])
        .filter((specifier) => {
          // The API's insides are off limits; the platform's published packages (the storefront client) are not.
          if (specifier.startsWith('@loyalty/api')) return specifier !== PUBLIC;
          // A relative import stays inside the plugin's own folder.
          if (specifier.startsWith('.')) return !path.resolve(path.dirname(file), specifier).startsWith(path.join(ROOT, plugin) + path.sep);
          return false;
        })
        .map((specifier) => `${path.relative(ROOT, file)} -> ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('no core file names a first-party plugin', () => {
    const names = readdirSync(path.join(ROOT, 'plugins')).filter((name) => statSync(path.join(ROOT, 'plugins', name)).isDirectory());
    const core = sources(path.join(ROOT, 'api', 'src'));
    const naming = core.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return names.filter((name) => text.includes(`plugins/${name}`) || text.includes(`@loyalty/plugin-${name}`)).map((name) => `${path.relative(ROOT, file)} names ${name}`);
    });
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(naming).toEqual([]);
  });
});
