/**
 * A stand-in runtime for the kill -9 test: restores each agent from the state
 * file, then produces messages into the agents' durable inboxes and handles
 * them, checkpointing each handling with the message's ack, and reports every
 * acknowledgement to the parent over IPC the moment it has it. The parent
 * SIGKILLs it at a random instant.
 *
 * argv: <state file> <round> <agents>
 */
import { SqliteCheckpointStore } from '../SqliteCheckpointStore.ts';

interface AgentState {
  n: number;
  lastHandled: string | null;
  pad: string;
}

const [file, round, agentCount] = process.argv.slice(2);
const store = new SqliteCheckpointStore(file, { retain: 1_000_000 });
const send = (m: unknown) => process.send?.(m);
const pad = 'x'.repeat(300);

async function runAgent(agent: string) {
  let state = ((await store.latest(agent))?.state as AgentState | undefined) ?? { n: 0, lastHandled: null, pad };
  const box = store.inboxes().open(agent);

  const produce = async () => {
    for (let k = 0; ; k++) {
      const id = `r${round.padStart(3, '0')}-${String(k).padStart(6, '0')}`;
      await box.put({ id, kind: 'send', message: { k, pad }, at: Date.now() });
      send({ t: 'msg', agent, id });
    }
  };

  const consume = async () => {
    for (;;) {
      const e = box.peek();
      if (!e) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      box.delivering(e.id);
      const next: AgentState = { n: state.n + 1, lastHandled: e.id, pad };
      const { seq } = await store.put({ agent, version: 1, state: next, ack: e.id });
      state = next;
      send({ t: 'cp', agent, seq, n: next.n, handled: e.id });
    }
  };

  await Promise.all([produce(), consume()]);
}

const agents = Array.from({ length: Number(agentCount) }, (_, i) => `agent-${i}`);
send({ t: 'ready' });
await Promise.all(agents.map(runAgent));
