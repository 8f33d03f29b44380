/**
 * An MCP tool call through the gateway (an agent's `ctx.call('tools', { tool:
 * 'echo', arguments })` on a `kind: "mcp"` stdio dependency) against the bare
 * `@modelcontextprotocol/sdk` Client over StdioClientTransport calling the
 * same echo server, in the same run. Target <= 1.15x (gatewayHere against
 * bareHere).
 *
 * Every contender has its own process of the same echo server (written by
 * the bench into its workspace) and times its calls itself, inside the
 * process that makes them:
 *
 *  - gatewayHere against bareHere, the target's pair: the runtime's Gateway
 *    (dependency policy, breaker, retry, timeout, health figures, its own
 *    supervised stdio server) and a bare SDK client, both in this process.
 *    What an agent's call adds on top (the hop from its process to the
 *    runtime, the journal, spans, logs) the agent contenders show:
 *  - gateway: an agent (process isolation; also thread) of `faultline up`
 *    from the built CLI, as a user runs it (logs, metrics, journal on). Its
 *    call goes agent → runtime over the host IPC, through the dependency
 *    policy and the runtime's SDK client to the server, and back.
 *  - bareChild: a plain Node child process with the SDK client (the
 *    baseline the target is about: no IPC hop, no runtime).
 *  - bareInAgent: the SDK client driven from inside an agent process of the
 *    same runtime (same host, same loop; still no IPC hop).
 *  - bareRelay: like for like in hops: a plain child sends each call over raw
 *    `process.send` to this process, which makes it with the SDK client and
 *    sends the result back (agent → parent → server → parent → agent).
 *
 * Rounds alternate (the order rotates each round) so that all see the same
 * machine load; each figure is the median over rounds of each round's median.
 *
 *   node --import tsx bench/mcp.bench.ts
 */
import { fork } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { buildSync } from 'esbuild';
import { benchUp, benchWorkspace, print, quantile, round } from './lib.ts';

