/**
 * Real PostgreSQL, Redis and S3-compatible servers for tests and benchmarks:
 * each started in a temp dir on a free loopback port, stopped (or SIGKILLed,
 * and started again on the same data and port) by the PID it was started
 * with. PostgreSQL refuses to run as root, so as root its processes run as
 * the `postgres` user (node's `uid`/`gid` spawn options, so the PID is the
 * server's own). The binaries come from the OS (Debian: `apt-get install
 * postgresql redis-server`); `s3rver` comes from npm.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A free loopback port (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 15_000, alive: () => boolean = () => true): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), r(true)));
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`the server meant for port ${port} exited`);
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function findBinary(name: string, dirs: string[]): string {
  for (const d of [...dirs, ...(process.env.PATH ?? '').split(path.delimiter)]) {
    const f = path.join(d, name);
    if (d && existsSync(f)) return f;
  }
  throw new Error(`${name} not found on PATH or in ${dirs.join(', ')}. Install the server (Debian: apt-get install postgresql redis-server)`);
}

function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'));
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** As root, the `postgres` user's ids (PostgreSQL refuses root); otherwise nothing. */
function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root, and there is no "postgres" user for PostgreSQL to run as (Debian: apt-get install postgresql)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** A server process the tests started, restartable on the same data and port. */
export abstract class TestServer {
  proc: ChildProcess | undefined;
  readonly dir: string;
  port = 0;
  private output: string[] = [];

  constructor(prefix: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
    chmodSync(this.dir, 0o755);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  protected abstract command(): { file: string; args: string[]; runAs?: RunAs; env?: NodeJS.ProcessEnv };

  /** Starts the server (again, on the same port and data, after a stop or kill). */
  async start(): Promise<this> {
    if (this.proc) return this;
    if (!this.port) this.port = await freePort();
    const { file, args, runAs, env } = this.command();
    const p = spawn(file, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...runAs });
    this.proc = p;
    let exited = false;
    p.once('exit', () => {
      exited = true;
      if (this.proc === p) this.proc = undefined;
    });
    const keep = (d: Buffer) => {
      this.output.push(String(d));
      if (this.output.length > 50) this.output.shift();
    };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    try {
      await waitForPort(this.port, 20_000, () => !exited);
      await this.ready();
    } catch (e) {
      // Never leave behind a server that did not come up.
      await this.kill();
      throw new Error(`${path.basename(file)} did not start: ${(e as Error).message}\n${this.output.join('').slice(-2000)}`);
    }
    return this;
  }

  /** Waits until the server answers, not only accepts. */
  protected async ready(): Promise<void> {}

  /** SIGKILLs the server (by its PID), as a crash would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 10_000);
  }

  private async signal(sig: NodeJS.Signals, graceMs = 0): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) {
      this.proc = undefined;
      return;
    }
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(sig);
    if (graceMs) {
      const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    } else await exited;
    this.proc = undefined;
    await this.afterExit();
  }

  protected async afterExit(): Promise<void> {}

  /** Stops the server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** PostgreSQL on a temp data dir: user `faultline`, database `faultline`, trust auth on loopback. */
export class PostgresServer extends TestServer {
  private readonly bin: string;
  private readonly runAs = postgresUser();
  private initialized = false;

  constructor() {
    super('faultline-pg-');
    this.bin = path.dirname(findBinary('postgres', postgresBinDirs()));
  }

  get url(): string {
    return `postgres://faultline@127.0.0.1:${this.port}/faultline`;
  }

  /** A URL with a password, for tests of redaction (trust auth ignores it). */
  urlWithPassword(password: string): string {
    return `postgres://faultline:${encodeURIComponent(password)}@127.0.0.1:${this.port}/faultline`;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  override async start(): Promise<this> {
    if (!this.initialized) {
      if (this.runAs.uid !== undefined) chownSync(this.dir, this.runAs.uid, this.runAs.gid!);
      const r = spawnSync(path.join(this.bin, 'initdb'), ['-D', this.data, '-U', 'faultline', '-A', 'trust', '-E', 'UTF8', '--no-sync'], { cwd: this.dir, encoding: 'utf8', ...this.runAs });
      if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout || r.error}`);
      this.initialized = true;
    }
    // After a SIGKILL of the postmaster its backends linger until they
    // notice; until then a new postmaster refuses the data dir.
    const until = Date.now() + 15_000;
    for (;;) {
      try {
        await super.start();
        return this;
      } catch (e) {
        if (Date.now() > until || !/still in use|already running|lock file/i.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  protected command() {
    return {
      file: path.join(this.bin, 'postgres'),
      args: ['-D', this.data, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${this.dir}`, '-c', 'max_connections=200', '-c', 'shared_buffers=128MB'],
      runAs: this.runAs,
      env: { LC_ALL: 'C' },
    };
  }

  protected override async ready(): Promise<void> {
    const psql = path.join(this.bin, 'psql');
    const until = Date.now() + 20_000;
    for (;;) {
      const r = spawnSync(psql, ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'faultline', '-d', 'postgres', '-tAc', "SELECT 1 FROM pg_database WHERE datname = 'faultline'"], { encoding: 'utf8' });
      if (r.status === 0) {
        if (r.stdout.trim() !== '1') {
          const c = spawnSync(psql, ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'faultline', '-d', 'postgres', '-c', 'CREATE DATABASE faultline'], { encoding: 'utf8' });
          if (c.status !== 0) throw new Error(`CREATE DATABASE failed: ${c.stderr}`);
        }
        return;
      }
      if (Date.now() > until) throw new Error(`psql cannot connect: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** Runs SQL with psql; returns its unaligned output. */
  psql(sql: string): string {
    const r = spawnSync(path.join(this.bin, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'faultline', '-d', 'faultline', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout.trim();
  }
}

/** Redis with an append-only file (`appendfsync` as asked, default everysec), no RDB snapshots. */
export class RedisServer extends TestServer {
  private readonly bin = findBinary('redis-server', []);

  constructor(private readonly opts: { appendfsync?: 'always' | 'everysec' | 'no'; appendonly?: boolean } = {}) {
    super('faultline-redis-');
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  protected command() {
    return {
      file: this.bin,
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', this.opts.appendonly === false ? 'no' : 'yes', '--appendfsync', this.opts.appendfsync ?? 'everysec', '--protected-mode', 'no'],
    };
  }
}

/** s3rver (an S3-compatible server from npm) in its own node process, with one bucket. */
export class S3Server extends TestServer {
  constructor(readonly bucket = 'faultline') {
    super('faultline-s3-');
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The `checkpoints.blobs` config for this server (credentials from the named env vars). */
  blobsConfig(thresholdBytes = 1024) {
    return { store: 's3' as const, endpoint: this.endpoint, bucket: this.bucket, region: 'us-east-1', forcePathStyle: true, accessKeyIdEnv: 'FAULTLINE_TEST_S3_KEY', secretAccessKeyEnv: 'FAULTLINE_TEST_S3_SECRET', thresholdBytes };
  }

  /** Credentials s3rver accepts, for the env vars `blobsConfig` names. */
  static readonly env = { FAULTLINE_TEST_S3_KEY: 'S3RVER', FAULTLINE_TEST_S3_SECRET: 'S3RVER' };

  protected command() {
    return { file: process.execPath, args: [path.join(here, 's3rver-main.mjs'), String(this.port), path.join(this.dir, 'data'), this.bucket] };
  }
}
