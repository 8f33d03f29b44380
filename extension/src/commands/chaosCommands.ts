/**
 * Start / Stop Chaos Monkey…: the runtime's own seeded chaos monkey
 * (`chaos.start` / `chaos.stop` / `chaos.status`, the same one `faultline
 * chaos` and drills use), which kills agents matching a glob at random
 * intervals for a while. A runtime that predates those methods gets the
 * extension's fallback loop (ChaosMonkey.ts), which kills through `inject`.
 */
import type * as vscode from 'vscode';
import { RpcErrorCode, type Methods } from '../../../runtime/protocol/rpc.ts';
import { agentsOf } from '../../../runtime/protocol/status.ts';
import type { LogEvent } from '../../../runtime/protocol/events.ts';
import { RuntimeRpcError } from '../runtime/ControlClient.ts';
import { Emitter } from '../util/emitter.ts';
import { ChaosMonkey } from './ChaosMonkey.ts';
import { clientOf, register, type CommandContext } from './CommandContext.ts';
import { inject } from './inject.ts';

/** What Start Chaos Monkey… takes from its quick picks, or from a caller (tests, other extensions). */
export interface ChaosRequest {
  /** Mean time between kills. */
  intervalMs: number;
  /** How long it runs unless stopped; the runtime allows at most an hour. */
  durationMs?: number;
  /** Which agents: a glob (`*` is any run of characters); default all. */
  targets?: string;
  seed?: number;
}

export interface ChaosStarted {
  /** `runtime`: the runtime's monkey; `extension`: the fallback loop. */
  mode: 'runtime' | 'extension';
  seed?: number;
  targets?: string[];
  schedule?: Methods['chaos.start']['result']['schedule'];
}

const HOUR = 3_600_000;
const DURATIONS = [
  { label: '1 minute', ms: 60_000 },
  { label: '5 minutes', ms: 5 * 60_000 },
  { label: '15 minutes', ms: 15 * 60_000 },
  { label: '1 hour', ms: HOUR, description: 'the longest the runtime allows; Stop Chaos Monkey ends it sooner' },
];

const notFound = (e: unknown) => e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound;

export class ChaosControl implements vscode.Disposable {
  private mode?: ChaosStarted['mode'];
  private _running = false;
  private syncing?: Promise<void>;
  private readonly changed = new Emitter<boolean>();
  /** Fires when the monkey starts or stops (also on its own, when its time is up). */
  readonly onDidChange = this.changed.event;
  readonly fallback: ChaosMonkey;

  constructor(private readonly ctx: CommandContext) {
    this.fallback = new ChaosMonkey(
      () => ctx.model.snapshot.status,
      (spec) => inject(ctx, spec),
      (e) => ctx.log.warn(`chaos monkey: ${e.message}`),
    );
  }

  get running(): boolean {
    return this._running;
  }

  private set(running: boolean, mode = this.mode) {
    this.mode = running ? mode : undefined;
    if (running === this._running) return;
    this._running = running;
    void this.ctx.vs.commands.executeCommand('setContext', 'faultline.chaos', running);
    this.changed.fire(running);
  }

  async start(r: ChaosRequest): Promise<ChaosStarted> {
    const client = clientOf(this.ctx);
    const durationMs = Math.min(r.durationMs ?? HOUR, HOUR);
    try {
      const res = await client.call('chaos.start', { intervalMs: Math.round(r.intervalMs), durationMs: Math.round(durationMs), ...(r.seed !== undefined ? { seed: r.seed } : {}), ...(r.targets ? { targets: r.targets } : {}) });
      this.set(true, 'runtime');
      this.ctx.log.info(`chaos monkey (runtime) started: seed ${res.seed}, ${res.schedule.length} kills over ${durationMs} ms among ${res.targets.join(', ')}`);
      return { mode: 'runtime', ...res };
    } catch (e) {
      if (!notFound(e)) throw e;
    }
    this.ctx.log.info('chaos monkey: this runtime has no chaos.start; the extension kills agents itself');
    this.fallback.start({ intervalMs: r.intervalMs, durationMs, faults: ['kill'], targets: r.targets });
    this.set(true, 'extension');
    return { mode: 'extension' };
  }

