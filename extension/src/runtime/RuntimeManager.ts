/**
 * The extension's supervisor of the runtime: attaches to a running one
 * (runtime.json) or spawns `faultline up` under the user's Node, connects
 * with the token, reconnects with backoff when the socket drops, and starts
 * the runtime again when it dies (at most `limit` times a minute).
 */
import type { RuntimeFile } from '../../../runtime/protocol/runtimeFile.ts';
import { ControlClient } from './ControlClient.ts';
import { Reconnector } from './Reconnector.ts';
import { RuntimeProcess, RuntimeStartError } from './RuntimeProcess.ts';
import { backoffDelay, RestartBudget, RESTART_BACKOFF } from './backoff.ts';
import { findRunningRuntime, processAlive, readRuntimeFile } from './runtimeFile.ts';
import { resolveRuntime, type RuntimePackage } from './resolveRuntime.ts';
import { installBundledRuntime, installedBundledRuntime } from './bundledInstall.ts';
import { Emitter } from '../util/emitter.ts';
import { redact, type Log } from '../util/log.ts';
import { realTimers, type Timers } from '../util/timers.ts';

export type RuntimeState = 'stopped' | 'starting' | 'connected' | 'reconnecting' | 'failed';

export interface RuntimeSettings {
  nodePath: string;
  runtimePath: string;
  startTimeoutMs: number;
  restartOnExit: boolean;
}

export interface RuntimeManagerDeps {
  configFile: string;
  settings: () => RuntimeSettings;
  bundledDir: string;
  storageDir: string;
  log: Log;
  /** Runs the slow first install of the bundled runtime under a progress UI. */
  withInstallProgress: <T>(task: (report: (line: string) => void) => Promise<T>) => Promise<T>;
  /** Tells the user about a failure they can act on. */
  notifyError: (message: string) => void;
  timers?: Timers;
}

/** What the Agents view says while the bundled runtime installs on first start. */
export function installingMessage(step: string): string {
  return `Installing the Faultline runtime… ${step}`;
}

export interface StartOptions {
  /** Extra `faultline up` flags (the debugger's `--inspect-agents`). */
  extraArgs?: string[];
  /** Spawn even when a runtime is already running (after stopping ours). */
  spawnOnly?: boolean;
}

export class RuntimeManager {
  private readonly states = new Emitter<RuntimeState>();
  private readonly connects = new Emitter<ControlClient>();
  private readonly installs = new Emitter<string | undefined>();
  readonly onState = this.states.event;
  /** Fires with each new connection (first connect and every reconnect). */
  readonly onConnect = this.connects.event;
  /** Fires with `installing` as it changes: what the first-start install is doing, then undefined. */
  readonly onInstalling = this.installs.event;
  private _installing?: string;
  private _state: RuntimeState = 'stopped';
  private _client?: ControlClient;
  private owned?: RuntimeProcess;
  private file?: RuntimeFile;
  private lastStart?: StartOptions;
  private wanted = false;
  private starting?: Promise<void>;
  private restartTimer: unknown;
  private restartAttempt = 0;
  private readonly budget = new RestartBudget(5, 60_000);
  private readonly reconnector: Reconnector;
  private readonly timers: Timers;
  package?: RuntimePackage;

  constructor(private readonly d: RuntimeManagerDeps) {
    this.timers = d.timers ?? realTimers;
    this.reconnector = new Reconnector(() => this.reconnectOnce(), {
      timers: this.timers,
      onRetry: (n, ms) => d.log.debug(`reconnect attempt ${n} failed; next in ${ms} ms`),
    });
  }

  get state(): RuntimeState {
    return this._state;
  }
  get client(): ControlClient | undefined {
    return this._client?.open ? this._client : undefined;
  }
  /** The runtime's OS pid (ours or the one we attached to). */
  get pid(): number | undefined {
    return this.file?.pid ?? this.owned?.pid;
  }
  get ownsProcess(): boolean {
    return !!this.owned?.running;
  }
  get runtimeFile(): RuntimeFile | undefined {
    return this.file;
  }
  get configFile(): string {
    return this.d.configFile;
  }
  /** While the bundled runtime installs (first start): what it is doing, as the Agents view says it. */
  get installing(): string | undefined {
    return this._installing;
  }

