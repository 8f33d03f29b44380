/**
 * The live snapshot of the runtime. On every (re)connect it subscribes to all
 * events and loads a full snapshot; afterwards each event makes a new
 * snapshot at once through the protocol's client model (agent states,
 * breakers, alerts) and schedules one debounced re-read of the whole status,
 * so a burst of events costs one request. A snapshot is never changed in place.
 */
import { applyEvent, type ClientEvent } from '../../../runtime/protocol/clientModel.ts';
import { RpcErrorCode } from '../../../runtime/protocol/rpc.ts';
import { RuntimeRpcError, type ControlClient, type RuntimeEvent } from '../runtime/ControlClient.ts';
import { applyAlertEvent, EMPTY, toAlerts, toFaults, type Snapshot } from './snapshot.ts';
import { debounce, type Debounced } from '../util/debounce.ts';
import { Emitter, type Disposable } from '../util/emitter.ts';
import type { Log } from '../util/log.ts';
import type { Timers } from '../util/timers.ts';

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  agent?: string;
}

const LOG_KEEP = 500;

export class HealthModel implements Disposable {
  private snap: Snapshot = EMPTY;
  private client?: ControlClient;
  private subs: Disposable[] = [];
  private readonly changed = new Emitter<Snapshot>();
  private readonly events = new Emitter<RuntimeEvent>();
  private readonly refreshSoon: Debounced;
  private readonly logsByAgent = new Map<string, LogLine[]>();
  /** Fires after every change of the snapshot. */
  readonly onDidChange = this.changed.event;
  /** Every runtime event, after the model applied it. */
  readonly onEvent = this.events.event;
  private readonly attached = new Emitter<Snapshot>();
  /** Fires once a new connection has subscribed and loaded its full snapshot. */
  readonly onDidAttach = this.attached.event;

  constructor(private readonly log: Log, o: { debounceMs?: number; timers?: Timers } = {}) {
    this.refreshSoon = debounce(() => void this.refresh().catch((e) => this.log.debug(`status refresh failed: ${(e as Error).message}`)), o.debounceMs ?? 150, { maxWaitMs: 1000, timers: o.timers });
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  /** A new connection: subscribe, then a full snapshot (events during the load are not lost: they only schedule another). */
  async attach(client: ControlClient): Promise<void> {
    this.detach();
    this.client = client;
    this.subs.push(client.onEvent((e) => this.apply(e)));
    this.subs.push(client.onClose(() => this.client === client && this.detach()));
    await client.call('subscribe', { events: ['*'] });
    await this.refresh();
    if (this.client === client) this.attached.fire(this.snap);
  }

  detach(): void {
    for (const s of this.subs) s.dispose();
    this.subs = [];
    this.client = undefined;
  }

  /** Forgets the snapshot (runtime stopped). */
  clear(): void {
    this.detach();
    this.snap = EMPTY;
    this.changed.fire(this.snap);
  }

  async refresh(): Promise<Snapshot> {
    const client = this.client;
    if (!client) return this.snap;
    const status = await client.call('status', {});
    let faults = toFaults(status.faults);
    if (!Array.isArray(status.faults)) {
      faults = toFaults(await client.call('faults', {}).catch((e) => {
        // A runtime without the fault catalogue has no faults to list.
        if (e instanceof RuntimeRpcError && e.code === RpcErrorCode.MethodNotFound) return [];
        throw e;
      }));
    }
    const alerts = Array.isArray(status.alerts) ? toAlerts(status.alerts) : this.snap.alerts;
    if (this.client !== client) return this.snap;
    this.snap = { status, faults, alerts };
    this.changed.fire(this.snap);
    return this.snap;
  }

  /** Applies one event; exported for tests that feed events by hand. */
  apply(e: RuntimeEvent): void {
    const s = this.snap;
    switch (e.name) {
      case 'agent.state':
      case 'supervisor.state':
      case 'breaker.state':
        // At once from the event, then one debounced re-read for what it does not carry (mailbox, liveness, error rates).
        if (s.status) this.snap = { ...s, status: applyEvent(s.status, { name: e.name, payload: e.params } as ClientEvent) };
        this.refreshSoon.schedule();
        break;
      case 'alert':
        this.snap = { ...s, alerts: applyAlertEvent(s.alerts, e.params) };
        break;
      case 'fault':
        this.refreshSoon.schedule();
        break;
      case 'log':
        this.keepLog(e.params as LogLine);
        this.events.fire(e);
        return;
      case 'machine.transition':
        // Every lifecycle step: the agent.state and supervisor.state events say what the views show.
        this.events.fire(e);
        return;
      default:
        // metrics and per-call events move error rates: a re-read picks them up.
        this.refreshSoon.schedule();
    }
    this.changed.fire(this.snap);
    this.events.fire(e);
  }

  private keepLog(l: LogLine) {
    const key = l.agent ?? '';
    let list = this.logsByAgent.get(key);
    if (!list) this.logsByAgent.set(key, (list = []));
    list.push(l);
    if (list.length > LOG_KEEP) list.splice(0, list.length - LOG_KEEP);
  }

  /** The last log lines of one agent (or of the runtime itself for ''). */
  logsOf(agent: string): LogLine[] {
    return this.logsByAgent.get(agent) ?? [];
  }

  dispose(): void {
    this.detach();
    this.refreshSoon.dispose();
    this.changed.dispose();
    this.events.dispose();
    this.attached.dispose();
  }
}
