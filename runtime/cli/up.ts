/** `faultline up`: runs the runtime in the foreground with a live view of the tree. */
import path from 'node:path';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { Runtime } from '../Runtime.ts';
import { processAlive, readRuntimeFile } from '../control/runtimeFileIO.ts';
import { intOption, parse } from './args.ts';
import { runtimeOptionsSchema } from '../config/schema.ts';
import { renderEvent, renderStatus } from './render.ts';

export const upHelp = `Usage: faultline up [--config F] [--port N] [--host ADDR] [--state-dir D] [--node ID] [--no-live]

Runs the system in the foreground and prints
"Faultline runtime listening on http://127.0.0.1:PORT". On a terminal the
supervision tree is redrawn in place; otherwise state changes print as lines.
Ctrl-C (SIGINT) or SIGTERM stops the agents in reverse order.

  --config F      the config (default ./faultline.config.json)
  --port N        control channel and HTTP port on 127.0.0.1 (default: the config's, else any free port)
  --host ADDR     listen on ADDR instead of 127.0.0.1 (e.g. 0.0.0.0 in a container, so that probes
                  from outside reach /livez and /readyz); the control channel always needs the token
  --state-dir D   where runtime.json, logs and checkpoints go (default .faultline beside the config;
                  give each node on one machine its own)
  --node ID       a cluster node's id (config with "cluster"; default: host name and pid). Needs
                  FAULTLINE_CLUSTER_TOKEN, the cluster's shared secret, in the environment
  --advertise URL where the other nodes reach this one (default http://HOST:PORT as bound; set it
                  when binding 0.0.0.0, e.g. to the pod's IP)
  --no-live       print state changes as lines even on a terminal
  --inspect-agents  run agent processes under the Node inspector (port chosen by each); their
                    inspector URLs show in \`faultline status --json\` (agents[].inspect).
                    Heartbeat and start timeouts are off: an agent paused at a breakpoint is not hung.
  --quiet         print only the listening line and errors`;

export async function up(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, node: { type: 'string' }, advertise: { type: 'string' }, 'no-live': { type: 'boolean' }, quiet: { type: 'boolean' }, 'inspect-agents': { type: 'boolean' } }, [0, 0]);
  if (values.help) {
    console.log(upHelp);
    return 0;
  }
  const port = intOption(values.port, 'port', 0, 65535);
  const host = values.host as string | undefined;
  if (host !== undefined && !runtimeOptionsSchema.shape.host.safeParse(host).success) {
    console.error(`faultline: --host: "${host}" is not an IP address or a host name`);
    return 2;
  }
  const configFile = path.resolve(values.config ?? 'faultline.config.json');
  let config;
  try {
    config = loadConfigFile(configFile);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`faultline: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const node = values.node as string | undefined;
  const advertise = (values.advertise as string | undefined) ?? process.env.FAULTLINE_ADVERTISE_URL;
  if (node !== undefined && !config.cluster) {
    console.error(`faultline: --node: ${path.relative(process.cwd(), configFile) || configFile} has no "cluster" section; add "cluster": { "leaseMs": 3000 } (with the postgres store) to run it on several nodes`);
    return 2;
  }
  if (node !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(node)) {
    console.error(`faultline: --node: "${node}" must be letters, digits, ".", "_" or "-" (at most 128)`);
    return 2;
  }
  if (advertise !== undefined && !/^https?:\/\/[^/]+:\d+\/?$/.test(advertise)) {
    console.error(`faultline: --advertise: "${advertise}" must be http://HOST:PORT`);
    return 2;
  }
  const stateDir = path.resolve(values['state-dir'] ?? path.join(config.baseDir, '.faultline'));
  const existing = readRuntimeFile(stateDir);
  if (existing && existing.pid !== process.pid && processAlive(existing.pid)) {
    console.error(`faultline: a runtime is already running for this workspace (pid ${existing.pid}, ${existing.url}); stop it with \`faultline down\``);
    return 1;
  }

  let runtime: Runtime;
  try {
    const inspect = !!values['inspect-agents'];
    runtime = new Runtime({ config, stateDir, port, host, cluster: config.cluster ? { node, advertise } : undefined, debugging: inspect, execArgv: inspect ? (spec) => (spec.isolation === 'process' ? ['--inspect=127.0.0.1:0'] : undefined) : undefined });
  } catch (e) {
    console.error(`faultline: ${(e as Error).message}`);
    return 1;
  }
  const live = !!process.stdout.isTTY && !values['no-live'] && !values.quiet;
  let lines: string[] = [];
  const flushLines = () => {
    if (!lines.length) return;
    const text = lines.join('\n') + '\n';
    lines = [];
    process.stdout.write(text);
  };
  let stopping = false;
  const onSignal = (sig: string) => {
    flushLines();
    if (stopping) {
      console.error(`faultline: ${sig} again, exiting now`);
      process.exit(130);
    }
    stopping = true;
    if (!values.quiet) console.log(`\nfaultline: ${sig}: stopping agents in reverse order…`);
    void runtime.stop({ code: 0, reason: sig });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  let port_ = 0;
  let redraw: NodeJS.Timeout | undefined;
  const draw = () => {
    const text = renderStatus(runtime.status(), { color: true, width: process.stdout.columns });
    process.stdout.write(`\x1b[H\x1b[J${text}\n\nFaultline runtime listening on ${listening(runtime.host, port_)}  (Ctrl-C to stop)\n`);
  };
  if (live) {
    let pending = false;
    runtime.events.on('*', () => {
      if (pending || !port_) return;
      pending = true;
      setTimeout(() => { pending = false; if (!stopping) draw(); }, 100);
    });
  } else if (!values.quiet) {
    // One write per turn of the event loop, not per line: a restart storm
    // prints hundreds of lines within a second.
    runtime.events.on('*', (name: string, payload: unknown) => {
      const line = renderEvent(name, payload);
      if (!line) return;
      if (!lines.length) setImmediate(flushLines);
      lines.push(line);
    });
  }
  try {
    await runtime.start({
      onListening: (p) => {
        port_ = p;
        console.log(`Faultline runtime listening on ${listening(runtime.host, p)}`);
        if (live) {
          process.stdout.write('\x1b[2J');
          draw();
          redraw = setInterval(() => { if (!stopping) draw(); }, 1000);
        }
      },
    });
  } catch (e) {
    flushLines();
    console.error(`faultline: cannot start: ${(e as Error).message}`);
    await runtime.stop({ code: 1, reason: 'start failed' });
    return 1;
  }
  runtime.events.on('supervisor.state', (e: { supervisor: string; state: string; reason?: string }) => {
    if (e.state !== 'failed' || e.supervisor !== runtime.root.id) return;
    flushLines();
    console.error(`faultline: ${runtime.root.lastError?.message ?? 'the root supervisor failed'}`);
  });

  const result = await runtime.done;
  flushLines();
  clearInterval(redraw);
  if (result.code !== 0) console.error(result.reason);
  else if (!values.quiet) console.log('faultline: stopped');
  return result.code;
}

/** The address as bound: `http://127.0.0.1:PORT` by default, `http://0.0.0.0:PORT` with `--host 0.0.0.0`. */
function listening(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