  private setInstalling(text: string | undefined) {
    if (text === this._installing) return;
    this._installing = text;
    this.installs.fire(text);
  }

  private setState(s: RuntimeState) {
    if (s === this._state) return;
    this._state = s;
    this.d.log.debug(`runtime: ${s}`);
    this.states.fire(s);
  }

  /** Attaches to a running runtime or spawns one; resolves once connected. */
  start(o: StartOptions = {}): Promise<void> {
    this.wanted = true;
    this.lastStart = o;
    this.starting ??= this.doStart(o).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(o: StartOptions) {
    this.setState('starting');
    try {
      const running = o.spawnOnly ? undefined : await findRunningRuntime(this.d.configFile);
      if (running) {
        this.d.log.info(`attaching to the running runtime (pid ${running.pid}, ${running.url})`);
        await this.connect(running);
        return;
      }
      await this.spawn(o);
    } catch (e) {
      this.setState('failed');
      throw e;
    }
  }

  private async resolvePackage(): Promise<RuntimePackage> {
    const s = this.d.settings();
    const pkg = resolveRuntime({ configFile: this.d.configFile, settingPath: s.runtimePath || undefined, bundledDir: this.d.bundledDir });
    if (!pkg) throw new Error('No Faultline runtime found: add it to the workspace (npm i -D faultline) or reinstall the extension (its bundled runtime is missing).');
    if (pkg.kind !== 'bundled') return pkg;
    const bundled = { bundled: pkg, storageDir: this.d.storageDir, nodePath: s.nodePath };
    const ready = await installedBundledRuntime(bundled);
    if (ready) return ready;
    this.setInstalling(installingMessage('first start'));
    try {
      return await this.d.withInstallProgress((report) =>
        installBundledRuntime({
          ...bundled,
          log: this.d.log,
          progress: (line) => {
            this.setInstalling(installingMessage(line));
            report(line);
          },
        }),
      );
    } finally {
      this.setInstalling(undefined);
    }
  }

  private async spawn(o: StartOptions) {
    const s = this.d.settings();
    const pkg = await this.resolvePackage();
    this.package = pkg;
    this.d.log.info(`starting the runtime: ${s.nodePath} ${pkg.cli} up --config ${this.d.configFile}${o.extraArgs?.length ? ' ' + o.extraArgs.join(' ') : ''} (${pkg.kind} faultline ${pkg.version})`);
    const proc = new RuntimeProcess({ nodePath: s.nodePath, cli: pkg.cli, configFile: this.d.configFile, extraArgs: o.extraArgs, startTimeoutMs: s.startTimeoutMs });
    this.owned = proc;
    proc.onLine(({ stream, line }) => {
      if (!line.trim()) return;
      const text = `[runtime] ${redact(line)}`;
      if (stream === 'stderr') this.d.log.warn(text);
      else this.d.log.info(text);
    });
    proc.onExit(({ code, signal, expected }) => this.onProcessExit(proc, code, signal, expected));
    const { port, pid } = await proc.start();
    this.d.log.info(`runtime pid ${pid} listening on 127.0.0.1:${port}`);
    const file = await readRuntimeFile(this.d.configFile);
    if (!file || file.pid !== pid) throw new Error(`The runtime (pid ${pid}) listens on ${port} but wrote no runtime.json of its own beside ${this.d.configFile}.`);
    await this.connect(file);
  }

  private async connect(file: RuntimeFile) {
    const client = await ControlClient.connect(file);
    this._client?.close();
    this._client = client;
    this.file = file;
    this.reconnector.stop();
    client.onClose(() => {
      if (this._client !== client) return;
      this._client = undefined;
      if (!this.wanted) return;
      this.d.log.warn('the connection to the runtime dropped; reconnecting with backoff');
      this.setState('reconnecting');
      this.reconnector.start();
    });
    this.restartAttempt = 0;
    this.setState('connected');
    this.connects.fire(client);
  }

  /** Someone is already bringing a runtime back: a restart is scheduled or a start is under way. */
  private get recovering(): boolean {
    return this.restartTimer !== undefined || !!this.starting;
  }

  /** One reconnect try: the runtime may have moved to another port after a restart. */
  private async reconnectOnce(): Promise<boolean> {
    if (!this.wanted || this.recovering) return true;
    const file = await readRuntimeFile(this.d.configFile);
    // Our own runtime may have died while we read: its exit schedules the restart, not this.
    if (!this.wanted || this.recovering || !this.reconnector.active) return true;
    if (file && processAlive(file.pid)) {
      await this.connect(file);
      return true;
    }
    // An attached runtime that died is not restarted by its owner: start one (or attach to whoever replaced it).
    if (!this.owned && this.d.settings().restartOnExit) {
      this.d.log.warn('the runtime we attached to is gone; starting one');
      this.file = undefined;
      void this.start({ ...this.lastStart, spawnOnly: false }).catch((e) => this.d.log.error(`cannot start the runtime: ${(e as Error).message}`));
      return true;
    }
    return false;
  }

  private onProcessExit(proc: RuntimeProcess, code: number | null, signal: NodeJS.Signals | null, expected: boolean) {
    if (this.owned !== proc) return;
    this.owned = undefined;
    this.file = undefined;
    this.reconnector.stop();
    // A runtime that never got ready is reported by the start() that spawned it.
    if (proc.port === undefined) return;
    if (expected || !this.wanted) {
      this.d.log.info(`runtime stopped (${signal ?? `exit code ${code}`})`);
      return;
    }
    this.d.log.error(`the runtime died (${signal ?? `exit code ${code}`})`);
    this.scheduleRestart();
  }

  private scheduleRestart() {
    if (!this.d.settings().restartOnExit) {
      this.setState('stopped');
      return;
    }
    if (!this.budget.take(this.timers.now())) {
      this.setState('failed');
      this.d.notifyError(`The Faultline runtime died ${this.budget.limit} times within a minute; not restarting it. See the Faultline output.`);
      return;
    }
    const delay = backoffDelay(this.restartAttempt++, RESTART_BACKOFF);
    this.d.log.warn(`restarting the runtime in ${delay} ms`);
    this.setState('reconnecting');
    this.restartTimer = this.timers.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.wanted || this.state === 'connected') return;
      // Not spawnOnly: if someone else (a drill, `faultline up`) restarted it meanwhile, attach to theirs.
      this.start({ ...this.lastStart, spawnOnly: false }).catch((e) => {
        this.d.log.error(`restart failed: ${(e as Error).message}`);
        // Exit code 2 is a bad config: restarting cannot help until the user edits it.
        if (e instanceof RuntimeStartError && e.exitCode === 2) {
          this.d.notifyError('The Faultline runtime refused the config (exit code 2); see the Faultline output for the JSON path of each problem.');
          return;
        }
        if (this.wanted) this.scheduleRestart();
      });
    }, delay);
  }

  /**
   * Stops the runtime we spawned; an attached one is asked to shut down only
   * when `evenIfAttached` (the user's Stop command), never on deactivate.
   */
  async stop(o: { evenIfAttached?: boolean } = {}): Promise<void> {
    this.wanted = false;
    this.reconnector.stop();
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.starting?.catch(() => {});
    const client = this._client;
    const proc = this.owned;
    if (proc) {
      await proc.stop();
    } else if (o.evenIfAttached && client?.open) {
      await client.call('shutdown', {}, 10_000).catch(() => {});
      const pid = this.file?.pid;
      for (let i = 0; pid && i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    }
    this._client = undefined;
    client?.close();
    this.file = undefined;
    this.setState('stopped');
  }

  /**
   * The Node and CLI for `faultline …` commands beside the runtime (a drill
   * that kills the runtime runs from there): the package we spawned, else
   * the one we would spawn.
   */
  async cli(): Promise<{ nodePath: string; cli: string }> {
    this.package ??= await this.resolvePackage();
    return { nodePath: this.d.settings().nodePath, cli: this.package.cli };
  }

  async restart(o: StartOptions = {}): Promise<void> {
    await this.stop({ evenIfAttached: true });
    this.budget.reset();
    await this.start({ ...o, spawnOnly: true });
  }

  dispose(): void {
    this.wanted = false;
    this.reconnector.stop();
    if (this.restartTimer !== undefined) this.timers.clearTimeout(this.restartTimer);
    this._client?.close();
    this.owned?.dispose();
    this.states.dispose();
    this.connects.dispose();
    this.installs.dispose();
  }
}
