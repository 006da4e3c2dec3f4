import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, Kind, parse, validate, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { renderReferenceDocs } from '../../api/src/composition/reference-docs';
import { configSchema as workerConfigSchema } from '../../recommender/src/config';
import { DISTRIBUTION_PLUGINS } from '../support/distribution';

// The README is the front page and docs/ the rest: both stay inside the repository (a clone has nothing beside it),
// their links resolve, the reference pages generated from the code match it, and the calls they show are valid.

const ROOT = path.resolve(__dirname, '../..');
/** Folders no document is in, nor may link into: tools' output, not the repository's content. */
const NOT_CONTENT = new Set(['node_modules', 'dist', '.git', '.data', 'test-output', 'coverage']);

function markdownFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (NOT_CONTENT.has(name)) return [];
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return markdownFiles(full);
    return name.endsWith('.md') ? [path.relative(ROOT, full)] : [];
  });
}

/** What a reader sees as prose: fenced blocks and inline code removed, where brackets and URLs are not links. */
const prose = (text: string) => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** Every anchor a page offers: its headings (repeats numbered as GitHub does) and explicit `<a id|name>`. */
function anchorsOf(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  const body = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of body.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const s = slug(heading);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n ? `${s}-${n}` : s);
  }
  for (const [, id] of body.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(id);
  return out;
}

/** Link targets in a page: inline links and images, reference definitions, and HTML src/href. */
function linkTargets(text: string): string[] {
  const p = prose(text);
  return [
    ...[...p.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...p.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]),
    ...[...p.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"/g)].map((m) => m[1]),
    ...[...p.matchAll(/<((?:https?|ftp|mailto):[^>\s]+)>/g)].map((m) => m[1]),
  ];
}

