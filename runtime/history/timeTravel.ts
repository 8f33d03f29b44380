/**
 * Time travel over an agent's checkpoints, as control methods on the
 * runtime's `methods` map:
 * - `checkpoint.get` reads one checkpoint's state;
 * - `agent.restore` restarts the agent from a checkpoint's state: the state
 *   is appended as a new checkpoint of kind `restore` while the agent is
 *   down (history is never rewritten), so it comes up from it; its inbox is
 *   kept, and messages waiting are delivered after the restore;
 * - `agent.fork` starts a `temporary` agent beside the original (same
 *   supervisor, same module) whose first checkpoint, of kind `fork`, holds
 *   the state; it has its own (emptied) inbox and checkpoints, is not
 *   restarted when it exits, and is gone when its supervisor starts afresh
 *   or the runtime exits (it is not in the config, so it does not come back
 *   with the next run; its checkpoints stay in the store).
 *
 * Because the restored or forked state is copied into a checkpoint of its
 * own, retention may prune the checkpoint it came from without losing it.
 */
import type { Runtime } from '../Runtime.ts';
import type { AgentNode } from '../supervision/AgentNode.ts';
import type { Supervisor } from '../supervision/Supervisor.ts';
import type { CheckpointGetResult, ForkResult, RestoreResult } from '../protocol/schema/history.ts';
import { FaultlineError, UnknownAgentError } from '../errors.ts';
import { readCheckpoint } from '../state/history.ts';

/** A fork's id names an agent or a supervisor that is there already. */
export class AgentIdTakenError extends FaultlineError {
  constructor(readonly id: string, what: 'agent' | 'supervisor') {
    super(`There is already ${what === 'agent' ? 'an agent' : 'a supervisor'} "${id}" in this system; fork under another id (--as)`);
  }
}

/** Time travel is not available here (a cluster node: the agent's subtree may run on another node). */
export class TimeTravelUnavailableError extends FaultlineError {
  constructor(what: string) {
    super(`${what} is not available on a cluster node yet; run it against a runtime that is not part of a cluster`);
  }
}

export function registerHistoryMethods(rt: Runtime): void {
  /** Fork ids being started: two forks under one id must not both pass the check. */
  const forking = new Set<string>();
  /** The forks running or down, by id. */
  const forks = new Map<string, AgentNode>();
  // A supervisor that started afresh (restarted by its parent or by a user) built its children from the config: its forks are gone.
  rt.events.on('supervisor.state', (e: { state: string }) => {
    if (e.state !== 'running') return;
    for (const [id, node] of forks) {
      const sup = rt.root.find(node.supervisorId);
      if (sup && sup.children.includes(node)) continue;
      forks.delete(id);
      rt.forgetAgent(id);
      rt.log.info({ agent: id, supervisor: node.supervisorId }, `fork ${id} is gone: its supervisor ${node.supervisorId} started afresh from the config`);
    }
  });

  const agentNode = (id: string): AgentNode => {
    const node = rt.agentIds.includes(id) ? rt.agent(id) : undefined;
    if (!node) throw new UnknownAgentError(id, rt.agentIds);
    return node;
  };
  const supervisorOf = (node: AgentNode): Supervisor => {
    const sup = rt.root.find(node.supervisorId);
    if (!sup) throw new Error(`the supervisor "${node.supervisorId}" of ${node.id} is gone`);
    return sup;
  };

  rt.methods.set('checkpoint.get', async (p): Promise<CheckpointGetResult> => {
    if (!rt.agentIds.includes(p.agent)) throw new UnknownAgentError(p.agent, rt.agentIds);
    const { info, state } = await readCheckpoint(rt.store, p.agent, p.seq);
    return { agent: info.agent, seq: info.seq, kind: info.kind, version: info.version, time: info.time, size: info.size, valid: info.valid, state };
  });

  rt.methods.set('agent.restore', async (p): Promise<RestoreResult> => {
    if (rt.cluster) throw new TimeTravelUnavailableError('faultline restore');
    const node = agentNode(p.agent);
    const sup = supervisorOf(node);
    const from = await readCheckpoint(rt.store, p.agent, p.seq);
    let seq = 0;
    // Written while the agent is down: nothing else writes its checkpoints then, so it comes up from this one.
    await sup.restartChild(p.agent, async () => {
      seq = (await rt.store.put({ agent: p.agent, version: from.info.version, state: from.state, kind: 'restore' })).seq;
    });
    const now = rt.agent(p.agent) ?? node;
    rt.log.info({ agent: p.agent, from: p.seq, seq }, `restored ${p.agent} from checkpoint #${p.seq} (as #${seq}); it is ${now.state}`);
    return { agent: p.agent, from: p.seq, seq, state: now.state };
  });

  rt.methods.set('agent.fork', async (p): Promise<ForkResult> => {
    if (rt.cluster) throw new TimeTravelUnavailableError('faultline fork');
    const src = agentNode(p.agent);
    if (rt.agentIds.includes(p.as) || forking.has(p.as)) throw new AgentIdTakenError(p.as, 'agent');
    if (rt.root.find(p.as)) throw new AgentIdTakenError(p.as, 'supervisor');
    forking.add(p.as);
    try {
      const sup = supervisorOf(src);
      const from = await readCheckpoint(rt.store, p.agent, p.seq);
      // Its own inbox: what an earlier run left for an agent of this id is not the fork's.
      const box = rt.store.inboxes().open(p.as);
      for (let e = box.peek(); e; e = box.peek()) await box.ack(e.id);
      const { seq } = await rt.store.put({ agent: p.as, version: from.info.version, state: from.state, kind: 'fork' });
      rt.agentIds.push(p.as);
      let child;
      try {
        child = await sup.addChild({ ...src.spec, id: p.as, restart: 'temporary' });
      } catch (e) {
        rt.agentIds.splice(rt.agentIds.indexOf(p.as), 1);
        throw e;
      }
      forks.set(p.as, child as AgentNode);
      rt.log.info({ agent: p.as, from: p.agent, fromSeq: p.seq, supervisor: sup.id }, `forked ${p.agent} #${p.seq} as ${p.as} (temporary, under ${sup.id}); it is ${child.state}`);
      return { agent: p.as, from: { agent: p.agent, seq: p.seq }, seq, supervisor: sup.id, state: child.state };
    } finally {
      forking.delete(p.as);
    }
  });
}
