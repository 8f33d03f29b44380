/**
 * The `agent.state` event that says a wait started or ended: the agent's
 * state is unchanged (`previous` = `state`), `wait` names the change and
 * `waiting` lists what is still pending.
 */
import type { AgentStateEvent } from '../protocol/events.ts';
import type { WaitChange, WaitingEntry } from '../protocol/schema/status.ts';
import type { AgentNode } from '../supervision/AgentNode.ts';

export function waitStateEvent(node: AgentNode, wait: WaitChange, waiting: WaitingEntry[]): AgentStateEvent {
  const st = node.status();
  return {
    time: new Date().toISOString(),
    agent: node.id,
    supervisor: node.supervisorId,
    state: st.state,
    previous: st.state,
    pid: st.pid,
    restarts: st.restarts,
    isolation: st.isolation,
    wait,
    waiting,
  };
}
