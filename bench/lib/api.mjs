import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { API_NODE_FLAGS } from '../../scripts/api-node-flags.mjs';
import { onCleanup } from './cleanup.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const execFileAsync = promisify(execFile);

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Environment shared by the API and its CLIs: production mode, so nothing development-only is measured. */
export function apiEnv({ databaseUrl, port, poolMax }) {
  return {
    ...process.env,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(36).toString('base64url'), // 48 characters
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    DB_POOL_MAX: String(poolMax),
    // The limiter still runs (its Redis round trip is part of every figure); the budgets are out of reach.
    RATE_LIMIT_API_KEY_REQUESTS: '100000000',
    RATE_LIMIT_ADMIN_REQUESTS: '100000000',
  };
}

/** Runs one of the API's compiled CLIs (`api/dist/composition/cli/<name>.js`) and returns its stdout. */
export async function runCli(name, args, env, { timeoutMs = 120_000 } = {}) {
  try {
    const { stdout } = await execFileAsync(process.execPath, [path.join(repoRoot, 'api', 'dist', 'composition', 'cli', `${name}.js`), ...args], {
      cwd: repoRoot,
      env,
      timeout: timeoutMs,
    });
    return stdout;
  } catch (err) {
    const detail = [err.stderr, err.stdout].filter(Boolean).join('\n').trim();
    throw new Error(`${name} failed: ${detail || err.message}`);
  }
}

/**
 * Starts `node [nodeArgs] api/dist/composition/main.js` and waits for GET /readyz = 200. Returns `{ url, stop, logTail, pid }`;
 * its SIGTERM stop is also registered for clean-up (a graceful exit, so `--cpu-prof` in nodeArgs writes its profile).
 */
export async function startApi(env, { readyTimeoutMs = 60_000, nodeArgs = [] } = {}) {
  // BENCH_API_NODE_ARGS: extra Node flags for the API only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS refuses).
  // The API's own flags first, as `npm start` runs it (scripts/api-node-flags.mjs).
  nodeArgs = [...API_NODE_FLAGS, ...nodeArgs, ...(process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, path.join(repoRoot, 'api', 'dist', 'composition', 'main.js')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const stop = onCleanup(`stop API (pid ${child.pid})`, async () => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  });
  const logTail = (n = 40) => lines.slice(-n).join('\n');

  const url = `http://${env.HOST}:${env.PORT}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (hasExited) {
      const { code, signal } = await exited;
      throw new Error(`the API exited before it was ready (code ${code}, signal ${signal}):\n${logTail()}`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the API was not ready within ${readyTimeoutMs / 1000} s:\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop, logTail, pid: child.pid };
}

/** One GraphQL request; returns the parsed JSON body (with `errors` when the API reported any). */
export async function graphql(url, { query, variables, apiKey, token }) {
  const headers = { 'content-type': 'application/json' };
  if (apiKey) headers['x-api-key'] = apiKey;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
  }
}

/** True when validation says the schema has no such field: the feature hasn't landed in this build. */
export function isMissingField(body, field) {
  return (body.errors ?? []).some((e) => (e.message ?? '').startsWith(`Cannot query field "${field}"`));
}

export function describeErrors(body) {
  return (body.errors ?? []).map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
}

/**
 * Resident memory of a process from /proc/<pid>/status, in MB: `rssMb` now (VmRSS) and `peakRssMb`, the most it has
 * held since it started (VmHWM). Null where /proc is not there (not Linux) or the process is gone.
 */
export async function residentMemory(pid) {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1]);
    const mb = (v) => (Number.isFinite(v) ? Math.round((v / 1024) * 10) / 10 : null);
    return { rssMb: mb(kb('VmRSS')), peakRssMb: mb(kb('VmHWM')) };
  } catch {
    return null;
  }
}

let clockTicks;
/**
 * CPU time a process has used so far (user + system, from /proc/<pid>/stat), in milliseconds; null without /proc. The
 * difference across a measured run, divided by its requests, is the CPU each request cost that process: steadier than
 * requests per second on a machine shared with other work.
 */
export async function processCpuMs(pid) {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number((await execFileAsync('getconf', ['CLK_TCK']).catch(() => ({ stdout: '100' }))).stdout) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return null;
  }
}
