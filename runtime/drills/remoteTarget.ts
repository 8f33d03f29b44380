/**
 * A runtime target over the control channel, for the CLI: requests and
 * events through `RuntimeClient`, HTTP to the runtime's loopback port. After
 * a drill kills the runtime, `recover` starts it again when this CLI owns it,
 * or waits for a new runtime.json from whoever restarts it, then reconnects
 * and subscribes again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive, readRuntimeFile } from '../control/runtimeFileIO.ts';
import type { RuntimeFile } from '../protocol/runtimeFile.ts';
import { RuntimeClient } from '../cli/client.ts';
import type { OwnedRuntime } from './ownedRuntime.ts';
import type { RuntimeTarget } from './RuntimeTarget.ts';
import { Emitter } from '../protocol/emitter.ts';



export class RemoteTarget implements RuntimeTarget {
  private readonly notifications = new Emitter<{ event: string; payload: any }>();
  private events = new Set<string>();

  private constructor(private client: RuntimeClient, private file: RuntimeFile, private readonly stateDir: string, private readonly owned?: OwnedRuntime) {
    this.listen();
  }

  static async connect(file: RuntimeFile, stateDir: string, owned?: OwnedRuntime): Promise<RemoteTarget> {
    if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(file.url)) throw new Error(`refusing a runtime that is not on loopback (${file.url})`);
    return new RemoteTarget(await RuntimeClient.connect(file), file, stateDir, owned);
  }

  get describe(): string {
    return `runtime pid ${this.file.pid} (${this.file.url})`;
  }

  get pid(): number {
    return this.file.pid;
  }

  private lost: string | undefined;
  private recovering = false;

  gone(): string | undefined {
    return this.recovering ? undefined : this.lost;
  }

  private listen() {
    this.lost = undefined;
    this.client.onClose(() => { this.lost ??= 'the connection to the runtime closed (it stopped or was killed)'; });
    this.client.onEvent((event, payload) => {
      this.notifications.fire({ event, payload });
    });
  }

  call(method: string, params: unknown, timeoutMs?: number): Promise<any> {
    return this.client.call(method as never, params as never, timeoutMs);
  }

  async subscribe(events: string[], fn: (event: string, payload: any) => void) {
    const all = events.includes('*');
    const sub = this.notifications.event((n) => {
      if (all || events.includes(n.event)) fn(n.event, n.payload);
    });
    for (const e of events) this.events.add(e);
    await this.client.call('subscribe', { events: events as never });
    return sub;
  }

  async http(path: string) {
    const r = await fetch(`${this.file.url}${path}`);
    return { status: r.status, body: await r.text() };
  }

  async recover({ timeoutMs, onDown }: { timeoutMs: number; onDown?: (time: number) => void }): Promise<{ pid: number; restartedBy: 'drill' | 'other' }> {
    this.recovering = true;
    try {
      return await this.reconnect(timeoutMs, onDown);
    } finally {
      this.recovering = false;
    }
  }

  private async reconnect(timeoutMs: number, onDown?: (time: number) => void): Promise<{ pid: number; restartedBy: 'drill' | 'other' }> {
    const end = Date.now() + timeoutMs;
    const old = this.file.pid;
    while (processAlive(old)) {
      if (Date.now() > end) throw new Error(`the runtime (pid ${old}) is still alive ${timeoutMs} ms after the kill`);
      await sleep(5);
    }
    onDown?.(Date.now());
    this.client.close();
    let file: RuntimeFile | undefined;
    let restartedBy: 'drill' | 'other' = 'other';
    if (this.owned) {
      await this.owned.start(Math.max(1000, end - Date.now()));
      restartedBy = 'drill';
      file = readRuntimeFile(this.stateDir);
    } else {
      // Someone else restarts it (the VS Code extension does): wait for its new runtime.json.
      for (;;) {
        const f = readRuntimeFile(this.stateDir);
        if (f && f.pid !== old && processAlive(f.pid)) {
          file = f;
          break;
        }
        if (Date.now() > end) throw new Error(`the runtime was killed and nothing restarted it within ${timeoutMs} ms; run the drill with --config so that it starts (and restarts) the runtime itself`);
        await sleep(100);
      }
    }
    if (!file) throw new Error('the restarted runtime wrote no runtime.json');
    this.file = file;
    for (;;) {
      try {
        this.client = await RuntimeClient.connect(file);
        break;
      } catch (e) {
        if (Date.now() > end) throw e;
        await sleep(100);
      }
    }
    this.listen();
    if (this.events.size) await this.client.call('subscribe', { events: [...this.events] as never });
    return { pid: file.pid, restartedBy };
  }

  close(): void {
    this.client.close();
  }
}