const N = Number(process.env.CALLS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const TARGET = 1.15;
/** Calls before the timed ones on a fresh gateway or client. */
const WARM = 1500;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** µs per call: median and p99 of the latency; for the contenders in this process, the CPU of this process (not the server's). */
type Round = { median: number; p99: number; cpuUs?: number };

const SERVER = `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
const s = new McpServer({ name: 'bench-echo', version: '1.0.0' });
s.registerTool('echo', { description: 'Answers with its text', inputSchema: { text: z.string(), i: z.number() } }, async ({ text, i }) => ({ content: [{ type: 'text', text: i + ' ' + text }] }));
await s.connect(new StdioServerTransport());
`;

/** The timed loop: `call(i)` n times, each checked, answering the median and p99 in µs. */
const LOOP = `async function loop(n, call) {
  const t = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await call(i);
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (r.content?.[0]?.text !== i + ' ping ping ping ping') throw new Error('bad echo: ' + JSON.stringify(r));
  }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)] };
}
const args = (i) => ({ text: 'ping ping ping ping', i });`;

/** A bare SDK client to its own echo server (spawned as the runtime spawns it). */
const BARE_CLIENT = `import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
let client;
async function connect() {
  if (client) return client;
  const c = new Client({ name: 'bench-bare', version: '1.0.0' });
  await c.connect(new StdioClientTransport({ command: process.execPath, args: [${JSON.stringify('SERVER_PATH')}], stderr: 'pipe' }));
  return (client = c);
}
const bareCall = (i) => client.callTool({ name: 'echo', arguments: args(i) });`;

const sources = (server: string) => {
  const bare = BARE_CLIENT.replace('"SERVER_PATH"', JSON.stringify(server));
  return {
    gateway: `${LOOP}
export default { onMessage: (m, ctx) => loop(m.n, (i) => ctx.call('tools', { tool: 'echo', arguments: args(i) })) };`,
    bareInAgent: `${bare}
${LOOP}
export default { async onMessage(m) { await connect(); return loop(m.n, bareCall); } };`,
    bareChild: `${bare}
${LOOP}
await connect();
process.on('message', async (m) => process.send(await loop(m.n, bareCall)));
process.send({ ready: true });`,
    relayChild: `${LOOP}
const waiting = new Map();
process.on('message', (m) => {
  if (m.n) loop(m.n, (i) => new Promise((resolve) => { waiting.set(i, resolve); process.send({ i, args: args(i) }); })).then((r) => process.send({ done: r }));
  else { const w = waiting.get(m.i); waiting.delete(m.i); w(m.result); }
});`,
  };
};

const dir = benchWorkspace({});
// The workspace resolves the SDK and zod from the repository's node_modules.
symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
const serverPath = path.join(dir, 'echo-server.mjs');
writeFileSync(serverPath, SERVER);
const src = sources(serverPath);
for (const [name, s] of Object.entries(src)) writeFileSync(path.join(dir, name === 'bareChild' || name === 'relayChild' ? `${name}.mjs` : path.join('agents', `${name}.mjs`)), s);

const up = await benchUp(dir, {
  runtime: { spares: 0 },
  // TELEMETRY=none: traces, logs and metrics off, to see what they cost.
  ...(process.env.TELEMETRY === 'none' ? { telemetry: { traces: 'none', logs: 'none', metrics: 'none' } } : {}),
  // STORE=memory: the call journal (and checkpoints) in memory instead of SQLite, to see what the journal costs.
  ...(process.env.STORE ? { checkpoints: { store: process.env.STORE } } : {}),
  dependencies: { tools: { kind: 'mcp', command: process.execPath, args: ['./echo-server.mjs'] } },
  supervisor: {
    id: 'root',
    children: [
      { agent: { id: 'gateway', module: 'agents/gateway.mjs', isolation: 'process' } },
      { agent: { id: 'gatewayThread', module: 'agents/gateway.mjs', isolation: 'thread' } },
      { agent: { id: 'bareInAgent', module: 'agents/bareInAgent.mjs', isolation: 'process' } },
    ],
  },
});
const ask = (agent: string) => (n: number) => up.client.call('ask', { agent, message: { n }, timeoutMs: 120_000 }, 130_000) as Promise<Round>;

// The plain child with a bare client.
const child = fork(path.join(dir, 'bareChild.mjs'), [], { cwd: dir, execArgv: [] });
await new Promise<void>((resolve, reject) => {
  child.once('message', () => resolve());
  child.once('exit', (code) => reject(new Error(`bareChild exited ${code}`)));
});
const bareChild = (n: number) => new Promise<Round>((resolve) => {
  child.once('message', (m) => resolve(m as Round));
  child.send({ n });
});

// The relay: a plain child → raw process.send → this process's SDK client → the server.
const relayClient = new Client({ name: 'bench-relay', version: '1.0.0' });
await relayClient.connect(new StdioClientTransport({ command: process.execPath, args: [serverPath], stderr: 'pipe' }));
const relay = fork(path.join(dir, 'relayChild.mjs'), [], { cwd: dir, execArgv: [] });
let relayDone: ((r: Round) => void) | undefined;
relay.on('message', (m: any) => {
  if (m.done) relayDone!(m.done);
  else relayClient.callTool({ name: 'echo', arguments: m.args }).then((result) => relay.send({ i: m.i, result }));
});
const bareRelay = (n: number) => new Promise<Round>((resolve) => {
  relayDone = resolve;
  relay.send({ n });
});

/** The loop of LOOP, in this process. */
async function loopHere(n: number, call: (i: number) => Promise<any>): Promise<Round> {
  const t: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const r = await call(i);
    t.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (r.content?.[0]?.text !== i + ' ping ping ping ping') throw new Error('bad echo: ' + JSON.stringify(r));
  }
  const cpu = process.cpuUsage(cpu0);
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)], cpuUs: (cpu.user + cpu.system) / n };
}
const argsHere = (i: number) => ({ text: 'ping ping ping ping', i });

