/**
 * The `faultline` CLI. Exit codes: 0 success, 1 failure, 2 bad usage.
 * Every command but `up` reaches the runtime through `.faultline/runtime.json`.
 */
import type { TracesResult } from '../protocol/schema/traces.ts';
import { ConfigError } from '../errors.ts';
import { findNode } from '../protocol/status.ts';
import { intOption, jsonArg, parse, UsageError } from './args.ts';
import { findStateDir, locateRuntime, RuntimeClient, RuntimeRpcError, RuntimeUnreachableError } from './client.ts';
import { renderNodes, renderStatus } from './render.ts';
import { up, upHelp } from './up.ts';
import { MOCK_MODEL_USAGE, runMockModel } from '../mockModel/cli.ts';
import { DRILL_USAGE, drillCommand } from '../drills/cli.ts';
import { LOAD_USAGE, loadCommand } from '../load/cli.ts';
import { CHAOS_USAGE, chaosCommand } from '../chaos/cli.ts';
import { MACHINE_USAGE, renderMachine } from './machine.ts';
import { CALL_USAGE, TOOLS_USAGE, renderTools } from './mcp.ts';
import { CHECKPOINT_USAGE, FORK_USAGE, RESTORE_USAGE, cameUp, renderCheckpoint, renderFork, renderRestore, seqArg } from './history.ts';

export { configJsonSchema } from '../config/schema.ts';
export { protocolJsonSchema } from '../protocol/schema/index.ts';

const HELP = `Faultline: run fault-tolerant agent systems.

Usage: faultline <command> [options]

Commands:
  up [--config F] [--port N]            run the system in the foreground
  status [--json]                       the supervision tree: states, pids, restarts, breakers
  nodes [--json]                        a cluster's nodes: up or down, what each runs, last heartbeat
  send <agent> <json>                   queue a message for an agent
  ask <agent> <json> [--timeout-ms N] [--stream]   ask an agent and print its reply as JSON
  signal <agent> <name> <json>          signal an agent's ctx.waitFor(name) (kept until a wait takes it)
  restart <agent>                       restart an agent or a supervisor subtree
  stop <agent>                          stop an agent or subtree (it stays down)
  inject <fault> <target> [options]     inject a fault (kill, crash, hang, crash-loop, slow, memory, error, kill-server, …)
  faults [--json]                       the active faults
  clear [faultId]                       clear one fault, or all
  checkpoints <agent> [--json]          an agent's stored checkpoints
  checkpoint <agent> <seq> [--json]     the state at one checkpoint
  restore <agent> <seq>                 restart an agent from a checkpoint's state (appended as a new checkpoint)
  fork <agent> <seq> --as <id>          start a temporary agent <id> beside it from a checkpoint's state
  alerts [--json]                       the alerts firing now
  tools <dependency> [--json]           the tools of an MCP dependency's server
  call <dependency> <json>              call a dependency through its policy and print the reply as JSON
  traces [--agent A] [--limit N] [--json]   the last traces the runtime kept (telemetry on), as trees of spans
  machine <agent|supervisor> [--json]   a lifecycle machine: state, context, transitions from here
  drill <file> [--json] [--report F]    run a drill: steady state, faults, load, recovery; exit 0 if it held
  load --to A --rate R --duration-ms D  asks at a fixed rate; throughput, latency percentiles, errors
  chaos --kill-interval-ms N --duration-ms D [--seed S]   kill agents at seeded random intervals
  mock-model [--port N]                 a local OpenAI-compatible model server with fault modes
  down                                  stop the runtime (agents in reverse order)
  schema [--protocol]                   print the JSON Schema of faultline.config.json (--protocol: of the control protocol)

Options for commands that talk to a running runtime:
  --state-dir D   the runtime's state dir (default: the nearest .faultline/ with a runtime.json)
  --config F      find the runtime of this config (its .faultline/ beside it)

Run \`faultline <command> --help\` for a command's options.`;

