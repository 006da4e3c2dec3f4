import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { Arg, Authorized, Ctx, Field, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { expectError, useHarness } from '../support/harness';
import { build, AdminRole } from '../fixtures/build';
import { ledgerCheck, orderInput, RECORD_ORDER } from '../support/orders';
import { databaseUrl, templateName, withAdminClient } from '../support/databases';
import { composePlugins, loadPlugins, PluginError, type LoyaltyPlugin } from '../../api/src/composition/plugin';
import { ConfigError, distributionPlugins, loadConfig } from '../../api/src/base/config';
import type { EarningRuleKindDefinition } from '../../api/src/modules/earning/rule-kinds';
import { EarningStage, type EarningContributor } from '../../api/src/modules/earning/pipeline';
import type { RequestContext } from '../../api/src/graphql/context';
import type { Services } from '../../api/src/composition/services';
import { MAX_POINTS_PER_ORDER } from '../../api/src/base/bounds';
import { migrations as coreMigrations } from '../../api/src/composition/migrations';

const root = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
const NOTES_PLUGIN = './test/fixtures/plugins/notes-plugin.js';

// A plugin with each extension point this suite covers: a table (entity + migration), GraphQL fields, and an
// earning-rule kind whose extraPoints misbehaves on demand.
@ObjectType()
@Entity({ tableName: 'stamps_plugin_stamp' })
class Stamp {
  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id: number;

  @Field(() => String)
  @Property({ type: 'string', length: 100 })
  label: string;
}

class Migration20261206130000_stamps extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "stamps_plugin_stamp" ("id" serial primary key, "label" varchar(100) not null);`);
  }
}

@Resolver()
class StampResolver {
  constructor(private readonly services: Services | null) {}

  @Authorized()
  @Query(() => [Stamp])
  stamps(@Ctx() ctx: RequestContext) {
    return ctx.em.find(Stamp, {}, { orderBy: { id: 'asc' } });
  }

  @Authorized()
  @Query(() => Boolean, { description: 'Whether the resolver was built with the services.' })
  stampsHaveServices() {
    return Boolean(this.services?.earningRules);
  }

  @Authorized('programme:manage')
  @Mutation(() => Stamp)
  async addStamp(@Arg('label', () => String) label: string, @Ctx() ctx: RequestContext) {
    const stamp = ctx.em.create(Stamp, { label });
    await ctx.em.flush();
    return stamp;
  }
}

const MODES = ['fine', 'fraction', 'huge', 'throw', 'nan', 'negative', 'text'] as const;
const oddPoints: EarningRuleKindDefinition<{ mode: (typeof MODES)[number] }> = {
  kind: 'ODD_POINTS',
  label: 'Odd points',
  description: 'Answers what its mode says, good or bad.',
  params: [{ name: 'mode', label: 'Mode', type: 'enum', required: true, options: MODES }],
  extraPoints: ({ params }) => {
    const answers = { fine: 3, fraction: 7.9, huge: 1e15, nan: NaN, negative: -5, text: '12' as unknown as number };
    if (params.mode === 'throw') throw new Error('plugin bug');
    return answers[params.mode];
  },
};

const stampsPlugin: LoyaltyPlugin = {
  name: 'stamps',
  entities: [Stamp],
  migrations: [{ name: 'Migration20261206130000_stamps', class: Migration20261206130000_stamps }],
  resolvers: [StampResolver],
  earningRuleKinds: [oddPoints],
};

describe('plugin composition', () => {
  const kind = (k: string, extra: Partial<EarningRuleKindDefinition> = {}): EarningRuleKindDefinition => ({
    kind: k,
    label: k,
    description: '',
    params: [],
    extraPoints: () => 0,
    ...extra,
  });

  const contributor = (name: string, extra: Partial<EarningContributor> = {}): EarningContributor => ({ name, stage: EarningStage.BONUS + 1, onOrder: () => undefined, ...extra });

  it('refuses a bad plugin list with a message naming the plugin and the problem', () => {
    const refusals: Array<[LoyaltyPlugin[], RegExp]> = [
      [[{ name: 'a' }, { name: 'a' }], /plugin "a" is loaded twice/],
      [[{ name: 'Not Kebab' }], /plugin name "Not Kebab" must be kebab-case/],
      [[{ name: 'x', earningRuleKinds: [kind('BASE_RATE')] }], /plugin "x": earning-rule kind "BASE_RATE" is a built-in kind/],
      [[{ name: 'a', earningRuleKinds: [kind('MINE')] }, { name: 'b', earningRuleKinds: [kind('MINE')] }], /plugin "b": earning-rule kind "MINE" is already registered by plugin "a"/],
      [[{ name: 'x', earningRuleKinds: [kind('lower_case')] }], /plugin "x": earning-rule kind "lower_case": kind must be UPPER_SNAKE/],
      [[{ name: 'x', earningRuleKinds: [kind('UNBOUNDED', { params: [{ name: 'n', label: 'N', type: 'integer' }] })] }], /param "n": an integer param needs whole-number min and max/],
      [[{ name: 'x', earningRuleKinds: [{ ...kind('NO_POINTS'), extraPoints: undefined as never }] }], /"NO_POINTS": extraPoints\(input\) is required/],
      [[{ name: 'x', migrations: [{ name: 'M1', class: Migration20261206130000_stamps }, { name: 'M1', class: Migration20261206130000_stamps }] }], /plugin "x": migration "M1" is listed twice/],
      [[{ name: 'x', earningContributors: [contributor('Bad Name')] }], /plugin "x": earning contributor name "Bad Name" must be lower-case/],
      [[{ name: 'x', earningContributors: [contributor('late', { stage: 'LATE' as never })] }], /plugin "x": earning contributor "late": stage must be a number/],
      [[{ name: 'x', earningContributors: [contributor('nan', { stage: NaN })] }], /"nan": stage must be a number/],
      [[{ name: 'x', earningContributors: [contributor('idle', { onOrder: undefined })] }], /"idle": needs at least one of onOrder, onReturn, onActivity, benefits/],
      [[{ name: 'x', earningContributors: [contributor('odd', { onReturn: 'no' as never })] }], /"odd": onReturn must be a function/],
      [[{ name: 'x', earningContributors: [contributor('reader', { read: { select: 'true' } as never })] }], /"reader": read.parse must be a function/],
      [[{ name: 'a', earningContributors: [contributor('same')] }, { name: 'b', earningContributors: [contributor('same')] }], /plugin "b": earning contributor "same" is already registered by plugin "a"/],
    ];
    for (const [plugins, message] of refusals) {
      expect(() => composePlugins(plugins)).toThrow(PluginError);
      expect(() => composePlugins(plugins)).toThrow(message);
    }
  });

  it("names each plugin's migrations after the plugin, after the core's", () => {
    expect(composePlugins([stampsPlugin]).migrations.map((m) => m.name)).toEqual(['stamps/Migration20261206130000_stamps']);
  });

  it('loads LOYALTY_PLUGINS from paths relative to the working directory, and says which entry cannot be loaded', () => {
    expect(loadConfig({ LOYALTY_PLUGINS: ` ${NOTES_PLUGIN} , ./other.js ` }).LOYALTY_PLUGINS).toEqual([NOTES_PLUGIN, './other.js']);
    // A leading + keeps the distribution's plugins and adds these after them.
    expect(loadConfig({ LOYALTY_PLUGINS: ` + ${NOTES_PLUGIN}, ./other.js` }).LOYALTY_PLUGINS).toEqual([...distributionPlugins(), NOTES_PLUGIN, './other.js']);
    expect(distributionPlugins().length).toBeGreaterThan(0);
    expect(loadConfig({ LOYALTY_PLUGINS: 'none' }).LOYALTY_PLUGINS).toEqual([]);
    expect(() => loadConfig({ LOYALTY_PLUGINS: 'a.js,a.js' })).toThrow(ConfigError);
    expect(() => loadConfig({ LOYALTY_PLUGINS: 'a.js,a.js' })).toThrow(/LOYALTY_PLUGINS: lists a plugin twice/);
    expect(loadPlugins([NOTES_PLUGIN], root).map((p) => p.name)).toEqual(['notes']);
    expect(loadPlugins(['./test/fixtures/plugins/clashing-plugin.js'], root).map((p) => p.name)).toEqual(['clashing']);
    expect(() => loadPlugins(['./nope.js'], root)).toThrow(/LOYALTY_PLUGINS: cannot load "\.\/nope\.js"/);
    expect(() => loadPlugins(['./test/support/databases.ts'], root)).toThrow(/"\.\/test\/support\/databases\.ts" exports no plugin/);
  });

  it("refuses a plugin that would load its own copy of a library the platform shares with it, before loading it", () => {
    const pluginIn = (withOwnGraphql: boolean) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'own-copy-plugin-'));
      writeFileSync(path.join(dir, 'index.js'), `globalThis.__ownCopyLoaded = true; module.exports = { name: 'own-copy' };`);
      if (withOwnGraphql) {
        // As `npm install` in the plugin's own folder leaves it.
        mkdirSync(path.join(dir, 'node_modules', 'graphql'), { recursive: true });
        writeFileSync(path.join(dir, 'node_modules', 'graphql', 'package.json'), JSON.stringify({ name: 'graphql', version: '16.0.0', main: 'index.js' }));
        writeFileSync(path.join(dir, 'node_modules', 'graphql', 'index.js'), 'module.exports = {};');
      }
      return dir;
    };
    // A plugin that finds none of the shared libraries does not use them: it loads; so does one inside the platform's
    // folder, which finds the platform's copies.
    expect(loadPlugins([pluginIn(false)]).map((p) => p.name)).toEqual(['own-copy']);
    expect(loadPlugins(['./examples/brand-bonus-plugin'], root).map((p) => p.name)).toEqual(['brand-bonus']);
    delete (globalThis as { __ownCopyLoaded?: boolean }).__ownCopyLoaded;
    expect(() => loadPlugins([pluginIn(true)])).toThrow(/LOYALTY_PLUGINS: ".*own-copy-plugin-.*" would load its own copy of graphql \(.*own-copy-plugin-.*node_modules\/graphql\/index\.js\), not the platform's/);
    expect((globalThis as { __ownCopyLoaded?: boolean }).__ownCopyLoaded).toBeUndefined();
  });
});

describe('npm run migrate and the API start with LOYALTY_PLUGINS', () => {
  const node = (script: string, env: Record<string, string>) =>
    run(process.execPath, [path.join(root, script)], { cwd: root, env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env } }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  it("applies the core's migrations, then each plugin's under its own name, once", async () => {
    const runId = process.env.TEST_RUN_ID!;
    const name = `${templateName(runId)}_plugin_migrate`;
    await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
    const env = { DATABASE_URL: databaseUrl(name), LOYALTY_PLUGINS: NOTES_PLUGIN };
    const first = await node('api/dist/composition/cli/migrate.js', env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await node('api/dist/composition/cli/migrate.js', env);
    expect(second.code).toBe(0);
    const client = new Client({ connectionString: databaseUrl(name) });
    await client.connect();
    const applied = await client.query<{ name: string }>(`select name from mikro_orm_migrations order by id`);
    const found = await client.query(`select 1 from pg_tables where tablename = 'notes_plugin_note'`);
    await client.end();
    const rows = applied.rows.map((r) => r.name);
    const tables = found.rowCount;
    expect(rows.slice(-2)).toEqual([coreMigrations[coreMigrations.length - 1].name, 'notes/Migration20261206120000_notes']);
    expect(rows.filter((r) => r.startsWith('notes/'))).toHaveLength(1);
    expect(tables).toBe(1);
  });

  it('the API refuses to start with a plugin that cannot load or clashes with the core, saying why', async () => {
    const missing = await node('api/dist/composition/main.js', { LOYALTY_PLUGINS: './nope.js' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`LOYALTY_PLUGINS: cannot load "./nope.js" (from ${root})`);
    const clashing = await node('api/dist/composition/main.js', { LOYALTY_PLUGINS: './test/fixtures/plugins/clashing-plugin.js' });
    expect(clashing.code).toBe(1);
    expect(clashing.stderr).toContain('plugin "clashing": earning-rule kind "BASE_RATE" is a built-in kind');
  });
});

describe('an API with plugins', () => {
  const logLines: string[] = [];
  const notes = loadPlugins([NOTES_PLUGIN], root)[0];
  const h = useHarness({ LOG_LEVEL: 'warn' }, { plugins: [stampsPlugin, notes], logDestination: { write: (line) => void logLines.push(line) } });
  const b = build(h);
  const logged = (msg: string) => logLines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);

  const CREATE = `mutation C($input: EarningRuleInput!) { createEarningRule(input: $input) { id ruleKey version kind params } }`;
  const UPDATE = `mutation U($input: UpdateEarningRuleInput!) { updateEarningRule(input: $input) { id ruleKey version kind params } }`;

  it("applies the plugin's migration and serves its GraphQL fields, built with the services", async () => {
    const [applied] = await h.sql<{ name: string }>(`select name from mikro_orm_migrations where name like 'stamps/%'`);
    expect(applied.name).toBe('stamps/Migration20261206130000_stamps');
    const admin = await b.admin(AdminRole.ADMIN);
    const added = await h.gql(admin.auth, `mutation { addStamp(label: "first") { id label } }`);
    expect(added.errors).toBeUndefined();
    const listed = await h.gql(admin.auth, `{ stamps { label } stampsHaveServices }`);
    expect(listed.data).toEqual({ stamps: [{ label: 'first' }], stampsHaveServices: true });
    const marketer = await b.admin(AdminRole.MARKETER);
    expectError(await h.gql(marketer.auth, `mutation { addStamp(label: "no") { id } }`), 'FORBIDDEN');
  });

  it('keeps operations that write a built-in kind as an enum literal valid, and lists the plugin kinds in the enum', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const res = await h.gql(admin.auth, `mutation { createEarningRule(input: { name: "Literal", kind: BASE_RATE, currency: "EUR", points: 1, perMinor: 100 }) { kind params } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data.createEarningRule).toEqual({ kind: 'BASE_RATE', params: null });
    const enumValues = await h.gql(admin.auth, `{ __type(name: "EarningRuleKind") { enumValues { name } } }`);
    expect(enumValues.data.__type.enumValues.map((v: { name: string }) => v.name)).toEqual(
      ['BASE_RATE', 'CATEGORY_MULTIPLIER', 'PRODUCT_MULTIPLIER', 'CHANNEL_MULTIPLIER', 'BONUS', 'ORDER_CAP', 'DAILY_CAP', 'ODD_POINTS', 'FLAT_TEN'],
    );
  });

  it("refuses arguments in the wrong place for the kind, and a plugin kind's bad param, with BAD_USER_INPUT on their paths", async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    const cases: Array<[Record<string, unknown>, Array<{ path: string; message: string }>]> = [
      [{ kind: 'BASE_RATE', currency: 'GBP', points: 1, perMinor: 100, params: { mode: 'fine' } }, [{ path: 'input.params', message: 'must be left out for BASE_RATE: its arguments are fields of the input' }]],
      [{ kind: 'ODD_POINTS', multiplierPercent: 200, params: { mode: 'fine' } }, [{ path: 'input.multiplierPercent', message: 'must be left out for ODD_POINTS: its arguments go in params' }]],
      [{ kind: 'ODD_POINTS', params: { mode: 'sideways' } }, [{ path: 'input.params.mode', message: 'must be one of fine, fraction, huge, throw, nan, negative, text' }]],
      [{ kind: 'ODD_POINTS', params: ['fine'] }, [{ path: 'input.params', message: 'must be an object' }]],
      [{ kind: 'ODD_POINTS', params: { mode: 7 } }, [{ path: 'input.params.mode', message: 'must be one of fine, fraction, huge, throw, nan, negative, text' }]],
    ];
    for (const [input, fields] of cases) {
      const res = await h.gql(admin.auth, CREATE, { input: { name: 'Wrong', priority: 0, ...input } });
      expect({ input, fields: expectError(res, 'BAD_USER_INPUT').extensions.fields }).toEqual({ input, fields });
    }
  });

  it("credits an order without a plugin rule that throws or answers a bad value, cuts a huge answer, and logs each", async () => {
    await b.baseRate(1, 100);
    const admin = await b.admin(AdminRole.ADMIN);
    const ids: Record<string, { id: string; ruleKey: string }> = {};
    for (const [i, mode] of MODES.entries()) {
      if (mode === 'huge') continue;
      const res = await h.gql(admin.auth, CREATE, { input: { name: `Odd ${mode}`, kind: 'ODD_POINTS', priority: 10 - i, params: { mode } } });
      expect(res.errors).toBeUndefined();
      ids[mode] = res.data.createEarningRule;
    }
    const flat = await h.gql(admin.auth, CREATE, { input: { name: 'Flat ten', kind: 'FLAT_TEN', priority: 0 } });
    expect(flat.data.createEarningRule).toMatchObject({ kind: 'FLAT_TEN', params: {} });

    const member = await b.member().save();
    const web = await b.apiKey();
    const first = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2000 }]) });
    expect(first.errors).toBeUndefined();
    // Registration order: the stamps plugin's kind, then the notes plugin's; within a kind, by priority.
    expect(first.data.recordOrder.pointsBreakdown.map((i: { kind: string; label: string; points: number }) => [i.kind, i.label, i.points])).toEqual([
      ['BASE_RATE', 'Base GBP', 20],
      ['ODD_POINTS', 'Odd fine', 3],
      ['ODD_POINTS', 'Odd fraction', 7],
      ['FLAT_TEN', 'Flat ten', 10],
    ]);
    expect(first.data.recordOrder.pointsEarned).toBe(40);
    const failed = logged('earning.rule_kind_failed');
    expect(failed.map((l) => l.ruleId).sort()).toEqual([ids.throw.id, ids.nan.id, ids.negative.id, ids.text.id].sort());
    expect(failed.find((l) => l.ruleId === ids.negative.id).problem).toBe('returned -5, below 0');

    // A new version of the fine rule answers 10^15: cut to what an order may earn, then the order limit applies.
    const huge = await h.gql(admin.auth, UPDATE, { input: { ruleKey: ids.fine.ruleKey, name: 'Odd huge', kind: 'ODD_POINTS', priority: 10, params: { mode: 'huge' } } });
    expect(huge.data.updateEarningRule).toMatchObject({ version: 2, params: { mode: 'huge' } });
    const second = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 2000 }]) });
    expect(second.errors).toBeUndefined();
    expect(second.data.recordOrder.pointsEarned).toBe(MAX_POINTS_PER_ORDER);
    expect(second.data.recordOrder.pointsBreakdown).toContainEqual({ kind: 'ODD_POINTS', label: 'Odd huge', ruleId: huge.data.updateEarningRule.id, ruleVersion: 2, points: MAX_POINTS_PER_ORDER });
    expect(second.data.recordOrder.pointsBreakdown.at(-1)).toMatchObject({ kind: 'ORDER_LIMIT', points: -(20 + 7 + 10) });
    expect(logged('earning.rule_kind_points_cut')).toHaveLength(1);
    expect((await ledgerCheck(h)).mismatches).toEqual([]);
  });

  it('lists a rule whose kind no plugin registers any more, and credits orders without it', async () => {
    const admin = await b.admin(AdminRole.ADMIN);
    await h.sql(`update earning_rule set is_active = false`);
    await b.baseRate(1, 100);
    await h.sql(
      `insert into earning_rule (id, rule_key, version, name, kind, priority, is_active, created_by, created_at, params)
       values (gen_random_uuid(), gen_random_uuid(), 1, 'From a removed plugin', 'GONE_KIND', 0, true, 'test', now(), '{"x": 1}')`,
    );
    const listed = await h.gql(admin.auth, `{ earningRules { name kind params } }`);
    expect(listed.errors).toBeUndefined();
    expect(listed.data.earningRules).toContainEqual({ name: 'From a removed plugin', kind: 'GONE_KIND', params: { x: 1 } });
    const member = await b.member().save();
    const web = await b.apiKey();
    const res = await h.gql(web.auth, RECORD_ORDER, { input: orderInput(member.id, [{ unitPriceMinor: 1500 }]) });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordOrder.pointsEarned).toBe(15);
    expect(logged('earning.rule_kind_unknown').map((l) => l.kind)).toEqual(['GONE_KIND']);
  });
});
