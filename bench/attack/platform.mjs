// The platform under attack when the script starts it itself: a fresh PostgreSQL database, a redis-server of its
// own, and `npm start` (scripts/start.mjs: build, migrations, demo seed, API and worker) on free ports. Everything
// is registered for clean-up (bench/lib/cleanup.mjs) the moment it exists.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { freePort, repoRoot, startApi } from '../lib/api.mjs';
import { onCleanup } from '../lib/cleanup.mjs';
import { withClient } from '../lib/postgres.mjs';

const quoteIdent = (name) => `"${name.replaceAll('"', '""')}"`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function databaseUrlFor(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh database on the server, dropped at clean-up (WITH FORCE: a platform killed mid-run may still hold it). */
export async function createDatabase(serverUrl, name) {
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  onCleanup(`drop database ${name}`, () => withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)));
  return databaseUrlFor(serverUrl, name);
}

/** True if something answers PING on the port. */
export function pingRedis(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(String(chunk).startsWith('+PONG')));
  });
}

/**
 * A redis-server of our own, in memory only (`--save "" --appendonly no`), so that a restart comes back empty.
 * `restart()` stops it and starts a new one on the same port.
 */
export async function startRedis(port, logFile) {
  const out = createWriteStream(logFile, { flags: 'a' });
  let child = null;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const spawnError = new Promise((_, reject) => child.once('error', reject));
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([pingRedis(port), spawnError]))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s (log: ${logFile})`);
      await sleep(100);
    }
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  onCleanup(`stop redis-server on port ${port}`, stop);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}

/** Pids of every live descendant of `pid` (from /proc), children before grandchildren. */
function descendants(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) parents.set(ppid, []);
      parents.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of parents.get(queue.shift()) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
};

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm start` (or, with `noBuild`, node scripts/start.mjs on the existing build) with the given environment.
 * Resolves once it prints its banner, with the demo admin login and channel key it printed, and `errorsByRequestId`:
 * the API's own log of each INTERNAL_SERVER_ERROR's cause, for the report.
 */
