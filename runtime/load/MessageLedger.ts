/**
 * Every message a load run (or a drill) sent, and what became of it: an ask
 * is acknowledged when it is answered — the reply leaves only after the
 * handler ran and its checkpoint and the message's removal are stored — and a
 * send when the runtime accepted it into the durable mailbox. A send counts
 * as handled once its agent's mailbox has drained with no new dead letter;
 * acknowledged messages that never get there are lost.
 */
import { agentsOf, type RuntimeStatus } from '../protocol/status.ts';
import { metricValue, parseSamples } from '../drills/metricsText.ts';
import type { RuntimeTarget } from '../drills/RuntimeTarget.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { MessagesSummary } from '../protocol/schema/drill.ts';
import type { MessagesSummary } from '../protocol/schema/drill.ts';

export interface LedgerEntry {
  kind: 'ask' | 'send';
  agent: string;
  /** Epoch ms. */
  sentAt: number;
  outcome: 'pending' | 'answered' | 'accepted' | 'failed';
  error?: string;
}


const DEAD_LETTERS = 'faultline_dead_letters_total';

export class MessageLedger {
  readonly entries: LedgerEntry[] = [];
  private deadLettersBefore = new Map<string, number>();
  private sendCheck: { verified: boolean; lost: number; note?: string } | undefined;

  /** Reads the dead-letter counters before any message goes out, to tell new dead letters later. */
  async baseline(target: RuntimeTarget): Promise<void> {
    try {
      const samples = parseSamples((await target.http('/metrics')).body);
      for (const s of samples) if (s.name === DEAD_LETTERS && s.labels.agent) this.deadLettersBefore.set(s.labels.agent, s.value);
    } catch {
      // No metrics (instrumentation off): dead letters cannot be told apart, the mailbox check still runs.
    }
  }

  record(kind: 'ask' | 'send', agent: string): LedgerEntry {
    const e: LedgerEntry = { kind, agent, sentAt: Date.now(), outcome: 'pending' };
    this.entries.push(e);
    return e;
  }

  settle(e: LedgerEntry, ok: boolean, error?: string): void {
    e.outcome = ok ? (e.kind === 'ask' ? 'answered' : 'accepted') : 'failed';
    if (error) e.error = error;
  }

  /**
   * After the load: waits until every agent that accepted sends is running
   * with an empty mailbox, then counts the sends left over or dead-lettered
   * as lost. A send handled later than `timeoutMs` counts as lost too.
   */
  async verifySends(target: RuntimeTarget, timeoutMs: number): Promise<void> {
    const accepted = new Map<string, number>();
    for (const e of this.entries) if (e.kind === 'send' && e.outcome === 'accepted') accepted.set(e.agent, (accepted.get(e.agent) ?? 0) + 1);
    if (!accepted.size) {
      this.sendCheck = { verified: true, lost: 0 };
      return;
    }
    const end = Date.now() + timeoutMs;
    let left = new Map<string, number>();
    for (;;) {
      left = new Map();
      try {
        const st = (await target.call('status', {})) as RuntimeStatus;
        for (const a of agentsOf(st.tree)) {
          if (!accepted.has(a.id)) continue;
          if (a.state !== 'running' || a.mailbox > 0) left.set(a.id, a.mailbox);
        }
      } catch {
        for (const id of accepted.keys()) left.set(id, accepted.get(id)!);
      }
      if (!left.size || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    let lost = 0;
    const notes: string[] = [];
    for (const [agent, n] of left) {
      const l = Math.min(n, accepted.get(agent)!);
      if (l > 0) notes.push(`${agent}: ${n} still in the mailbox after ${timeoutMs} ms`);
      lost += l;
    }
    try {
      const samples = parseSamples((await target.http('/metrics')).body);
      for (const [agent, n] of accepted) {
        const dead = (metricValue(samples, DEAD_LETTERS, { agent }) ?? 0) - (this.deadLettersBefore.get(agent) ?? 0);
        const deadAsks = this.entries.filter((e) => e.kind === 'ask' && e.agent === agent && e.error === 'MessageDeadLetteredError').length;
        const deadSends = Math.min(n, Math.max(0, dead - deadAsks));
        if (deadSends > 0) notes.push(`${agent}: ${deadSends} dead-lettered`);
        lost += deadSends;
      }
    } catch {
      notes.push('dead letters unknown (no /metrics)');
    }
    this.sendCheck = { verified: true, lost, ...(notes.length ? { note: notes.join('; ') } : {}) };
  }

  summary(): MessagesSummary {
    const asks = this.entries.filter((e) => e.kind === 'ask');
    const sends = this.entries.filter((e) => e.kind === 'send');
    const errors: Record<string, number> = {};
    for (const e of this.entries) if (e.outcome === 'failed') errors[e.error ?? 'Error'] = (errors[e.error ?? 'Error'] ?? 0) + 1;
    const answered = asks.filter((e) => e.outcome === 'answered').length;
    const accepted = sends.filter((e) => e.outcome === 'accepted').length;
    const sendLost = this.sendCheck?.lost ?? 0;
    return {
      sent: this.entries.length,
      acknowledged: answered + accepted,
      lost: sendLost,
      asks: { sent: asks.length, answered, failed: asks.filter((e) => e.outcome === 'failed').length },
      sends: {
        sent: sends.length,
        accepted,
        failed: sends.filter((e) => e.outcome === 'failed').length,
        handled: accepted - sendLost,
        lost: sendLost,
        verified: this.sendCheck?.verified ?? sends.length === 0,
        ...(this.sendCheck?.note ? { note: this.sendCheck.note } : {}),
      },
      errors,
    };
  }
}
