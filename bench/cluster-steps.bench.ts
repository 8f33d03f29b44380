/**
 * Durable steps with three cluster nodes against one, on the same PostgreSQL
 * server: 48 process-isolated agents whose every message sets a ~1 KB state,
 * awaits `ctx.checkpoint()` and replies (steps.bench's stepper); 64
 * concurrent askers, each ask sent to the node that runs the agent (as a
 * client that routes by `faultline nodes` would; forwarding is measured by
 * cluster.bench). First one node runs all 48 (the baseline, in cluster mode
 * so that both carry the same fencing), then two more join and take their
 * share. Where the time goes: CPU of the whole machine, of the PostgreSQL
 * server's processes and of this program over each measured round.
 *
 * Env: STEPS (measured steps per round, default 10000), ROUNDS (default 3), WARMUP (default 10000).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PostgresServer } from '../test/helpers/servers.ts';
import { up, workspace, type Running } from '../test/helpers/runtime.ts';
import type { RuntimeClient } from '../runtime/cli/client.ts';
import type { RuntimeStatus } from '../runtime/protocol/status.ts';
import { print, quantile, round, sleep, agentSources } from './lib.ts';

const { stepper } = agentSources;

const AGENTS = 48;
const ASKERS = 64;
const STEPS = Number(process.env.STEPS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 10_000);
const SECRET = 'cluster-steps-bench-secret-0123456789';

const ids = Array.from({ length: AGENTS }, (_, i) => `s${String(i).padStart(2, '0')}`);
const config = {
  name: 'cluster-steps',
  checkpoints: { store: 'postgres', urlEnv: 'FAULTLINE_PG_URL' },
  cluster: { leaseMs: 3000 },
  runtime: { spares: 0 },
  supervisor: { id: 'root', intensity: 1000, children: ids.map((id) => ({ agent: { id, module: 'agents/stepper.mjs', isolation: 'process' } })) },
};

/** CPU seconds: the whole machine (busy, all cores), PostgreSQL's processes, this program. */
function cpu() {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = f.map(Number);
  const tick = 100; // USER_HZ
  const busy = (n[0] + n[1] + n[2] + n[5] + n[6] + n[7]) / tick;
  let pg = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      pg += (Number(rest[11]) + Number(rest[12])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  const me = process.cpuUsage();
  return { busy, pg, me: (me.user + me.system) / 1e6 };
}

interface Round { perSec: number; lat: number[]; cores: { machine: number; postgres: number; bench: number; runtimes: number } }

async function measure(total: number, routes: Map<string, RuntimeClient>): Promise<Round> {
  const lat: number[] = [];
  let issued = 0;
  const c0 = cpu();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: ASKERS }, async () => {
      while (issued < total) {
        const i = issued++;
        const agent = ids[i % AGENTS];
        const t0 = performance.now();
        await routes.get(agent)!.call('ask', { agent, message: { i }, timeoutMs: 60_000 }, 120_000);
        lat.push(performance.now() - t0);
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  const c1 = cpu();
  const machine = (c1.busy - c0.busy) / secs;
  const postgres = (c1.pg - c0.pg) / secs;
  const bench = (c1.me - c0.me) / secs;
  return { perSec: lat.length / secs, lat, cores: { machine: round(machine, 2), postgres: round(postgres, 2), bench: round(bench, 2), runtimes: round(machine - postgres - bench, 2) } };
}

async function settled(r: Running, nodes: string[]): Promise<RuntimeStatus> {
  return r.until((s) => (s.cluster?.nodes.filter((n) => n.state === 'up').length ?? 0) === nodes.length && s.tree.children.every((c) => c.state === 'running' && nodes.includes(c.node ?? '')) && nodes.every((n) => s.tree.children.some((c) => c.node === n)), 'the cluster settled', 120_000);
}

async function rounds(nodes: Map<string, Running>): Promise<{ runs: Round[]; placement: Record<string, number> }> {
  const s = await settled([...nodes.values()][0], [...nodes.keys()]);
  const routes = new Map(s.tree.children.map((c) => [c.id, nodes.get(c.node!)!.client]));
  const placement: Record<string, number> = {};
  for (const c of s.tree.children) placement[c.node!] = (placement[c.node!] ?? 0) + 1;
  await measure(WARMUP, routes);
  const runs: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await measure(STEPS, routes));
  return { runs, placement };
}

const summary = (x: { runs: Round[]; placement: Record<string, number> }) => {
  const sorted = [...x.runs].sort((a, b) => a.perSec - b.perSec);
  const median = sorted[Math.floor(sorted.length / 2)];
  const lat = x.runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  return { stepsPerSec: round(median.perSec, 0), p50Ms: round(quantile(lat, 0.5), 2), p99Ms: round(quantile(lat, 0.99), 2), agentsPerNode: x.placement, coresBusy: median.cores };
};

const pg = await new PostgresServer().start();
const env = { FAULTLINE_PG_URL: pg.url, FAULTLINE_CLUSTER_TOKEN: SECRET };
const start = (id: string) => {
  const dir = workspace(config);
  writeFileSync(path.join(dir, 'agents', 'stepper.mjs'), stepper);
  return up(dir, ['--node', id, '--quiet'], env);
};
const nodes = new Map<string, Running>();
let one, three;
try {
  nodes.set('t1', await start('t1'));
  one = summary(await rounds(nodes));
  process.stderr.write(`1 node: ${one.stepsPerSec} steps/s\n`);
  for (const id of ['t2', 't3']) nodes.set(id, await start(id));
  await sleep(500);
  three = summary(await rounds(nodes));
  process.stderr.write(`3 nodes: ${three.stepsPerSec} steps/s\n`);
} finally {
  await Promise.all([...nodes.values()].map((r) => r.stop()));
  await pg.dispose();
}
print({
  what: `durable steps (1 KB state, ctx.checkpoint() committed before the reply) of ${AGENTS} process agents, ${ASKERS} concurrent askers, each ask sent to the agent's node; one PostgreSQL server; ${os.cpus().length} cores`,
  steps: STEPS,
  rounds: ROUNDS,
  baseline: { nodes: 1, ...one },
  cluster: { nodes: 3, ...three },
  ratio: round(three!.stepsPerSec / one!.stepsPerSec, 2),
});
