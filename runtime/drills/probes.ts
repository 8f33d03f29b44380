/**
 * Steady-state probes: each measures one thing about the running system and
 * says whether it is within its tolerance. A probe with `withinMs` is checked
 * again until it holds or the time is up — recovery takes time — except
 * that an answered ask is never asked again (asking has effects).
 */
import { isDeepStrictEqual } from 'node:util';
import { agentsOf, type RuntimeStatus } from '../protocol/status.ts';
import { globMatch } from '../faults/seededRandom.ts';
import type { MessageLedger } from '../load/MessageLedger.ts';
import { errorType, type RuntimeTarget } from './RuntimeTarget.ts';
import { metricValue, parseSamples } from './metricsText.ts';
import type { Probe, Tolerance } from './drillSchema.ts';
/** Declared once, by the protocol (`drill.run`'s journal, `chaos.status`'s report). */
export type { ProbeResult } from '../protocol/schema/drill.ts';
import type { ProbeResult } from '../protocol/schema/drill.ts';


export interface ProbeContext {
  target: RuntimeTarget;
  /** Values captured by earlier probes (`capture`), for `$name` tolerances. */
  vars: Map<string, unknown>;
  ledger: MessageLedger;
  /** Stops a probe's re-checking early (the drill was interrupted). */
  signal?: AbortSignal;
}

interface Check { held: boolean; value?: unknown; message: string; final?: boolean }

const fmt = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function describeTolerance(t: Tolerance | undefined): string {
  if (!t) return 'answered';
  const parts: string[] = [];
  if (t.min !== undefined) parts.push(`>= ${t.min}`);
  if (t.gt !== undefined) parts.push(`> ${t.gt}`);
  if (t.max !== undefined) parts.push(`<= ${t.max}`);
  if (t.lt !== undefined) parts.push(`< ${t.lt}`);
  if (t.equals !== undefined) parts.push(`= ${fmt(t.equals)}`);
  return parts.join(' and ') || 'any value';
}

