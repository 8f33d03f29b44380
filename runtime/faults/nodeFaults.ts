/**
 * Node faults, for rehearsing the loss of a cluster node: `kill-node <id>`
 * (SIGKILL of that node's runtime, no clean-up at all: its agent processes
 * go with it) and `pause-node <id> --ms N` (SIGSTOP of the runtime and its
 * agent processes, SIGCONT after N ms, as a frozen VM or a long GC pause
 * would). Any node takes them: a fault aimed at another node is handed to
 * it over the cluster's control channel, and that node applies it to itself.
 */
import { spawn } from 'node:child_process';
import { RpcError, RpcErrorCode, type FaultSpec } from '../protocol/rpc.ts';
import { NODE_FAULTS } from '../protocol/faults.ts';
import type { ClusterNode } from '../cluster/ClusterNode.ts';
import type { ActiveFault, FaultFamily } from './FaultCatalogue.ts';

/**
 * A process of its own that stops the node and continues it: a stopped
 * process cannot continue itself. It waits a moment first, so that the
 * reply to `inject` goes out before the node stops.
 */
const PAUSER = `
const [ms, ...pids] = process.argv.slice(1).map(Number);
const all = (sig) => { for (const p of sig === 'SIGSTOP' ? pids : [...pids].reverse()) { try { process.kill(p, sig); } catch {} } };
setTimeout(() => { all('SIGSTOP'); setTimeout(() => all('SIGCONT'), ms); }, 50);
`;

export interface NodeFaultHost {
  cluster: ClusterNode | undefined;
  /** The processes of this node's agents: paused along with the runtime. */
  agentPids(): number[];
}

export function nodeFaults(host: NodeFaultHost): FaultFamily {
  return {
    kind: 'runtime',
    faults: NODE_FAULTS,
    validate(spec: FaultSpec) {
      const c = host.cluster;
      if (!c) throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${spec.fault} needs a cluster ("cluster" in the config, faultline up --node); kill-runtime kills this runtime`);
      const up = c.nodes().filter((n) => n.state === 'up').map((n) => n.id);
      if (spec.target !== c.node && !up.includes(spec.target)) throw new RpcError(RpcErrorCode.NotFound, `No node "${spec.target}" is up (nodes up: ${[...new Set([c.node, ...up])].join(', ')})`);
      if (spec.fault === 'pause-node') {
        const ms = typeof spec.params?.ms === 'string' ? Number(spec.params.ms) : spec.params?.ms;
        if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 600_000) throw new RpcError(RpcErrorCode.InvalidParams, 'Invalid params: "ms" (how long the node stays paused) must be an integer between 1 and 600000');
      }
    },
    async apply(f: ActiveFault) {
      const c = host.cluster!;
      if (f.target !== c.node) {
        // That node applies it to itself; this one only passes it on.
        try {
          await c.callNode(f.target, 'inject', { fault: f.fault, target: f.target, params: f.params });
        } catch (e) {
          throw new RpcError(RpcErrorCode.Unavailable, `Node ${f.target} did not take the ${f.fault} fault: ${(e as Error).message}`);
        }
        f.params = { ...f.params, via: c.node };
        return true;
      }
      if (f.fault === 'kill-node') {
        // After the reply has gone out: a SIGKILL, like a machine lost, with no clean-up at all.
        setTimeout(() => process.kill(process.pid, 'SIGKILL'), 50);
        return true;
      }
      const ms = Number(f.params.ms);
      const pids = [process.pid, ...host.agentPids()];
      const p = spawn(process.execPath, ['-e', PAUSER, String(ms), ...pids.map(String)], { detached: true, stdio: 'ignore' });
      p.unref();
      f.params = { ...f.params, processes: pids.length };
      return true;
    },
  };
}