export async function npmStart(env, { logFile, noBuild = false, readyTimeoutMs = 15 * 60_000 }) {
  const [command, args] = noBuild ? [process.execPath, ['scripts/start.mjs']] : ['npm', ['start']];
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = createWriteStream(logFile);
  const tail = [];
  const errorsByRequestId = new Map();
  const banner = {};
  let isReady = false;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit = null;
  void exited.then((e) => (exit = e));

  const take = (line) => {
    out.write(`${line}\n`);
    tail.push(line);
    if (tail.length > 60) tail.shift();
    const login = /Admin login: (\S+) \/ (\S+)/.exec(line);
    if (login) [banner.adminEmail, banner.adminPassword] = [login[1], login[2]];
    const key = /Demo channel API key \((.*)\): (lk_\S+)/.exec(line);
    if (key) [banner.channelName, banner.apiKey] = [key[1], key[2]];
    if (line.includes('Press Ctrl-C to stop')) isReady = true;
    // The API's log of an unexpected error, as start.mjs prints it: `api     | error graphql.unexpected_error {...}`.
    const unexpected = /graphql\.unexpected_error (\{.*\})/.exec(line);
    if (unexpected) {
      try {
        const fields = JSON.parse(unexpected[1]);
        if (fields.requestId) errorsByRequestId.set(fields.requestId, String(fields.err ?? '').slice(0, 2000));
      } catch {
        // a line cut short
      }
    }
  };
  readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', take);
  readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', take);

  // Children of start.mjs live in their own process groups: remember the services (API, worker) by pid and command
  // line, so that none outlives a launcher that died; only a pid still running the same command is ever killed.
  const services = new Map();
  const isService = (line) => line.includes(path.join(repoRoot, 'api', 'dist', 'composition', 'main.js')) || line.includes(path.join(repoRoot, 'recommender', 'dist', 'main.js'));
  const remember = () => {
    for (const pid of descendants(child.pid)) {
      const line = cmdline(pid);
      if (isService(line)) services.set(pid, line);
    }
  };
  const watcher = setInterval(remember, 1000);

  const stop = onCleanup(`stop npm start (pid ${child.pid})`, async () => {
    clearInterval(watcher);
    remember();
    if (exit === null) {
      // SIGTERM to the launcher alone: it stops the API and worker in order. npm would forward a group signal as
      // a second one, which the launcher treats as "force".
      const launcher = descendants(child.pid).find((pid) => cmdline(pid).includes('scripts/start.mjs')) ?? child.pid;
      try {
        process.kill(launcher, 'SIGTERM');
      } catch {
        // already gone
      }
      const timedOut = await Promise.race([exited.then(() => false), sleep(40_000).then(() => true)]);
      if (timedOut) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    for (const [pid, line] of services) {
      if (isAlive(pid) && cmdline(pid) === line) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    out.end();
  });

  const deadline = Date.now() + readyTimeoutMs;
  while (!isReady) {
    if (exit) throw new Error(`npm start exited (${exit.signal ?? `code ${exit.code}`}) before the platform was ready. Its last lines:\n${tail.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`npm start was not ready within ${readyTimeoutMs / 60000} min. Its last lines:\n${tail.join('\n')}`);
    await sleep(250);
  }
  return { banner, errorsByRequestId, stop, tail: () => tail.join('\n') };
}

/**
 * Starts the whole platform for the attack and returns what the attack needs to reach it. `serverUrl` is the
 * PostgreSQL server (a database is created on it).
 */
export async function startOwnPlatform({ serverUrl, tmpDir, noBuild, log }) {
  const stamp = new Date().toISOString().replace(/[-:T.Z]/g, '').slice(0, 14);
  const dbName = `loyalty_attack_${stamp}_${randomBytes(2).toString('hex')}`;
  log(`creating database ${dbName}`);
  const databaseUrl = await createDatabase(serverUrl, dbName);
  const redisPort = await freePort();
  log(`starting redis-server on port ${redisPort}`);
  const redis = await startRedis(redisPort, path.join(tmpDir, 'redis.log'));
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redis.url, PORT: String(port), SEED_DEMO: 'true', LOG_LEVEL: 'warn' };
  delete env.NODE_ENV;
  const logFile = path.join(tmpDir, 'npm-start.log');
  log(`${noBuild ? 'node scripts/start.mjs' : 'npm start'} on port ${port} (output: ${logFile}); the build takes a minute or two`);
  const started = Date.now();
  const platform = await npmStart(env, { logFile, noBuild });
  log(`platform ready after ${Math.round((Date.now() - started) / 1000)} s`);
  if (!platform.banner.adminEmail || !platform.banner.apiKey) throw new Error(`npm start printed no demo credentials. Its last lines:\n${platform.tail()}`);
  return {
    url: `http://127.0.0.1:${port}`,
    databaseUrl,
    databaseName: dbName,
    redis,
    admin: { email: platform.banner.adminEmail, password: platform.banner.adminPassword },
    demoKey: platform.banner.apiKey,
    demoChannelName: platform.banner.channelName,
    errorsByRequestId: platform.errorsByRequestId,
    startSeconds: Math.round((Date.now() - started) / 1000),
    logFile,
    isOwn: true,
  };
}

/**
 * A second API process on the same database and Redis in production mode (NODE_ENV=production, a JWT_SECRET we
 * know), for what only production promises: no introspection, no details in errors, forged tokens refused. It runs
 * no scheduled work of its own.
 */
export async function startProductionApi({ databaseUrl, redisUrl }) {
  const port = await freePort();
  const jwtSecret = randomBytes(36).toString('base64url');
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    JWT_SECRET: jwtSecret,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    POINTS_JOBS_CRON: 'off',
    WEBHOOKS_ENABLED: 'false',
    CAMPAIGNS_SWEEP_MS: '0',
    RATE_LIMIT_KEY_PREFIX: 'rl-attack-prod',
  };
  const api = await startApi(env);
  return { url: api.url, jwtSecret, stop: api.stop, logTail: api.logTail };
}
