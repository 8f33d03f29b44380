/**
 * `faultline load`: asks (or sends) at a fixed rate to an agent or a glob of
 * agents of the running runtime, then reports throughput, latency
 * percentiles and errors by type. Exit 0 when every message was answered
 * (or accepted and handled), 1 otherwise.
 */
import { intOption, jsonArg, parse, UsageError } from '../cli/args.ts';
import { findStateDir, locateRuntime } from '../cli/client.ts';
import { RemoteTarget } from '../drills/remoteTarget.ts';
import { LoadGenerator, LOAD_LIMITS, type LoadReport } from './LoadGenerator.ts';
import type { MessagesSummary } from './MessageLedger.ts';

export const LOAD_USAGE = `Usage: faultline load --to AGENT|GLOB --rate R --duration-ms D [--message JSON] [--timeout-ms N] [--send] [--max-in-flight N] [--json]

Sends asks at a fixed rate (open loop: they leave on time whatever the
replies do, at most --max-in-flight outstanding; a message due beyond that is
skipped and counted) to one agent or round-robin over the agents a glob
matches, then prints throughput, latency percentiles and errors by type.

  --to A          an agent id or a glob ("worker-*")
  --rate R        messages per second (at most ${LOAD_LIMITS.maxRate})
  --duration-ms D how long to send (at most ${LOAD_LIMITS.maxDurationMs}; rate x duration at most ${LOAD_LIMITS.maxMessages})
  --message JSON  the message (default {"seq": n}); "{{seq}}" in strings becomes n
  --timeout-ms N  each ask's timeout (default 5000)
  --send          send instead of ask (accepted once stored; then checked to be handled)
  --max-in-flight N  outstanding messages at most (default 512)
  --json          print the report as JSON

Exit codes: 0 every message answered (or accepted and handled); 1 otherwise.`;

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
  return n;
};

export function renderLoad(r: LoadReport, m?: MessagesSummary): string[] {
  const l = r.latencyMs;
  const out = [
    `${r.kind} ${r.to} (${r.agents.length} agent${r.agents.length === 1 ? '' : 's'}) at ${r.rate}/s for ${r.durationMs} ms`,
    `  sent ${r.sent}, ${r.kind === 'ask' ? 'answered' : 'accepted'} ${r.ok}, failed ${r.failed}${r.skipped ? `, skipped ${r.skipped} (over --max-in-flight)` : ''}`,
    `  throughput ${r.throughput}/s over ${r.elapsedMs} ms`,
    l ? `  latency ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}  mean ${l.mean}` : '  latency: no successful messages',
  ];
  for (const [type, n] of Object.entries(r.errors)) out.push(`  error ${type}: ${n}`);
  if (m && m.sends.sent) out.push(`  sends handled ${m.sends.handled}, lost ${m.sends.lost}${m.sends.note ? ` (${m.sends.note})` : ''}`);
  return out;
}

export async function loadCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    to: { type: 'string' }, rate: { type: 'string' }, 'duration-ms': { type: 'string' }, message: { type: 'string' },
    'timeout-ms': { type: 'string' }, send: { type: 'boolean' }, 'max-in-flight': { type: 'string' },
  }, [0, 0]);
  if (!values.to) throw new UsageError('--to is required');
  const rate = num(values.rate, 'rate');
  const durationMs = intOption(values['duration-ms'], 'duration-ms', 1, LOAD_LIMITS.maxDurationMs);
  if (rate === undefined || durationMs === undefined) throw new UsageError('--rate and --duration-ms are required');
  const opts = {
    to: values.to,
    rate,
    durationMs,
    message: values.message === undefined ? undefined : jsonArg(values.message, '--message'),
    timeoutMs: intOption(values['timeout-ms'], 'timeout-ms', 1, LOAD_LIMITS.maxTimeoutMs),
    kind: values.send ? ('send' as const) : ('ask' as const),
    maxInFlight: intOption(values['max-in-flight'], 'max-in-flight', 1, LOAD_LIMITS.maxInFlight),
  };
  let gen: LoadGenerator;
  const stateDir = findStateDir({ stateDir: values['state-dir'], config: values.config });
  const target = await RemoteTarget.connect(locateRuntime(stateDir), stateDir);
  try {
    try {
      gen = await LoadGenerator.plan(target, opts);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message);
      console.error(`faultline load: ${(e as Error).message}`);
      return 1;
    }
    await gen.ledger.baseline(target);
    const stop = () => gen.stop();
    process.once('SIGINT', stop);
    const report = await gen.start();
    process.off('SIGINT', stop);
    if (opts.kind === 'send') await gen.ledger.verifySends(target, 30_000);
    const messages = gen.ledger.summary();
    if (values.json) console.log(JSON.stringify({ ...report, messages }, null, 2));
    else for (const line of renderLoad(report, messages)) console.log(line);
    return report.failed === 0 && messages.lost === 0 && report.skipped === 0 ? 0 : 1;
  } finally {
    target.close();
  }
}
