/** A status JSON shaped like the research-team example's, for unit tests. */
import type { AgentStatus, RuntimeStatus, SupervisorStatus } from '../../../runtime/protocol/status.ts';

export function agent(id: string, o: Partial<AgentStatus> = {}): AgentStatus {
  return { id, kind: 'agent', state: 'running', pid: 1000 + id.length, restarts: 0, isolation: 'process', restart: 'permanent', module: `agents/${id}.mjs`, mailbox: 0, liveness: true, readiness: true, startedAt: '2026-01-01T00:00:00.000Z', ...o };
}

export function sup(id: string, children: SupervisorStatus['children'], o: Partial<SupervisorStatus> = {}): SupervisorStatus {
  return { id, kind: 'supervisor', state: 'running', strategy: 'one_for_one', restart: 'permanent', restarts: 0, intensity: { limit: 5, periodMs: 60000, inWindow: 0 }, children, ...o };
}

export function exampleStatus(): RuntimeStatus {
  return {
    runtime: { pid: 42, uptimeMs: 1000, version: '0.1.0', name: 'research-team', startedAt: '2026-01-01T00:00:00.000Z' },
    tree: sup('root', [
      agent('planner'),
      sup('crew', [agent('researcher'), agent('writer')], { strategy: 'one_for_all' }),
      sup('workers', [agent('fetcher', { isolation: 'thread', pid: 42, threadId: 1 }), agent('summarizer', { isolation: 'thread', pid: 42, threadId: 2 })], { strategy: 'rest_for_one' }),
    ]),
    dependencies: [{ id: 'search', breaker: 'closed', errorRate: 0 }],
  };
}

/** The example run by two nodes: `a` (the one answering) holds planner and crew, `b` holds workers. */
export function clusterStatus(): RuntimeStatus {
  const s = exampleStatus();
  const [planner, crew, workers] = s.tree.children;
  planner.node = 'a';
  crew.node = 'a';
  workers.node = 'b';
  s.cluster = {
    node: 'a',
    leaseMs: 3000,
    nodes: [
      { id: 'a', url: 'ws://10.0.0.1:7070/control', state: 'up', lastSeenMs: 0, children: ['planner', 'crew'] },
      { id: 'b', url: 'ws://10.0.0.2:7070/control', state: 'up', lastSeenMs: 420, children: ['workers'] },
    ],
  };
  return s;
}