/** The default name of a probe: what it checks, in a few words. */
export function probeName(p: Probe): string {
  if (p.name) return p.name;
  switch (p.type) {
    case 'agents':
      return `agents ${p.agents} ${p.state}`;
    case 'metric':
      return `${p.metric}${p.labels ? `{${Object.entries(p.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : ''} ${describeTolerance(p.tolerance)}`;
    case 'readyz':
      return `/readyz ${p.status}`;
    case 'ask':
      return `ask ${p.agent} answered within ${p.withinMs ?? 5000} ms${p.tolerance ? ` (${p.path ?? 'reply'} ${describeTolerance(p.tolerance)})` : ''}`;
    case 'dependency':
      return `${p.dependency} breaker ${[p.breaker].flat().join('|')}`;
    case 'nodes':
      return `${p.up !== undefined ? `${p.up} cluster nodes` : p.minUp !== undefined ? `at least ${p.minUp} cluster nodes` : 'cluster nodes'} up, every child of the root on one`;
    case 'messages':
      return `no acknowledged message lost${p.maxFailed !== undefined ? `, at most ${p.maxFailed} failed` : ''}`;
  }
}

function within(value: unknown, t: Tolerance, vars: Map<string, unknown>): { ok: boolean; why?: string } {
  const ref = (x: number | string | undefined): number | undefined => (typeof x === 'string' ? Number(vars.get(x.slice(1))) : x);
  if (t.equals !== undefined) return isDeepStrictEqual(value, t.equals) ? { ok: true } : { ok: false, why: `${fmt(value)} is not ${fmt(t.equals)}` };
  if (typeof value !== 'number' || Number.isNaN(value)) return { ok: false, why: `${fmt(value)} is not a number` };
  const min = ref(t.min), max = ref(t.max), gt = ref(t.gt), lt = ref(t.lt);
  if (min !== undefined && !(value >= min)) return { ok: false, why: `${value} < ${min}` };
  if (max !== undefined && !(value <= max)) return { ok: false, why: `${value} > ${max}` };
  if (gt !== undefined && !(value > gt)) return { ok: false, why: `${value} is not > ${gt}` };
  if (lt !== undefined && !(value < lt)) return { ok: false, why: `${value} is not < ${lt}` };
  return { ok: true };
}

/** `a.b[0].c` into a JSON value. */
export function pick(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let v: any = value;
  for (const key of path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[key];
  }
  return v;
}

async function checkOnce(p: Probe, ctx: ProbeContext, remainingMs: number): Promise<Check> {
  const { target } = ctx;
  switch (p.type) {
    case 'agents': {
      const st = (await target.call('status', {})) as RuntimeStatus;
      const picked = agentsOf(st.tree).filter((a) => globMatch(p.agents, a.id));
      if (!picked.length) return { held: false, message: `no agent matches "${p.agents}"`, final: true };
      const off = picked.filter((a) => a.state !== p.state || (p.mailboxMax !== undefined && a.mailbox > p.mailboxMax));
      const value = `${picked.length - off.length}/${picked.length} ${p.state}`;
      if (!off.length) return { held: true, value, message: value };
      const list = off.slice(0, 5).map((a) => `${a.id} ${a.state}${p.mailboxMax !== undefined ? ` (mailbox ${a.mailbox})` : ''}`).join(', ');
      return { held: false, value, message: `${value}; not: ${list}${off.length > 5 ? `, and ${off.length - 5} more` : ''}` };
    }
    case 'metric': {
      const r = await target.http('/metrics');
      if (r.status !== 200) return { held: false, message: `/metrics answered ${r.status}` };
      const value = metricValue(parseSamples(r.body), p.metric, p.labels, p.aggregate);
      if (value === undefined) return { held: false, message: `no series ${p.metric} with those labels` };
      const w = within(value, p.tolerance, ctx.vars);
      return { held: w.ok, value, message: w.ok ? `${value}` : w.why! };
    }
    case 'readyz': {
      const r = await target.http('/readyz');
      let why = '';
      try {
        const body = JSON.parse(r.body) as { reasons?: { message: string }[] };
        why = (body.reasons ?? []).map((x) => x.message).slice(0, 3).join('; ');
      } catch { /* a body that is not JSON: the status says enough */ }
      return { held: r.status === p.status, value: r.status, message: `${r.status}${why ? ` (${why})` : ''}` };
    }
    case 'ask': {
      const timeoutMs = Math.max(1, Math.round(remainingMs));
      let reply: unknown;
      try {
        reply = await target.call('ask', { agent: p.agent, message: p.message, timeoutMs }, timeoutMs + 5000);
      } catch (e) {
        return { held: false, message: `${errorType(e)}: ${(e as Error).message}` };
      }
      const value = pick(reply, p.path);
      if (!p.tolerance) return { held: true, value, message: 'answered', final: true };
      const w = within(value, p.tolerance, ctx.vars);
      return { held: w.ok, value, message: w.ok ? `answered ${fmt(value)}` : `answered, but ${w.why}`, final: true };
    }
    case 'dependency': {
      const st = (await target.call('status', {})) as RuntimeStatus;
      const d = st.dependencies.find((x) => x.id === p.dependency);
      if (!d) return { held: false, message: `no dependency "${p.dependency}" (dependencies: ${st.dependencies.map((x) => x.id).join(', ') || 'none'})`, final: true };
      const want = [p.breaker].flat() as string[];
      return { held: want.includes(d.breaker), value: d.breaker, message: `breaker ${d.breaker}` };
    }
    case 'nodes': {
      const st = (await target.call('status', {})) as RuntimeStatus;
      if (!st.cluster) return { held: false, message: 'the runtime is not a cluster node', final: true };
      const up = st.cluster.nodes.filter((x) => x.state === 'up').map((x) => x.id);
      const value = `${up.length}/${st.cluster.nodes.length} up${up.length ? ` (${up.join(', ')})` : ''}`;
      if (p.up !== undefined && up.length !== p.up) return { held: false, value, message: `${value}, not ${p.up}` };
      if (up.length < (p.minUp ?? 1)) return { held: false, value, message: `${value}, fewer than ${p.minUp ?? 1}` };
      const off = st.tree.children.filter((c) => !c.node || !up.includes(c.node));
      if (off.length) return { held: false, value, message: `${value}; not on a node that is up: ${off.map((c) => `${c.id}${c.node ? ` (${c.node})` : ''}`).join(', ')}` };
      return { held: true, value, message: `${value}; every child of the root on one` };
    }
    case 'messages': {
      const m = ctx.ledger.summary();
      const failed = m.asks.failed + m.sends.failed;
      const ok = m.lost <= p.maxLost && (p.maxFailed === undefined || failed <= p.maxFailed);
      const errors = Object.entries(m.errors).map(([k, v]) => `${k} x${v}`).join(', ');
      return { held: ok, value: { lost: m.lost, failed, acknowledged: m.acknowledged }, message: `${m.acknowledged} acknowledged, ${m.lost} lost, ${failed} failed${errors ? ` (${errors})` : ''}` };
    }
  }
}

export async function runProbe(p: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const t0 = Date.now();
  const withinMs = p.withinMs ?? (p.type === 'ask' ? 5000 : 0);
  const end = t0 + withinMs;
  let attempts = 0;
  let c: Check;
  for (;;) {
    attempts++;
    try {
      c = await checkOnce(p, ctx, Math.max(1, end - Date.now()));
    } catch (e) {
      c = { held: false, message: `${errorType(e)}: ${(e as Error).message}` };
    }
    if (c.held || c.final || Date.now() >= end) break;
    if (ctx.signal?.aborted) {
      c = { ...c, message: `${c.message}; interrupted` };
      break;
    }
    const gone = ctx.target.gone();
    if (gone) {
      c = { ...c, message: `${c.message}; ${gone}` };
      break;
    }
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, end - Date.now()))));
  }
  if (c.held && 'capture' in p && p.capture) ctx.vars.set(p.capture, c.value);
  const expected = p.type === 'metric' || p.type === 'ask' ? describeTolerance(p.tolerance) : p.type === 'agents' ? `all ${p.state}` : p.type === 'readyz' ? String(p.status) : p.type === 'dependency' ? [p.breaker].flat().join('|') : p.type === 'nodes' ? (p.up !== undefined ? `${p.up} nodes up` : `>= ${p.minUp ?? 1} nodes up`) : `lost <= ${p.maxLost}`;
  return { name: probeName(p), type: p.type, held: c.held, ...(c.value !== undefined ? { value: c.value } : {}), expected: `${expected}${withinMs ? ` within ${withinMs} ms` : ''}`, message: c.message, durationMs: Date.now() - t0, attempts };
}
