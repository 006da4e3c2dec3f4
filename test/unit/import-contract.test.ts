/**
 * The admin app's import page reads the REST import API (api/src/composition/import-routes.ts) through its own copy of
 * the job's shape (web-admin/src/import/imports-api.ts): the apps import nothing from each other. As the committed SDL
 * does for GraphQL, this test fails when the two copies drift: a field added, renamed or retyped on one side only.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { CANONICAL_COLUMNS, REQUIRED_COLUMNS } from '../../api/src/modules/import/source';

const repo = path.resolve(__dirname, '..', '..');

/** Each interface's members (name → type as written, `?` when optional), each type alias's text, each const's elements. */
function declarations(file: string) {
  const source = ts.createSourceFile(file, readFileSync(path.join(repo, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const interfaces = new Map<string, Map<string, string>>();
  const aliases = new Map<string, string>();
  const arrays = new Map<string, string[]>();
  source.forEachChild(function visit(node) {
    if (ts.isInterfaceDeclaration(node)) {
      const members = new Map<string, string>();
      for (const m of node.members) {
        if (ts.isPropertySignature(m) && m.type) members.set(m.name.getText(source), `${m.questionToken ? '?' : ''}${m.type.getText(source).replace(/\s+/g, ' ')}`);
      }
      interfaces.set(node.name.text, members);
    } else if (ts.isTypeAliasDeclaration(node)) {
      aliases.set(node.name.text, node.type.getText(source).replace(/\s+/g, ' '));
    } else if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) {
        let init = d.initializer;
        while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init))) init = init.expression;
        if (init && ts.isArrayLiteralExpression(init)) arrays.set(d.name.getText(source), init.elements.map((e) => (ts.isStringLiteral(e) ? e.text : e.getText(source))));
      }
    }
    node.forEachChild(visit);
  });
  return { interfaces, aliases, arrays };
}

const api = {
  jobs: declarations('api/src/modules/import/import-jobs.ts'),
  importer: declarations('api/src/modules/import/importer.ts'),
};
const web = declarations('web-admin/src/import/imports-api.ts');
const members = (m: Map<string, string> | undefined) => Object.fromEntries(m ?? []);

describe('the import API and the admin app agree on its shapes', () => {
  it('a job has the same fields, of the same types, on both sides', () => {
    const apiJob = members(api.jobs.interfaces.get('ImportJob'));
    expect(Object.keys(apiJob).length).toBeGreaterThan(20);
    // The column type is named CanonicalColumn on both sides; everything else is written the same way.
    expect(members(web.interfaces.get('ImportJob'))).toEqual(apiJob);
    expect(web.aliases.get('ImportState')).toBe(api.jobs.aliases.get('ImportState'));
  });

  it('the settings the page sends are the ones the API stores, batchInvoices optional on the way in', () => {
    const apiSettings = members(api.jobs.interfaces.get('ImportSettings'));
    const webSettings = members(web.interfaces.get('ImportSettings'));
    expect(Object.keys(webSettings).sort()).toEqual(Object.keys(apiSettings).sort());
    expect(webSettings).toMatchObject({ map: apiSettings.map, channelName: apiSettings.channelName, currency: apiSettings.currency, batchInvoices: `?${apiSettings.batchInvoices}` });
    // The API's SalesChannelKind is a string on the page, which offers its values in a select.
    expect(webSettings.channelKind).toBe('string');
  });

  it("the summary the page reads is part of the importer's, with the same types", () => {
    const apiSummary = members(api.importer.interfaces.get('ImportSummary'));
    const webSummary = members(web.interfaces.get('ImportSummary'));
    expect(Object.keys(webSummary).length).toBeGreaterThan(5);
    for (const [name, type] of Object.entries(webSummary)) expect([name, apiSummary[name]]).toEqual([name, type]);
  });

  it('the canonical columns, and which may be missing, are the same', () => {
    expect(web.arrays.get('canonicalColumns')).toEqual([...CANONICAL_COLUMNS]);
    expect(web.arrays.get('optionalColumns')).toEqual(CANONICAL_COLUMNS.filter((c) => !REQUIRED_COLUMNS.includes(c)));
  });
});