  /** Stops whichever monkey runs; resolves with the kills it made. */
  async stop(): Promise<{ stopped: boolean; kills: number }> {
    if (this.fallback.active || this.mode === 'extension') {
      this.fallback.stop();
      this.set(false);
      return { stopped: true, kills: this.fallback.injected };
    }
    const client = this.ctx.manager()?.client;
    if (!client) {
      this.set(false);
      return { stopped: false, kills: 0 };
    }
    try {
      const r = await client.call('chaos.stop', {});
      this.set(false);
      return r;
    } catch (e) {
      if (!notFound(e)) throw e;
      this.set(false);
      return { stopped: false, kills: 0 };
    }
  }

  /** Asks the runtime whether its monkey runs (after a connect, or when it logs that it finished). */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      if (this.fallback.active) return;
      const client = this.ctx.manager()?.client;
      if (!client) return this.set(false);
      try {
        const s = await client.call('chaos.status', {});
        this.set(s.running, 'runtime');
      } catch (e) {
        if (notFound(e)) this.set(false);
        else this.ctx.log.debug(`chaos.status: ${(e as Error).message}`);
      }
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** The runtime's monkey logs each kill and its end with a `chaos` field. */
  onLog(l: LogEvent): void {
    if (l.chaos !== undefined && this._running && /chaos: done/.test(String(l.msg))) void this.sync();
  }

  dispose(): void {
    this.fallback.stop();
    this.changed.dispose();
  }
}

/** Asks which agents, how often and for how long; undefined when the user cancels. */
async function askChaos(ctx: CommandContext): Promise<ChaosRequest | undefined> {
  const { vs } = ctx;
  const status = ctx.model.snapshot.status;
  if (!status) throw new Error('The Faultline runtime is not connected.');
  const agents = agentsOf(status.tree);
  const who = await vs.window.showQuickPick(
    [
      { label: 'All agents', description: '*', detail: agents.map((a) => a.id).join(', '), glob: '*' as string | undefined },
      ...agents.map((a) => ({ label: a.id, description: `${a.state} · ${a.isolation}`, detail: undefined, glob: a.id as string | undefined })),
      { label: '$(filter) Agents matching a pattern…', description: 'a glob: * matches any run of characters', detail: undefined, glob: undefined },
    ],
    { title: 'Chaos Monkey (1/3): kill which agents?' },
  );
  if (!who) return undefined;
  const targets = who.glob ?? (await vs.window.showInputBox({ title: 'Chaos Monkey: agents matching', value: '*', prompt: 'e.g. re* or *er' }));
  if (!targets) return undefined;
  const interval = await vs.window.showInputBox({
    title: 'Chaos Monkey (2/3): mean time between kills (ms)',
    value: String(vs.workspace.getConfiguration('faultline').get<number>('chaos.intervalMs', 10_000)),
    validateInput: (s) => (Number.isInteger(Number(s)) && Number(s) >= 100 ? undefined : 'A whole number of milliseconds, at least 100'),
  });
  if (!interval) return undefined;
  const how = await vs.window.showQuickPick(DURATIONS, { title: 'Chaos Monkey (3/3): for how long?' });
  if (!how) return undefined;
  return { targets, intervalMs: Number(interval), durationMs: how.ms };
}

export function chaosCommands(ctx: CommandContext): { disposables: vscode.Disposable[]; control: ChaosControl } {
  const { vs } = ctx;
  const control = new ChaosControl(ctx);
  const disposables = [
    register(ctx, 'faultline.startChaos', 'Cannot start the chaos monkey', async (given?: ChaosRequest): Promise<ChaosStarted | undefined> => {
      const r = given ?? (await askChaos(ctx));
      if (!r) return undefined;
      const started = await control.start(r);
      const every = r.intervalMs >= 1000 ? `${Math.round(r.intervalMs / 100) / 10} s` : `${r.intervalMs} ms`;
      const among = started.targets ? `${started.targets.length} agent${started.targets.length === 1 ? '' : 's'}` : `agents matching ${r.targets ?? '*'}`;
      void vs.window
        .showWarningMessage(`Faultline: the chaos monkey is loose — it kills one of ${among} every ~${every}${started.seed !== undefined ? ` (seed ${started.seed})` : ''}.`, 'Stop It')
        .then((a) => a && vs.commands.executeCommand('faultline.stopChaos'));
      return started;
    }),
    register(ctx, 'faultline.stopChaos', 'Cannot stop the chaos monkey', async () => {
      const r = await control.stop();
      if (r.stopped) {
        ctx.log.info(`chaos monkey stopped after ${r.kills} kill(s)`);
        void vs.window.setStatusBarMessage(`Faultline: chaos monkey stopped after ${r.kills} kill(s)`, 5000);
      }
      return r;
    }),
    control,
  ];
  return { disposables, control };
}
