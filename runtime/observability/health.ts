/**
 * Kubernetes-style health probes computed from a status snapshot, as pure
 * functions: the HTTP server calls them and writes `{ status, body }` out.
 *
 * - `/livez`: the runtime process answers. Nothing in the tree makes it fail:
 *   restarting the runtime because an agent is down would only lose the
 *   supervisor that is already fixing it.
 * - `/readyz`: 200 when every agent that should run is ready (started and
 *   restored) and no critical dependency is down without a fallback; 503
 *   with the reasons otherwise.
 */
import { agentsOf, type AgentStatus, type DependencyStatus, type RuntimeStatus } from '../protocol/status.ts';

export interface ProbeReason {
  kind: 'runtime' | 'agent' | 'dependency' | 'store';
  /** Id of the agent or dependency ('runtime' for the runtime itself). */
  subject: string;
  /** Short machine-friendly cause: `not-ready`, `unresponsive`, `breaker-open`, … */
  reason: string;
  /** One line for a person. */
  message: string;
}

export interface ReadyzBody {
  status: 'ready' | 'not-ready';
  reasons: ProbeReason[];
  agents: { ready: number; total: number };
  dependencies: { down: string[]; total: number };
}

export interface LivezBody {
  status: 'ok';
  pid: number;
  uptimeMs: number;
}

export interface ProbeResponse<B> {
  status: 200 | 503;
  body: B;
}

/** Breaker states in which calls to the dependency fail fast. */
const DOWN = new Set(['open', 'isolated']);

/** Whether calls to a dependency in this breaker state fail fast. */
export function isDown(breaker: string): boolean {
  return DOWN.has(breaker);
}

/**
 * A temporary agent that stopped, or a transient one that exited normally, is
 * done rather than down: OTP does not restart either, so neither keeps the
 * system from being ready.
 */
function finished(a: AgentStatus): boolean {
  return a.state === 'stopped' && (a.restart === 'temporary' || a.restart === 'transient');
}

/** A dependency is critical when the config says `critical: true` (the gateway's default is false). */
export function isCriticalDependency(d: DependencyStatus): boolean {
  return d.critical === true;
}

/** What the fallback rule needs of the rest of the system: the model chains and every dependency's breaker. */
export interface FallbackView {
  models?: Record<string, string[]>;
  breakerOf(id: string): string | undefined;
}

/** The fallback view of a status snapshot (its `models` and `dependencies`). */
export function statusView(status: Pick<RuntimeStatus, 'dependencies' | 'models'>): FallbackView {
  const breakers = new Map(status.dependencies.map((d) => [d.id, d.breaker]));
  return { models: status.models, breakerOf: (id) => breakers.get(id) };
}

/**
 * The one fallback rule, for `/readyz`, the `breakerOpen` alert's level and
 * the gateway: calls to `d` still get an answer while it is down when its
 * `degrade` mode answers in its place (anything but `fail`), or a model chain
 * holding it offers another dependency that is not down. Without the chains
 * (a status snapshot that lacks `models`), `d.hasFallback` (a chain has
 * another member) stands in.
 */
export function dependencyHasFallback(d: { id: string; degrade?: unknown; hasFallback?: unknown }, view?: FallbackView): boolean {
  if (typeof d.degrade === 'string' && d.degrade !== 'fail') return true;
  if (!view?.models) return d.hasFallback === true;
  for (const chain of Object.values(view.models)) {
    if (!chain.includes(d.id)) continue;
    for (const id of chain) {
      const b = id === d.id ? undefined : view.breakerOf(id);
      if (b !== undefined && !isDown(b)) return true;
    }
  }
  return false;
}

/** Whether a dependency keeps the runtime from being ready: critical, down, and with no fallback to answer. */
export function blocksReadiness(d: DependencyStatus, view?: FallbackView): boolean {
  return isDown(d.breaker) && isCriticalDependency(d) && !dependencyHasFallback(d, view);
}

/** `/livez`: 200 whenever the runtime can answer at all. */
export function livez(status?: Pick<RuntimeStatus, 'runtime'>): ProbeResponse<LivezBody> {
  return { status: 200, body: { status: 'ok', pid: status?.runtime.pid ?? process.pid, uptimeMs: status?.runtime.uptimeMs ?? Math.round(process.uptime() * 1000) } };
}

/** `/readyz`: 200 when ready, 503 with the reasons otherwise. */
export function readyz(status: RuntimeStatus): ProbeResponse<ReadyzBody> {
  const reasons: ProbeReason[] = [];
  const root = status.tree;
  if (root.state !== 'running') {
    reasons.push({ kind: 'runtime', subject: root.id, reason: `tree-${root.state}`, message: `The supervision tree is ${root.state}` });
  }

  if (status.store?.state === 'down') {
    reasons.push({ kind: 'store', subject: status.store.kind, reason: 'store-down', message: status.store.error ?? `The ${status.store.kind} checkpoint store does not answer` });
  }

  const agents = agentsOf(root).filter((a) => !finished(a));
  let ready = 0;
  for (const a of agents) {
    if (a.readiness && a.liveness && a.state === 'running') {
      ready++;
      continue;
    }
    const reason = !a.liveness && a.state === 'running' ? 'unresponsive' : a.state !== 'running' ? a.state : 'not-restored';
    const message =
      reason === 'unresponsive'
        ? `Agent "${a.id}" misses its heartbeats`
        : reason === 'not-restored'
          ? `Agent "${a.id}" is running but not yet restored from its checkpoint`
          : `Agent "${a.id}" is ${a.state}${a.lastError ? ` (${a.lastError.type}: ${a.lastError.message})` : ''}`;
    reasons.push({ kind: 'agent', subject: a.id, reason, message });
  }

  const down: string[] = [];
  const view = statusView(status);
  for (const d of status.dependencies) {
    if (!isDown(d.breaker)) continue;
    down.push(d.id);
    if (blocksReadiness(d, view)) {
      reasons.push({ kind: 'dependency', subject: d.id, reason: 'breaker-open', message: `Critical dependency "${d.id}" is down (breaker ${d.breaker}) and has no fallback` });
    }
  }

  const body: ReadyzBody = {
    status: reasons.length ? 'not-ready' : 'ready',
    reasons,
    agents: { ready, total: agents.length },
    dependencies: { down, total: status.dependencies.length },
  };
  return { status: reasons.length ? 503 : 200, body };
}
