/**
 * Recent log lines per agent: live `log` events as they come, merged with the
 * history the extension sends for a `logs` command. Bounded per agent; lines
 * for 1,000 agents at 200 each stay a few megabytes at most.
 */
import type { LogEvent } from '../../../runtime/protocol/events.ts';

const PER_AGENT = 200;
const keyOf = (l: LogEvent) => `${l.time}\u0000${l.level}\u0000${l.msg}`;

export class LogStore {
  private readonly lines = new Map<string, LogEvent[]>();

  /** A live line; returns the agent it belongs to, if any. */
  add(l: LogEvent): string | null {
    const agent = typeof l.agent === 'string' ? l.agent : null;
    if (!agent || typeof l.msg !== 'string') return null;
    let list = this.lines.get(agent);
    if (!list) this.lines.set(agent, (list = []));
    list.push(l);
    if (list.length > PER_AGENT) list.splice(0, list.length - PER_AGENT);
    return agent;
  }

  /** History from the extension, oldest first; live lines already held are kept once. */
  merge(agent: string, history: readonly LogEvent[]): void {
    const seen = new Set<string>();
    const out: LogEvent[] = [];
    for (const l of [...history, ...(this.lines.get(agent) ?? [])]) {
      if (!l || typeof l.msg !== 'string') continue;
      const k = keyOf(l);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(l);
    }
    out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    this.lines.set(agent, out.slice(-PER_AGENT));
  }

  of(agent: string): readonly LogEvent[] {
    return this.lines.get(agent) ?? [];
  }
}