const helps: Record<string, string> = {
  up: upHelp,
  status: 'Usage: faultline status [--json]\n\nPrints the supervision tree with each node\'s state, pid, restarts and isolation, and each dependency\'s breaker. --json prints the status JSON.',
  nodes: 'Usage: faultline nodes [--json]\n\nLists the nodes of the cluster this runtime belongs to: each one\'s state (up while its heartbeat is younger than the lease), the children of the root it runs, its URL and its last heartbeat. The node that answered is marked *. --json prints status.cluster.nodes. Exits 1 when the config is not a cluster.',
  send: 'Usage: faultline send <agent> <json>\n\nQueues <json> in the agent\'s mailbox and returns once it is stored. Prints {"accepted":true} with --json.',
  ask: 'Usage: faultline ask <agent> <json> [--timeout-ms N] [--traceparent T] [--stream]\n\nAsks the agent and prints its reply as JSON. Exits 1 when the agent does not reply within the timeout (default 5000 ms) or fails.\n--stream prints what the agent sends with ctx.streamReply as it comes, then the reply on its own line.\n--traceparent T continues the caller\'s trace (W3C trace context): with telemetry on, the agent\'s span is a child of T.',
  signal: 'Usage: faultline signal <agent> <name> <json>\n\nSends the signal <name> with the payload <json> to the agent. A wait of the message it handles (`await ctx.waitFor(name)`) takes it at once; otherwise it is stored durably until a wait of that name takes it. Each signal is taken by one wait. Prints {"delivered":true|false} with --json.',
  restart: 'Usage: faultline restart <agent>\n\nStops the agent (or supervisor subtree) gracefully and starts it again. Not counted toward restart intensity.',
  stop: 'Usage: faultline stop <agent>\n\nStops the agent (or supervisor subtree); it stays down until `faultline restart`.',
  checkpoints: 'Usage: faultline checkpoints <agent> [--json]\n\nLists the agent\'s checkpoints: sequence, module version, kind, size, time and validity.',
  checkpoint: CHECKPOINT_USAGE,
  restore: RESTORE_USAGE,
  fork: FORK_USAGE,
  down: 'Usage: faultline down\n\nStops the runtime: agents stop in reverse order within their shutdown times.',
  inject: `Usage: faultline inject <fault> <target> [options]

Injects a fault and prints its id. <target> is an agent id (or a glob such as
"crew-*"), or a dependency id for dependency faults.

Agent faults: kill (SIGKILL the process, terminate the thread), crash (the next
handled message throws), hang (stops heartbeating and handling), crash-loop
(crashes at start --times N), slow (--ms N handling delay), memory (grows until
its heap limit).

Dependency faults (<target> is a dependency id or glob; --point NAME narrows
them to one call site): error (--status N), latency (--ms N), timeout,
blackhole, content-filter, stream-cut, slow-first-token (--ms N), malformed,
isolate (breaker held open until cleared), and for MCP servers over stdio
kill-server (SIGKILL the server process; it is started again with backoff).

Node faults (a cluster; <target> is a node id, any node passes them on):
kill-node (SIGKILL the node's runtime and so its agents), pause-node --ms N
(SIGSTOP the node's runtime and agent processes, SIGCONT after N ms).

Options (each becomes a fault parameter):
  --ms N            delay for slow/latency faults; how long pause-node pauses
  --times N         crash-loop: how many starts crash (default 3)
  --count N         fire at most N times
  --rate P          probability 0..1 of firing each time
  --seed S          seed for --rate, so runs replay
  --duration-ms N   clear the fault after N ms
  --status N        HTTP status for dependency error faults
  --point NAME      only at the ctx.call/ctx.model site named NAME
  --param k=v       any other parameter (repeatable; v parsed as JSON when it can be)`,
  faults: 'Usage: faultline faults [--json]\n\nLists the active faults: id, fault, target, parameters, times fired.',
  clear: 'Usage: faultline clear [faultId]\n\nClears one fault, or every fault when no id is given, and restores normal behaviour.',
  alerts: 'Usage: faultline alerts [--json]\n\nLists the alerts firing now: level, rule, subject, value and since when.',
  traces: 'Usage: faultline traces [--agent A] [--limit N] [--trace ID] [--json]\n\nThe last traces the runtime kept (with telemetry on: a `telemetry` block in the config or OTEL_EXPORTER_OTLP_ENDPOINT), newest first: each span indented under its parent with its start offset, duration, agent, errors and events (retry, fallback, fault, crash, checkpoint).',
  tools: TOOLS_USAGE,
  call: CALL_USAGE,
  'mock-model': MOCK_MODEL_USAGE,
  drill: DRILL_USAGE,
  load: LOAD_USAGE,
  chaos: CHAOS_USAGE,
  machine: MACHINE_USAGE,
  schema: 'Usage: faultline schema [--protocol]\n\nPrints the JSON Schema of faultline.config.json (also at dist/faultline.schema.json).\n--protocol prints the control protocol instead, as one JSON Schema document { status, events: { name: schema }, methods: { name: { params, result } } } (also at dist/faultline.protocol.schema.json).',
};

