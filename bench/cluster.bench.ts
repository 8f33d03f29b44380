/**
 * A cluster of `faultline up --node` processes on one PostgreSQL:
 * - failover: a node running 30 agents killed with SIGKILL, the time until
 *   every one of them answers an ask again on the other node (leaseMs 2000),
 *   10 rounds (a fresh node joins between rounds and takes its share back);
 * - an ask round trip to an agent on another node against one to an agent
 *   on the node asked, in the same run.
 * Agents run as worker threads so that two nodes with 60 agents fit on this
 * machine's 2 cores; a process agent's own start is measured by restart.bench.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresServer } from '../test/helpers/servers.ts';
import { probe, up, workspace, type Running } from '../test/helpers/runtime.ts';
import { print, round, stats } from './lib.ts';
import type { RuntimeStatus } from '../runtime/protocol/status.ts';

const LEASE_MS = 2000;
const AGENTS = 60;
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const ASKS = Number(process.env.ASKS ?? 2000);
const SECRET = 'cluster-bench-secret-0123456789abcdef';

const pg = await new PostgresServer().start();
const ids = Array.from({ length: AGENTS }, (_, i) => `w${String(i).padStart(2, '0')}`);
const config = {
  name: 'cluster-bench',
  checkpoints: { store: 'postgres', urlEnv: 'FAULTLINE_PG_URL' },
  cluster: { leaseMs: LEASE_MS },
  runtime: { askTimeoutMs: 10_000, spares: 0 },
  supervisor: { id: 'root', intensity: 1000, children: ids.map((id) => probe(id, { isolation: 'thread' })) },
};
let seq = 0;
const start = () => up(workspace(config), ['--node', `b${++seq}`, '--quiet'], { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: SECRET });
const owners = (s: RuntimeStatus) => new Map(s.tree.children.map((c) => [c.id, c.node]));
async function settled(r: Running, nodes: string[]) {
  return r.until((s) => (s.cluster?.nodes.filter((n) => n.state === 'up').length ?? 0) === nodes.length && s.tree.children.every((c) => c.state === 'running' && nodes.includes(c.node ?? '')) && nodes.every((n) => s.tree.children.some((c) => c.node === n)), 'the cluster settled', 60_000);
}

const failovers: number[] = [];
let keep = await start();
let victim = await start();
let sameMs: number[] = [];
let crossMs: number[] = [];
try {
  await settled(keep, ['b1', 'b2']);
  // Ask round trips, both asked of the node kept.
  {
    const placed = owners(await keep.status());
    const here = ids.find((a) => placed.get(a) === 'b1')!;
    const there = ids.find((a) => placed.get(a) === 'b2')!;
    const time = async (agent: string) => {
      const out: number[] = [];
      for (let i = 0; i < ASKS; i++) {
        const t = performance.now();
        await keep.client.call('ask', { agent, message: { op: 'echo', value: i } });
        out.push(performance.now() - t);
      }
      return out;
    };
    await time(here);
    await time(there);
    for (let r = 0; r < 3; r++) {
      sameMs = sameMs.concat(await time(here));
      crossMs = crossMs.concat(await time(there));
    }
  }
  for (let round_ = 0; round_ < ROUNDS; round_++) {
    const placed = owners(await keep.status());
    const node = `b${seq}`;
    const moved = ids.filter((a) => placed.get(a) === node);
    const t0 = performance.now();
    victim.proc.kill('SIGKILL');
    const done = await Promise.all(
      moved.map(async (a) => {
        for (;;) {
          try {
            await keep.client.call('ask', { agent: a, message: { op: 'echo', value: round_ }, timeoutMs: 10_000 }, 15_000);
            return performance.now() - t0;
          } catch {
            await sleep(10);
          }
        }
      }),
    );
    failovers.push(Math.max(...done));
    process.stderr.write(`round ${round_ + 1}: ${moved.length} agents answered again after ${Math.round(Math.max(...done))} ms\n`);
    await victim.exited;
    await victim.stop();
    victim = await start();
    await settled(keep, ['b1', `b${seq}`]);
  }
} finally {
  await Promise.all([keep.stop(), victim.stop()]);
  await pg.dispose();
}
const f = stats(failovers);
const same = stats(sameMs);
const cross = stats(crossMs);
print({
  failover: { what: `SIGKILL of a node running ${AGENTS / 2} agents until all answer asks on the other node, leaseMs ${LEASE_MS}`, rounds: ROUNDS, p50Ms: round(f.median, 0), p99Ms: round(f.p99, 0), maxMs: round(f.max, 0), targetP99Ms: 3000, baseline: { leaseMs: LEASE_MS, note: 'a lease cannot be taken before it expires: between 2/3 and 1 leaseMs after the last renewal' } },
  ask: { what: 'ask round trip from a control-channel client: agent on the node asked (baseline) vs on another node', asks: sameMs.length, sameNodeP50Ms: round(same.median), crossNodeP50Ms: round(cross.median), sameNodeP99Ms: round(same.p99), crossNodeP99Ms: round(cross.p99), ratio: round(cross.median / same.median, 2), target: '<= 2' },
});
