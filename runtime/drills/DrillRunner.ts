/**
 * Runs a drill against a runtime: the steady-state hypothesis as a gate (if
 * it fails, nothing is injected), the method in order with background load
 * and chaos, the hypothesis again for deviation, the rollbacks, then clears
 * whatever this drill left injected. Every fault is a mark for the recovery
 * tracker; every message the load sends goes into one ledger.
 */
import { agentsOf, type RuntimeStatus } from '../protocol/status.ts';
import { ChaosMonkey, type ChaosReport } from '../chaos/ChaosMonkey.ts';
import { LoadGenerator, type LoadReport } from '../load/LoadGenerator.ts';
import { MessageLedger } from '../load/MessageLedger.ts';
import type { Drill, Step } from './drillSchema.ts';
import type { DrillJournal, HypothesisResult, StepResult } from './journal.ts';
import { probeName, runProbe, type ProbeContext, type ProbeResult } from './probes.ts';
import { RecoveryTracker } from './RecoveryTracker.ts';
import { errorType, type RuntimeTarget } from './RuntimeTarget.ts';
import type { Disposable } from '../protocol/emitter.ts';

export interface RunnerOptions {
  runner: DrillJournal['runner'];
  /** One line per thing done, as it happens. */
  progress?: (line: string) => void;
  /** A span around `fn` (the runtime's telemetry, for a drill run inside it): the drill is one trace, each step a span in it. */
  span?: <T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>) => Promise<T>;
}