/** What is wrong with one page's links and mentions, each problem naming the page and the target. */
function problemsIn(file: string, text: string, exists: (abs: string) => boolean, anchorsAt: (abs: string) => Set<string>): string[] {
  const problems: string[] = [];
  const dir = path.dirname(path.join(ROOT, file));
  for (const target of linkTargets(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      problems.push(`${file}: links outside the repository: ${target}`);
      continue;
    }
    const [rawPath, anchor] = target.split('#');
    const abs = rawPath ? path.resolve(dir, decodeURI(rawPath)) : path.join(ROOT, file);
    const rel = path.relative(ROOT, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel) || rel.split(path.sep).some((part) => NOT_CONTENT.has(part))) {
      problems.push(`${file}: links outside the repository's content: ${target}`);
    } else if (!exists(abs)) {
      problems.push(`${file}: links to a missing file: ${target}`);
    } else if (anchor && abs.endsWith('.md') && !anchorsAt(abs).has(anchor)) {
      problems.push(`${file}: links to a missing anchor: ${target}`);
    }
  }
  // A bare URL, which GitHub turns into a link; only the local platform's own addresses are allowed.
  const bare = prose(text).replace(/!?\[[^\]]*\]\([^)]*\)/g, '').replace(/<[a-z]+:[^>]+>/gi, '');
  for (const [url] of bare.matchAll(/\bhttps?:\/\/[^\s)>\]`'"]*[^\s)>\]`'".,;:]/g)) {
    if (!/^https?:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/.test(url)) problems.push(`${file}: links outside the repository: ${url}`);
  }
  // A path to something beside the checkout, in prose or in code: a fresh clone has nothing there.
  for (const [mention] of text.matchAll(/(?:\.\.\/)+shared\/[^\s)`'"]*|\/work\/[^\s)`'"]+/g)) problems.push(`${file}: names a path outside the repository: ${mention}`);
  return problems;
}

const read = (abs: string) => readFileSync(abs, 'utf8');
const anchorCache = new Map<string, Set<string>>();
const anchorsAtPath = (abs: string) => anchorCache.get(abs) ?? anchorCache.set(abs, anchorsOf(read(abs))).get(abs)!;

describe('the checks themselves', () => {
  it("give GitHub's anchors for headings", () => {
    expect(slug('Latency at 10,000 and 1 M members')).toBe('latency-at-10000-and-1-m-members');
    expect(slug("The client's address and `TRUST_PROXY`")).toBe('the-clients-address-and-trust_proxy');
    expect([...anchorsOf('# A\n\n```sh\n# not a heading\n```\n## Fuzz\n### Fuzz\n<a id="here"></a>')]).toEqual(['a', 'fuzz', 'fuzz-1', 'here']);
  });

  it('find every kind of bad link, and none in code', () => {
    const page = [
      '[ok](README.md) [ok too](#a) [gone](docs/nowhere.md) [no anchor](README.md#nowhere)',
      '[out](../shared/EVAL.md) [web](https://example.org/x) ![img](docs/screenshots/none.png) <https://example.org>',
      '[built](api/dist/main.js) see http://example.com/page, or http://localhost:4000/ which is fine',
      '`[in code](nowhere.md)` and `../shared/data` in code, then /work/shared/PERFORMANCE.md',
      '```sh\n[also code](nowhere.md) https://example.org\n```',
      '[ref]: docs/missing.md',
      '# A',
    ].join('\n');
    const anchors = (abs: string) => (abs.endsWith('x.md') ? anchorsOf(page) : new Set(['quick-start']));
    const exists = (abs: string) => ['README.md', 'x.md', 'api/dist/main.js'].some((f) => abs === path.join(ROOT, f));
    expect(problemsIn('x.md', page, exists, anchors)).toEqual([
      'x.md: links to a missing file: docs/nowhere.md',
      'x.md: links to a missing anchor: README.md#nowhere',
      "x.md: links outside the repository's content: ../shared/EVAL.md",
      'x.md: links outside the repository: https://example.org/x',
      'x.md: links to a missing file: docs/screenshots/none.png',
      "x.md: links outside the repository's content: api/dist/main.js",
      'x.md: links to a missing file: docs/missing.md',
      'x.md: links outside the repository: https://example.org',
      'x.md: links outside the repository: http://example.com/page',
      'x.md: names a path outside the repository: ../shared/EVAL.md',
      'x.md: names a path outside the repository: ../shared/data',
      'x.md: names a path outside the repository: /work/shared/PERFORMANCE.md',
    ]);
  });
});

describe('README.md and docs/', () => {
  const files = markdownFiles();

  it('are read whole: the README, an index and every section of docs/', () => {
    for (const f of ['README.md', 'docs/README.md', 'docs/concepts/ledger.md', 'docs/guides/quick-start.md', 'docs/operations/security.md', 'docs/reference/error-codes.md']) {
      expect(files).toContain(f);
    }
  });

  it('link only to files and headings inside the repository, and name no path beside it', () => {
    const problems = files.flatMap((f) => problemsIn(f, read(path.join(ROOT, f)), existsSync, anchorsAtPath));
    expect(problems).toEqual([]);
  });

  it('keep the README a front page: at most 250 lines, every section of docs/ linked from it', () => {
    const readme = read(path.join(ROOT, 'README.md'));
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    for (const section of ['docs/README.md', 'docs/guides/', 'docs/concepts/', 'docs/operations/', 'docs/reference/']) expect(readme).toContain(`](${section}`);
  });

  it('list every page of docs/ in its index', () => {
    const index = read(path.join(ROOT, 'docs', 'README.md'));
    const linked = new Set(linkTargets(index).map((t) => path.normalize(path.join('docs', t.split('#')[0]))));
    const pages = files.filter((f) => f.startsWith(`docs${path.sep}`) && f !== path.join('docs', 'README.md'));
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });
});

describe('generated reference pages', () => {
  it('match the code: configuration, error codes and events (run npm run docs)', () => {
    for (const [file, expected] of Object.entries(renderReferenceDocs(DISTRIBUTION_PLUGINS))) {
      const committed = existsSync(file) ? read(file) : '(missing)';
      expect({ file: path.relative(ROOT, file), content: committed }).toEqual({ file: path.relative(ROOT, file), content: expected });
    }
  });

  it('document every variable of the config schema, and every event with each payload field', () => {
    const config = read(path.join(ROOT, 'docs/reference/configuration.md'));
    expect(config).toContain('| `DATABASE_URL` | unset | URL |');
    expect(config).toContain('| `PORT` | `4000` | integer 0–65535 |');
    expect(config).toContain('| `WEB_ADMIN_DIR` | `web-admin/dist` |');
    const events = read(path.join(ROOT, 'docs/reference/events.md'));
    expect(events).toContain('## `order.recorded`');
    expect(events).toContain('| `pointsEarned` |');
  });

  it('name every variable the worker reads in docs/operations/configuration.md', () => {
    const page = read(path.join(ROOT, 'docs/operations/configuration.md'));
    const section = page.slice(page.indexOf('## The worker'), page.indexOf('## The tests'));
    const names = Object.keys(workerConfigSchema.shape);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('the GraphQL calls the README and the quick start show', () => {
  const schema = buildSchema(read(path.join(ROOT, 'schema/schema.graphql')));

  /** Each `-d '{ "query": …, "variables": … }'` body of the pages' shell blocks. */
  const calls = (file: string) =>
    [...read(path.join(ROOT, file)).matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap(([, block]) =>
      [...block.matchAll(/-d '(\{[\s\S]*?\})'/g)].map(([, body]) => JSON.parse(body) as { query: string; variables?: Record<string, unknown> }),
    );

  it.each(['README.md', 'docs/guides/quick-start.md'])('in %s are valid against the committed schema, variables included', (file) => {
    const found = calls(file);
    expect(found.length).toBeGreaterThanOrEqual(6);
    for (const { query, variables } of found) {
      const document = parse(query);
      expect({ query, errors: validate(schema, document).map((e) => e.message) }).toEqual({ query, errors: [] });
      const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
      expect({ query, errors: (coerced.errors ?? []).map((e) => e.message) }).toEqual({ query, errors: [] });
    }
  });
});
