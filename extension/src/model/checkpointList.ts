/**
 * The Checkpoints view as plain data: one row per retained checkpoint of the
 * agent selected in the Agents tree, newest first, and the small decisions
 * its commands make (which seq is "previous", whether a fork id is usable).
 * Pure, like agentTree.ts.
 */
import type { Methods } from '../../../runtime/protocol/rpc.ts';
import { clockText, esc, type ItemView } from './agentTree.ts';

export { clockText };

export type CheckpointRow = Methods['checkpoints']['result'][number];

/** A byte count for people: "312 B", "4.1 KB", "2.0 MB". */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const KIND_ICON: Record<string, string> = { full: 'circle-filled', summary: 'fold', restore: 'history', fork: 'repo-forked' };

/** Rows for the agent's checkpoints, newest first; an invalid one is marked and offers no compare, restore or fork. */
export function checkpointItems(agent: string, list: readonly CheckpointRow[]): ItemView[] {
  return [...list]
    .sort((a, b) => b.seq - a.seq)
    .map((c) => {
      const parts = [c.kind, sizeText(c.size), clockText(c.time)];
      if (!c.valid) parts.unshift('invalid');
      const tokens = ['checkpoint', c.kind, c.valid ? 'valid' : 'invalid'];
      const lines = [
        `**${esc(agent)} #${c.seq}** — ${c.kind} checkpoint${c.valid ? '' : ', **invalid** (checksum or parse failed: it cannot be read, restored or forked)'}`,
        '',
        '| | |',
        '|---|---|',
        `| time | ${c.time} |`,
        `| size | ${c.size} bytes |`,
        `| module version | ${c.version} |`,
        `| runtime | ${esc(c.runtimeVersion)} |`,
        `| store | ${c.store}${c.blob ? ` (${esc(c.blob)})` : ''} |`,
      ];
      return {
        id: `checkpoint:${agent}:${c.seq}`,
        label: `#${c.seq}`,
        description: parts.join(' · '),
        icon: c.valid ? KIND_ICON[c.kind] ?? 'circle-filled' : 'warning',
        color: c.valid ? (c.kind === 'restore' || c.kind === 'fork' ? 'charts.blue' : undefined) : 'testing.iconFailed',
        contextValue: tokens.join(' '),
        tooltip: lines.join('\n'),
        checkpoint: { agent, seq: c.seq },
      };
    });
}

/** The retained checkpoint just before `seq` (by seq), or undefined for the oldest. */
export function previousSeq(list: readonly CheckpointRow[], seq: number): number | undefined {
  let best: number | undefined;
  for (const c of list) if (c.seq < seq && (best === undefined || c.seq > best)) best = c.seq;
  return best;
}

/** The same id rule as the runtime's agent.fork (runtime/protocol/schema/history.ts). */
const FORK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Why `id` cannot name a fork (for an input box's validation), or undefined when it can. */
export function forkIdProblem(id: string, taken: ReadonlySet<string>): string | undefined {
  if (!id) return 'Give the new agent an id.';
  if (!FORK_ID.test(id)) return 'An id is 1-64 letters, digits, "_", "." or "-", starting with a letter or digit.';
  if (taken.has(id)) return `"${id}" is already an agent or supervisor of the running system.`;
  return undefined;
}

/** A free fork id to suggest: `<agent>-fork`, then `<agent>-fork-2`, … */
export function suggestForkId(agent: string, taken: ReadonlySet<string>): string {
  const base = `${agent}-fork`.slice(0, 64);
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** The text a diff side shows: the state, pretty-printed with sorted keys so a diff shows changes, not reorderings. */
export function stateText(state: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(state), null, 2) + '\n';
}