/** A wait that an interrupt cuts short. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => {
    if (signal.aborted) return r();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      r();
    }
    signal.addEventListener('abort', done);
  });

function stepLabel(s: Step): string {
  switch (s.type) {
    case 'inject':
      return `inject ${s.fault} ${s.target}${s.params && Object.keys(s.params).length ? ` ${JSON.stringify(s.params)}` : ''}`;
    case 'clear':
      return s.fault ? `clear ${s.fault}` : 'clear the faults of this drill';
    case 'wait':
      return `wait ${s.ms} ms`;
    case 'load':
      return `load: ${s.kind ?? 'ask'} ${s.to} at ${s.rate}/s for ${s.durationMs} ms`;
    case 'chaos':
      return `chaos: kill ${s.targets ?? '*'} every ~${s.killIntervalMs} ms for ${s.durationMs} ms`;
    case 'probe':
      return `probe: ${probeName(s.probe)}`;
    case 'kill-runtime':
      return 'kill the runtime and wait for it to come back';
  }
}

export class DrillRunner {
  private readonly t0 = Date.now();
  private readonly tracker = new RecoveryTracker(this.t0);
  private readonly ledger = new MessageLedger();
  private readonly vars = new Map<string, unknown>();
  /** Faults this drill injected: step name (or index) → fault id and target. */
  private readonly injected = new Map<string, { id: string; target: string }>();
  private readonly background: Promise<unknown>[] = [];
  private readonly loads: LoadGenerator[] = [];
  private readonly monkeys: ChaosMonkey[] = [];
  private readonly loadReports: LoadReport[] = [];
  private readonly chaosReports: ChaosReport[] = [];
  private readonly restarts: DrillJournal['runtimeRestarts'] = [];
  private readonly interrupt = new AbortController();
  private failedProbe: string | undefined;
  private failure: string | undefined;
  private sub: Disposable | undefined;

  constructor(private readonly target: RuntimeTarget, private readonly drill: Drill & { name: string }, private readonly o: RunnerOptions) {}

  private say(line: string) {
    this.o.progress?.(line);
  }

  private get probeCtx(): ProbeContext {
    return { target: this.target, vars: this.vars, ledger: this.ledger, signal: this.interrupt.signal };
  }

  private fail(name: string, why: string) {
    if (this.failedProbe === undefined) {
      this.failedProbe = name;
      this.failure = why;
    }
  }

  private async hypothesis(when: 'before' | 'after'): Promise<HypothesisResult> {
    this.say(`steady state ${when}:`);
    const probes: ProbeResult[] = [];
    if (when === 'before' && this.drill.system) {
      const name = await this.target.call('status', {}).then((st: RuntimeStatus) => st.runtime.name, (e) => `(no status: ${(e as Error).message})`);
      const r: ProbeResult = { name: `system "${this.drill.system}"`, type: 'system', held: name === this.drill.system, value: name, expected: this.drill.system, message: `the runtime runs "${name}"`, durationMs: 0, attempts: 1 };
      probes.push(r);
      this.say(`  ${r.held ? 'ok  ' : 'FAIL'} ${r.name}: ${r.message}`);
      if (!r.held) {
        this.fail(r.name, `this drill is for the system "${this.drill.system}", but the runtime runs "${name}"`);
        return { held: false, probes };
      }
    }
    for (const p of this.drill.steadyState.probes) {
      const r = await runProbe(p, this.probeCtx);
      probes.push(r);
      this.say(`  ${r.held ? 'ok  ' : 'FAIL'} ${r.name}: ${r.message} (${r.durationMs} ms)`);
      if (!r.held) this.fail(r.name, `${when === 'before' ? 'before the method' : 'after the method'}: ${r.message} (expected ${r.expected})`);
    }
    return { held: probes.every((p) => p.held), probes };
  }

  async run(): Promise<DrillJournal> {
    const d = this.drill;
    this.say(`drill "${d.name}" against ${this.target.describe} (seed ${d.seed})`);
    this.sub = await this.target.subscribe(['agent.state', 'breaker.state'], (event, p) => {
      if (event === 'agent.state') this.tracker.agentState(p);
      else if (event === 'breaker.state') this.tracker.breaker(p);
    });
    await this.ledger.baseline(this.target);
    let status: DrillJournal['status'] = 'held';
    let after: HypothesisResult | undefined;
    const method: StepResult[] = [];
    const rollbacks: StepResult[] = [];
    let cleared = 0;
    const before = await this.hypothesis('before');
    try {
      if (!before.held) {
        status = 'gate-failed';
      } else {
        this.say('method:');
        for (const [i, s] of d.method.entries()) {
          if (this.interrupt.signal.aborted) {
            status = 'aborted';
            this.fail(`method step ${i + 1}`, 'the drill was interrupted before it');
            break;
          }
          const r = await this.step(s, i);
          method.push(r);
          if (!r.ok && s.type !== 'probe') {
            status = 'aborted';
            this.fail(`method step ${i + 1} (${r.name})`, r.error ?? 'failed');
            break;
          }
          if (!r.ok) status = 'deviated';
          const gone = this.target.gone();
          if (gone) {
            status = 'aborted';
            this.fail('the runtime is running', gone);
            break;
          }
        }
        if (this.interrupt.signal.aborted && status !== 'aborted') {
          status = 'aborted';
          this.fail('the method ran to its end', 'the drill was interrupted');
        }
        if (status === 'aborted') for (const x of [...this.loads, ...this.monkeys]) x.stop();
        await Promise.allSettled(this.background);
        if (this.ledger.entries.some((e) => e.kind === 'send')) {
          this.say('waiting for the accepted sends to be handled…');
          await this.ledger.verifySends(this.target, d.drainTimeoutMs ?? 30_000);
        }
        if (status !== 'aborted') {
          after = await this.hypothesis('after');
          if (!after.held) status = 'deviated';
        }
      }
    } finally {
      if (status !== 'gate-failed') {
        if (d.rollbacks.length) this.say('rollbacks:');
        for (const [i, s] of d.rollbacks.entries()) rollbacks.push(await this.step(s, i));
        cleared = await this.cleanup();
      }
      this.sub?.dispose();
    }
    const messages = this.ledger.summary();
    if (messages.lost > 0 && status === 'held') {
      status = 'deviated';
      this.fail('no acknowledged message lost', `${messages.lost} acknowledged message(s) were not handled${messages.sends.note ? ` (${messages.sends.note})` : ''}`);
    }
    const end = Date.now();
    const journal: DrillJournal = {
      drill: d.name,
      ...(d.description ? { description: d.description } : {}),
      system: d.system ?? '',
      seed: d.seed,
      runner: this.o.runner,
      target: this.target.describe,
      startedAt: new Date(this.t0).toISOString(),
      finishedAt: new Date(end).toISOString(),
      durationMs: end - this.t0,
      held: status === 'held',
      status,
      ...(this.failedProbe !== undefined && status !== 'held' ? { failedProbe: this.failedProbe, failure: this.failure } : {}),
      hypothesis: { before, ...(after ? { after } : {}) },
      method,
      rollbacks,
      cleanup: { cleared },
      recovery: this.tracker.summary(),
      messages,
      load: this.loadReports,
      chaos: this.chaosReports,
      runtimeRestarts: this.restarts,
    };
    return journal;
  }

  /**
   * Stops the method where it is (Ctrl-C): load and chaos stop, waits end,
   * no further step runs; the rollbacks and the clean-up still run.
   */
  abort(): void {
    if (this.interrupt.signal.aborted) return;
    this.say('interrupted: stopping the method, then rolling back…');
    this.interrupt.abort();
    for (const x of [...this.loads, ...this.monkeys]) x.stop();
  }

  /** Clears the faults this drill injected that are still active. */
  private async cleanup(): Promise<number> {
    if (!this.injected.size) return 0;
    let n = 0;
    try {
      const active = new Set(((await this.target.call('faults', {})) as { id: string }[]).map((f) => f.id));
      for (const { id } of this.injected.values()) {
        if (active.has(id)) n += ((await this.target.call('clearFault', { id })) as { cleared: number }).cleared;
      }
    } catch (e) {
      this.say(`  could not clear the drill's faults: ${(e as Error).message}`);
    }
    if (n) this.say(`cleared ${n} fault${n === 1 ? '' : 's'} this drill left active`);
    return n;
  }

  private async step(s: Step, index: number): Promise<StepResult> {
    const name = s.name ?? stepLabel(s);
    const background = (s.type === 'load' || s.type === 'chaos') && !!s.background;
    const started = Date.now();
    const r: StepResult = { index, type: s.type, name, background, startedAtMs: started - this.t0, durationMs: 0, ok: true };
    this.say(`  [${index + 1}] ${name}${s.name ? ` (${stepLabel(s)})` : ''}${background ? ' — in the background' : ''}`);
    try {
      const act = () => this.act(s, index, r);
      r.result = await (this.o.span && !background ? this.o.span(`drill.step ${name}`, { 'faultline.drill.step': index + 1, 'faultline.drill.step.type': s.type }, act) : act());
    } catch (e) {
      r.ok = false;
      r.error = `${errorType(e)}: ${(e as Error).message}`;
      this.say(`      failed: ${r.error}`);
    }
    r.durationMs = Date.now() - started;
    return r;
  }

  private async act(s: Step, index: number, r: StepResult): Promise<unknown> {
    const t = this.target;
    switch (s.type) {
      case 'inject': {
        const params = { ...(s.params ?? {}) };
        // A rate-based fault with no seed of its own replays with the drill's seed.
        if ((params.rate !== undefined || params.probability !== undefined) && params.seed === undefined) params.seed = this.drill.seed + index;
        this.tracker.mark({ time: Date.now(), kind: 'inject', subject: s.target, label: `${s.fault} ${s.target}` });
        const res = (await t.call('inject', { fault: s.fault, target: s.target, params })) as { id: string; fired?: number };
        this.injected.set(s.name ?? `#${index}`, { id: res.id, target: s.target });
        this.say(`      ${res.id}${res.fired !== undefined ? `: fired on ${res.fired}` : ': active'}`);
        return res;
      }
      case 'clear': {
        const which = s.fault ? [this.injected.get(s.fault)].filter((x) => x !== undefined) : [...this.injected.values()];
        this.tracker.mark({ time: Date.now(), kind: 'clear', subject: which.length === 1 ? which[0].target : '*', label: stepLabel(s) });
        let cleared = 0;
        for (const f of which) cleared += ((await t.call('clearFault', { id: f.id })) as { cleared: number }).cleared;
        return { cleared };
      }
      case 'wait':
        await sleep(s.ms, this.interrupt.signal);
        return {};
      case 'load': {
        const gen = await LoadGenerator.plan(t, { to: s.to, rate: s.rate, durationMs: s.durationMs, message: s.message, timeoutMs: s.timeoutMs, kind: s.kind, maxInFlight: s.maxInFlight }, this.ledger);
        this.loads.push(gen);
        const run = gen.start().then((rep) => {
          this.loadReports.push(rep);
          this.say(`      load ${s.to}: ${rep.sent} sent, ${rep.ok} ${rep.kind === 'ask' ? 'answered' : 'accepted'}, ${rep.failed} failed${rep.skipped ? `, ${rep.skipped} skipped` : ''}; p50 ${rep.latencyMs?.p50 ?? '-'} ms, p99 ${rep.latencyMs?.p99 ?? '-'} ms`);
          return rep;
        });
        if (s.background) {
          this.background.push(run);
          return { agents: gen.agents.length };
        }
        return run;
      }
      case 'chaos': {
        const monkey = await ChaosMonkey.plan(t, { killIntervalMs: s.killIntervalMs, durationMs: s.durationMs, seed: s.seed ?? this.drill.seed, targets: s.targets }, {
          killing: (k) => this.tracker.mark({ time: k.time!, kind: 'chaos', subject: k.target, label: `chaos kill ${k.target}` }),
          killed: (k) => this.say(`      +${k.firedAtMs} ms kill ${k.target}${k.killed ? '' : ` (not killed: ${k.error ?? 'no process'})`}`),
        });
        this.monkeys.push(monkey);
        this.say(`      schedule (seed ${monkey.report.seed}): ${monkey.report.schedule.map((k) => `+${k.atMs} ${k.target}`).join(', ') || 'no kills'}`);
        const run = monkey.start().then((rep) => (this.chaosReports.push(rep), rep));
        if (s.background) {
          this.background.push(run);
          return { scheduled: monkey.report.schedule.length };
        }
        return run.then((rep) => ({ kills: rep.kills.length }));
      }
      case 'probe': {
        const p = await runProbe(s.probe, this.probeCtx);
        r.probe = p;
        r.ok = p.held;
        this.say(`      ${p.held ? 'ok  ' : 'FAIL'} ${p.name}: ${p.message}`);
        if (!p.held) this.fail(p.name, `during the method: ${p.message} (expected ${p.expected})`);
        return p.value;
      }
      case 'kill-runtime':
        return this.killRuntime(s.restartTimeoutMs ?? 60_000);
    }
  }

  private async killRuntime(timeoutMs: number) {
    const t = this.target;
    if (!t.recover) throw new Error('this drill runs inside the runtime, which cannot restart itself: run it with `faultline drill FILE` instead');
    const st = (await t.call('status', {})) as RuntimeStatus;
    const agents = agentsOf(st.tree).filter((a) => a.state === 'running').map((a) => a.id);
    const killedAt = Date.now();
    this.tracker.mark({ time: killedAt, kind: 'kill-runtime', subject: '*', label: `kill-runtime (pid ${st.runtime.pid})` });
    await t.call('inject', { fault: 'kill-runtime', target: 'runtime' });
    const back = await t.recover({
      timeoutMs,
      // Every agent goes down with it (agent processes leave when their IPC channel closes).
      onDown: (time) => { for (const agent of agents) this.tracker.agentState({ time, agent, state: 'restarting', reason: 'runtime killed' }); },
    });
    const now = (await t.call('status', {})) as RuntimeStatus;
    for (const a of agentsOf(now.tree)) if (a.state === 'running' && a.startedAt) this.tracker.agentState({ time: a.startedAt, agent: a.id, state: 'running' });
    const rec = { killedPid: st.runtime.pid, pid: back.pid, restartedBy: back.restartedBy, downMs: Date.now() - killedAt };
    this.restarts.push(rec);
    this.say(`      runtime pid ${st.runtime.pid} killed; pid ${back.pid} answering after ${rec.downMs} ms`);
    return rec;
  }
}