// The gateway in this process, as the runtime builds it for a `kind: "mcp"` stdio dependency, and
// bundled as the runtime's is (the sources through tsx keep every function's name, at a cost per closure).
buildSync({ entryPoints: [path.join(repo, 'runtime/gateway/Gateway.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: path.join(dir, 'gateway.bundle.mjs'), logLevel: 'warning' });
const { Gateway } = (await import(path.join(dir, 'gateway.bundle.mjs'))) as typeof import('../runtime/gateway/Gateway.ts');
// A fresh gateway and a fresh client, each with its own server process, every round: where a pair of
// long-lived processes lands on the cores would otherwise favour one contender for the whole run.
let gwEvents = 0;
const gatewayHere = async (n: number) => {
  const gw = new Gateway({ dependencies: { tools: { kind: 'mcp', command: process.execPath, args: ['./echo-server.mjs'] } as never }, baseDir: dir, log: () => undefined });
  gw.onEvent(() => void (gwEvents += 1));
  const call = (i: number) => gw.call('tools', { tool: 'echo', arguments: argsHere(i) }, { agent: 'bench', point: 'echo' });
  try {
    await loopHere(WARM, call);
    return await loopHere(n, call);
  } finally {
    gw.dispose();
  }
};
const bareHere = async (n: number) => {
  const client = new Client({ name: 'bench-here', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [serverPath], stderr: 'pipe' }));
  const call = (i: number) => client.callTool({ name: 'echo', arguments: argsHere(i) });
  try {
    await loopHere(WARM, call);
    return await loopHere(n, call);
  } finally {
    await client.close();
  }
};

// gatewayHere and bareHere stay next to each other in every round's order (it rotates), so that each pair sees the same moment.
const contenders: Record<string, (n: number) => Promise<Round>> = {
  gatewayHere,
  bareHere,
  gateway: ask('gateway'),
  gatewayThread: ask('gatewayThread'),
  bareChild,
  bareInAgent: ask('bareInAgent'),
  bareRelay,
};
const names = Object.keys(contenders);
const rounds: Record<string, Round[]> = Object.fromEntries(names.map((k) => [k, []]));
const t0 = Date.now();
try {
  for (const name of names) await contenders[name](N); // warm-up (and the bare-in-agent client's connect)
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      rounds[name].push(await contenders[name](N));
    }
  }
} finally {
  child.kill('SIGTERM');
  relay.kill('SIGTERM');
  await relayClient.close();
  await up.close();
}

const medianOf = (xs: number[]) => quantile([...xs].sort((x, y) => x - y), 0.5);
const summary = (rs: Round[]) => ({
  medianUs: round(medianOf(rs.map((r) => r.median)), 1),
  p99Us: round(medianOf(rs.map((r) => r.p99)), 1),
  roundMediansUs: rs.map((r) => round(r.median, 1)),
  ...(rs[0]?.cpuUs !== undefined ? { cpuUsPerCall: round(medianOf(rs.map((r) => r.cpuUs!)), 1) } : {}),
});
const s = Object.fromEntries(names.map((k) => [k, summary(rounds[k])])) as Record<string, ReturnType<typeof summary>>;
const ratio = (a: string, b: string) => round(s[a].medianUs / s[b].medianUs);
const diff = (a: string, b: string) => round(s[a].medianUs - s[b].medianUs, 1);

print({
  benchmark: 'mcp-tool-call',
  what:
    'An MCP tools/call (echo) on a stdio server: an agent\'s ctx.call through `faultline up` against the bare @modelcontextprotocol/sdk Client over StdioClientTransport, timed inside the calling process. ' +
    'The gateway figure includes the agent-process → runtime IPC hop (and back) that the bare client in a plain child does not make; bareRelay adds exactly that hop to the bare client (raw process.send to a parent holding the SDK client), so gatewayVsBareRelay is like for like in hops and prices only the runtime (policy, journal, span, logs, metrics).',
  unit: 'µs per call; median over interleaved rounds of each round’s median',
  callsPerRound: N,
  rounds: ROUNDS,
  seconds: round((Date.now() - t0) / 1000, 1),
  figure: { gatewayHere: s.gatewayHere, gateway: s.gateway, gatewayThread: s.gatewayThread },
  baseline: { bareHere: s.bareHere, bareChild: s.bareChild, bareInAgent: s.bareInAgent, bareRelay: s.bareRelay },
  ratios: {
    gatewayHereVsBareHere: ratio('gatewayHere', 'bareHere'),
    gatewayVsBareChild: ratio('gateway', 'bareChild'),
    gatewayThreadVsBareChild: ratio('gatewayThread', 'bareChild'),
    gatewayVsBareInAgent: ratio('gateway', 'bareInAgent'),
    gatewayVsBareRelay: ratio('gateway', 'bareRelay'),
  },
  differencesUs: {
    gatewayHereMinusBareHere: diff('gatewayHere', 'bareHere'),
    gatewayMinusBareChild: diff('gateway', 'bareChild'),
    gatewayThreadMinusBareChild: diff('gatewayThread', 'bareChild'),
    gatewayMinusBareInAgent: diff('gateway', 'bareInAgent'),
    gatewayMinusBareRelay: diff('gateway', 'bareRelay'),
    bareRelayMinusBareChild: diff('bareRelay', 'bareChild'),
  },
  // Each round's gatewayHere over that round's bareHere (they run back to back), the median over rounds.
  // The CPU this process spends per call, gateway against bare client: what the policy costs, with none of the placement noise of the latency.
  addedCpuUsPerCall: round(s.gatewayHere.cpuUsPerCall! - s.bareHere.cpuUsPerCall!, 1),
  pairedGatewayHereVsBareHere: round(medianOf(rounds.gatewayHere.map((r, i) => r.median / rounds.bareHere[i].median))),
  target: { gatewayHereVsBareHere: `<= ${TARGET}`, met: medianOf(rounds.gatewayHere.map((r, i) => r.median / rounds.bareHere[i].median)) <= TARGET },
  gatewayEvents: gwEvents,
  store: process.env.STORE ?? 'sqlite',
  telemetry: process.env.TELEMETRY === 'none' ? 'none' : 'default',
  node: process.version,
});
process.exit(0);