async function withClient<T>(values: { 'state-dir'?: string; config?: string }, fn: (c: RuntimeClient) => Promise<T>): Promise<T> {
  const file = locateRuntime(findStateDir({ stateDir: values['state-dir'], config: values.config }));
  const client = await RuntimeClient.connect(file);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const print = (v: unknown) => console.log(JSON.stringify(v, null, 2));

async function run(cmd: string, argv: string[]): Promise<number> {
  switch (cmd) {
    case 'up':
      return up(argv);
    case 'status': {
      const { values } = parse(argv, {}, [0, 0]);
      const st = await withClient(values, (c) => c.call('status', {}));
      if (values.json) print(st);
      else console.log(renderStatus(st, { color: !!process.stdout.isTTY && !process.env.NO_COLOR }));
      return 0;
    }
    case 'nodes': {
      const { values } = parse(argv, {}, [0, 0]);
      const st = await withClient(values, (c) => c.call('status', {}));
      if (values.json) print(st.cluster?.nodes ?? []);
      else console.log(renderNodes(st, { color: !!process.stdout.isTTY && !process.env.NO_COLOR }));
      return st.cluster ? 0 : 1;
    }
    case 'send': {
      const { values, positionals } = parse(argv, {}, [2, 2]);
      const message = jsonArg(positionals[1], 'the message');
      const r = await withClient(values, (c) => c.call('send', { agent: positionals[0], message }));
      console.log(values.json ? JSON.stringify(r) : `accepted by ${positionals[0]}'s mailbox`);
      return 0;
    }
    case 'ask': {
      const { values, positionals } = parse(argv, { 'timeout-ms': { type: 'string' }, traceparent: { type: 'string' }, stream: { type: 'boolean' } }, [2, 2]);
      const message = jsonArg(positionals[1], 'the message');
      const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms', 1, 3_600_000);
      const traceparent = values.traceparent as string | undefined;
      if (traceparent !== undefined && !/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(traceparent)) throw new UsageError(`--traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got "${traceparent}"`);
      const stream = values.stream === true;
      let streamed = false;
      const reply = await withClient(values, (c) => {
        const sub = stream ? c.onEvent((method, p) => { if (method === 'ask.chunk' && typeof p?.delta === 'string') { streamed = true; process.stdout.write(p.delta); } }) : undefined;
        return c.call('ask', { agent: positionals[0], message, timeoutMs, ...(traceparent ? { traceparent } : {}), ...(stream ? { stream: true } : {}) }, (timeoutMs ?? 5000) + 10_000).finally(() => sub?.dispose());
      });
      if (streamed) process.stdout.write('\n');
      console.log(JSON.stringify(reply));
      return 0;
    }
    case 'signal': {
      const { values, positionals } = parse(argv, {}, [3, 3]);
      const payload = jsonArg(positionals[2], 'the payload');
      const [agent, name] = positionals;
      const r = await withClient(values, (c) => c.call('signal', { agent, name, payload }));
      console.log(values.json ? JSON.stringify(r) : r.delivered ? `${agent}: a wait for "${name}" took the signal` : `${agent}: no wait for "${name}" now; the signal is kept until one takes it`);
      return 0;
    }
    case 'restart':
    case 'stop': {
      const { values, positionals } = parse(argv, {}, [1, 1]);
      await withClient(values, async (c) => {
        await c.call(cmd, { agent: positionals[0] }, 120_000);
        if (!values.json) {
          const node = findNode((await c.call('status', {})).tree, positionals[0]);
          console.log(`${positionals[0]}: ${node?.state ?? 'unknown'}${node?.kind === 'agent' && node.pid ? ` (pid ${node.pid})` : ''}`);
        } else console.log('{}');
      });
      return 0;
    }
    case 'inject': {
      const numeric = ['ms', 'times', 'count', 'rate', 'seed', 'duration-ms', 'status'] as const;
      const { values, positionals } = parse(argv, { ...Object.fromEntries(numeric.map((k) => [k, { type: 'string' }])), point: { type: 'string' }, param: { type: 'string', multiple: true } }, [2, 2]);
      const params: Record<string, unknown> = {};
      for (const k of numeric) {
        const v = (values as Record<string, string | undefined>)[k];
        if (v === undefined) continue;
        const n = Number(v);
        if (!Number.isFinite(n)) throw new UsageError(`--${k} must be a number, got "${v}"`);
        params[k.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = n;
      }
      if (values.point) params.point = values.point;
      for (const kv of (values.param as string[] | undefined) ?? []) {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UsageError(`--param takes key=value, got "${kv}"`);
        const raw = kv.slice(i + 1);
        let v: unknown = raw;
        try { v = JSON.parse(raw); } catch { /* a plain string */ }
        params[kv.slice(0, i)] = v;
      }
      const r = (await withClient(values, (c) => c.call('inject', { fault: positionals[0], target: positionals[1], params }))) as { id: string; fired?: number };
      console.log(values.json ? JSON.stringify(r) : `${r.id}: ${positionals[0]} on ${positionals[1]}${r.fired !== undefined ? ` (fired on ${r.fired})` : ' (active until cleared: faultline clear ' + r.id + ')'}`);
      return 0;
    }
    case 'faults': {
      const { values } = parse(argv, {}, [0, 0]);
      const list = (await withClient(values, (c) => c.call('faults', {}))) as { id: string; fault: string; target: string; params: Record<string, unknown>; fired: number; expiresAt?: string }[];
      if (values.json) print(list);
      else if (!list.length) console.log('no active faults');
      else for (const f of list) console.log(`${f.id.padEnd(5)} ${f.fault.padEnd(12)} ${f.target.padEnd(16)} fired ${f.fired}${Object.keys(f.params).length ? `  ${JSON.stringify(f.params)}` : ''}${f.expiresAt ? `  until ${f.expiresAt}` : ''}`);
      return 0;
    }
    case 'clear': {
      const { values, positionals } = parse(argv, {}, [0, 1]);
      const r = await withClient(values, (c) => c.call('clearFault', positionals[0] ? { id: positionals[0] } : {}));
      console.log(values.json ? JSON.stringify(r) : `cleared ${r.cleared} fault${r.cleared === 1 ? '' : 's'}`);
      if (positionals[0] && r.cleared === 0) {
        console.error(`faultline clear: no active fault "${positionals[0]}"`);
        return 1;
      }
      return 0;
    }
    case 'alerts': {
      const { values } = parse(argv, {}, [0, 0]);
      const list = (await withClient(values, (c) => c.call('alerts', {}))) as { level: string; rule: string; subject: string; value: number; since: string; message?: string }[];
      if (values.json) print(list);
      else if (!list.length) console.log('no alerts firing');
      else for (const a of list) console.log(`${a.level.toUpperCase().padEnd(8)} ${a.rule.padEnd(18)} ${a.subject.padEnd(16)} since ${a.since}  ${a.message ?? `value ${a.value}`}`);
      return 0;
    }
    case 'traces': {
      const { values } = parse(argv, { agent: { type: 'string' }, limit: { type: 'string' }, trace: { type: 'string' } }, [0, 0]);
      const limit = intOption(values.limit, 'limit', 1, 500);
      const r = (await withClient(values, (c) => c.call('traces', { ...(values.agent ? { agent: values.agent as string } : {}), ...(limit ? { limit } : {}), ...(values.trace ? { traceId: values.trace as string } : {}) }))) as TracesResult;
      if (values.json) print(r);
      else console.log(renderTraces(r));
      return 0;
    }
    case 'tools': {
      const { values, positionals } = parse(argv, {}, [1, 1]);
      const r = await withClient(values, (c) => c.call('tools', { dependency: positionals[0]! }, 120_000));
      if (values.json) print(r);
      else console.log(renderTools(r, process.stdout.columns || 100));
      return 0;
    }
    case 'call': {
      const { values, positionals } = parse(argv, { 'timeout-ms': { type: 'string' } }, [2, 2]);
      const request = jsonArg(positionals[1]!, 'the request');
      const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms', 1, 3_600_000);
      // The dependency's budget (retries and their delays) ends the call; the client gives up after 15 min at most.
      const r = await withClient(values, (c) => c.call('call', { dependency: positionals[0]!, request, ...(timeoutMs ? { timeoutMs } : {}) }, 15 * 60_000));
      print(r);
      if ((r as { isError?: unknown } | null)?.isError === true) {
        console.error(`faultline call: the tool reported an error (isError: true)`);
        return 1;
      }
      return 0;
    }
    case 'mock-model':
      return runMockModel(argv);
    case 'drill':
      return drillCommand(argv);
    case 'load':
      return loadCommand(argv);
    case 'chaos':
      return chaosCommand(argv);
    case 'checkpoints': {
      const { values, positionals } = parse(argv, {}, [1, 1]);
      const list = (await withClient(values, (c) => c.call('checkpoints', { agent: positionals[0] }))) as { seq: number; version: number; kind: string; size: number; time: string; valid: boolean; store: string; blob?: string }[];
      if (values.json) print(list);
      else if (!list.length) console.log(`${positionals[0]}: no checkpoints`);
      else for (const c of list) console.log(`#${c.seq}  v${c.version}  ${c.kind.padEnd(7)}  ${String(c.size).padStart(8)} B  ${c.time}  ${c.valid ? 'valid' : 'CORRUPT'}  ${c.store}${c.blob ? ` ${c.blob}` : ''}`);
      return 0;
    }
    case 'checkpoint': {
      const { values, positionals } = parse(argv, {}, [2, 2]);
      const seq = seqArg(positionals[1]);
      console.log(renderCheckpoint(await withClient(values, (c) => c.call('checkpoint.get', { agent: positionals[0]!, seq })), !!values.json));
      return 0;
    }
    case 'restore': {
      const { values, positionals } = parse(argv, {}, [2, 2]);
      const seq = seqArg(positionals[1]);
      const r = await withClient(values, (c) => c.call('agent.restore', { agent: positionals[0]!, seq }, 120_000));
      console.log(renderRestore(r, !!values.json));
      return cameUp(cmd, r);
    }
    case 'fork': {
      const { values, positionals } = parse(argv, { as: { type: 'string' } }, [2, 2]);
      const seq = seqArg(positionals[1]);
      if (!values.as) throw new UsageError('--as <id> names the new agent');
      const r = await withClient(values, (c) => c.call('agent.fork', { agent: positionals[0]!, seq, as: values.as as string }, 120_000));
      console.log(renderFork(r, !!values.json));
      return cameUp(cmd, r);
    }
    case 'machine': {
      const { values, positionals } = parse(argv, {}, [1, 1]);
      const m = await withClient(values, (c) => c.call('machine', { id: positionals[0]! }));
      console.log(values.json ? JSON.stringify(m, null, 2) : renderMachine(m));
      return 0;
    }
    case 'down': {
      const { values } = parse(argv, {}, [0, 0]);
      const stateDir = findStateDir({ stateDir: values['state-dir'], config: values.config });
      const file = locateRuntime(stateDir);
      const client = await RuntimeClient.connect(file);
      const closed = new Promise<void>((r) => client.onClose(r));
      await client.call('shutdown', {});
      await closed;
      // The runtime exits after its agents stop; wait for the process to go.
      const { processAlive } = await import('../control/runtimeFileIO.ts');
      const until = Date.now() + 120_000;
      while (processAlive(file.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      if (processAlive(file.pid)) {
        console.error(`faultline: the runtime (pid ${file.pid}) is still stopping after 120 s`);
        return 1;
      }
      console.log(values.json ? '{"stopped":true}' : `runtime pid ${file.pid} stopped`);
      return 0;
    }
    case 'schema': {
      const { values } = parse(argv, { protocol: { type: 'boolean' } }, [0, 0]);
      if (values.protocol) {
        const { protocolJsonSchema } = await import('../protocol/schema/index.ts');
        print(protocolJsonSchema());
        return 0;
      }
      const { configJsonSchema } = await import('../config/schema.ts');
      print(configJsonSchema());
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(cmd === 'help' && rest[0] && helps[rest[0]] ? helps[rest[0]] : HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-v') {
    const { runtimeVersion } = await import('../isolation/paths.ts');
    console.log(runtimeVersion());
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    if (helps[cmd]) {
      console.log(helps[cmd]);
      return 0;
    }
  }
  try {
    return await run(cmd, rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`faultline ${cmd}: ${e.message}\n\n${helps[cmd] ?? HELP}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      console.error(`faultline: ${e.message}`);
      return 2;
    }
    if (e instanceof RuntimeUnreachableError) {
      console.error(`faultline: ${e.message}`);
      return 1;
    }
    if (e instanceof RuntimeRpcError) {
      console.error(`faultline ${cmd}: ${e.message}`);
      return e.code === -32602 ? 2 : 1;
    }
    throw e;
  }
}


/** Traces as text: a header per trace, then its spans as a tree with offsets, durations and events. */
export function renderTraces(r: TracesResult): string {
  if (!r.enabled) return 'tracing is off: add a "telemetry" block to the config, or set OTEL_EXPORTER_OTLP_ENDPOINT';
  if (!r.traces.length) return 'no traces yet';
  const out: string[] = [];
  const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : `${(x / 1000).toFixed(2)}s`);
  for (const t of r.traces) {
    out.push(`${t.traceId}  ${t.name}  ${ms(t.durationMs)} ms  ${new Date(t.startMs).toISOString()}${t.error ? '  ERROR' : ''}`);
    const ids = new Set(t.spans.map((s) => s.spanId));
    const children = new Map<string | undefined, typeof t.spans>();
    for (const s of t.spans) {
      const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : undefined;
      children.set(p, [...(children.get(p) ?? []), s]);
    }
    const walk = (parent: string | undefined, depth: number) => {
      for (const s of children.get(parent) ?? []) {
        const events = s.events.filter((e) => e.name !== 'checkpoint').map((e) => e.name);
        out.push(`  ${'  '.repeat(depth)}${s.name}  +${ms(s.startMs - t.startMs)} ms  ${ms(s.durationMs)} ms${s.status === 'error' ? `  ERROR ${s.statusMessage ?? ''}` : ''}${events.length ? `  [${events.join(', ')}]` : ''}${s.code ? `  ${s.code.file}:${s.code.line}` : ''}`);
        walk(s.spanId, depth + 1);
      }
    };
    walk(undefined, 0);
  }
  return out.join('\n');
}
