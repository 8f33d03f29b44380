/**
 * The faults the extension offers, by the runtime's catalogue names, with
 * what each targets and the parameters to ask for. The runtime validates; this
 * list only drives the quick picks.
 */
export type FaultTarget = 'agent' | 'dependency' | 'node';

export interface ParamSpec {
  name: string;
  prompt: string;
  /** Fixed choices (a status code, say); else free input. */
  choices?: { label: string; value: unknown; detail?: string }[];
  placeholder?: string;
  default?: string;
  number?: boolean;
  optional?: boolean;
}

export interface FaultKind {
  fault: string;
  target: FaultTarget;
  label: string;
  detail: string;
  params: ParamSpec[];
}

const DURATION: ParamSpec = { name: 'durationMs', prompt: 'Clear it after how many milliseconds? (empty: until cleared)', number: true, optional: true, placeholder: 'e.g. 30000' };

export const ERROR_STATUSES = [
  { label: '500', value: 500, detail: 'Internal Server Error' },
  { label: '502', value: 502, detail: 'Bad Gateway' },
  { label: '503', value: 503, detail: 'Service Unavailable' },
  { label: '429', value: 429, detail: 'Too Many Requests (rate limited)' },
  { label: '408', value: 408, detail: 'Request Timeout' },
  { label: '400', value: 400, detail: 'Bad Request (not retried)' },
];

export const FAULT_KINDS: FaultKind[] = [
  { fault: 'kill', target: 'agent', label: 'Kill', detail: 'SIGKILL the agent process; its supervisor restarts it', params: [] },
  { fault: 'crash', target: 'agent', label: 'Crash', detail: 'the agent throws on its next message', params: [] },
  { fault: 'hang', target: 'agent', label: 'Hang', detail: 'the agent stops answering (heartbeats too) until killed or cleared', params: [DURATION] },
  { fault: 'slow', target: 'agent', label: 'Slow', detail: 'every message takes longer', params: [{ name: 'ms', prompt: 'Added delay per message (ms)', number: true, default: '2000' }, DURATION] },
  { fault: 'crash-loop', target: 'agent', label: 'Crash loop', detail: 'the agent crashes right after each start', params: [DURATION] },
  { fault: 'error', target: 'dependency', label: 'Error', detail: 'calls fail with an HTTP status', params: [{ name: 'status', prompt: 'Which status?', choices: ERROR_STATUSES }, { name: 'rate', prompt: 'Share of calls that fail (0..1)', number: true, default: '1', optional: true }, DURATION] },
  { fault: 'latency', target: 'dependency', label: 'Latency', detail: 'calls take longer', params: [{ name: 'ms', prompt: 'Added latency (ms)', number: true, default: '2000' }, DURATION] },
  { fault: 'timeout', target: 'dependency', label: 'Timeout', detail: 'calls hang until their timeout ends them', params: [DURATION] },
  { fault: 'kill-node', target: 'node', label: 'Kill node', detail: "SIGKILL a cluster node's runtime (its agents go with it); the other nodes take its subtrees once its leases expire", params: [] },
  { fault: 'pause-node', target: 'node', label: 'Pause node', detail: "SIGSTOP a cluster node's runtime and agents, SIGCONT after a while: past its lease, the others take over and it stops its copies", params: [{ name: 'ms', prompt: 'Paused for how many milliseconds?', number: true, default: '6000' }] },
  { fault: 'blackhole', target: 'dependency', label: 'Block (blackhole)', detail: 'connections to the dependency are refused (its network is blocked)', params: [DURATION] },
];

export function faultKind(fault: string): FaultKind | undefined {
  return FAULT_KINDS.find((k) => k.fault === fault);
}

/** Turns typed answers into params: numbers where the spec says so, empties dropped. */
export function paramsFrom(kind: FaultKind, answers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of kind.params) {
    const v = answers[p.name];
    if (v === undefined || v === '') continue;
    out[p.name] = p.number && typeof v === 'string' ? Number(v) : v;
  }
  return out;
}

/** Validation for an input box: a message when the answer is wrong, else undefined. */
export function checkParam(p: ParamSpec, value: string): string | undefined {
  if (value === '') return p.optional ? undefined : 'A value is needed';
  if (p.number && !Number.isFinite(Number(value))) return 'A number is needed';
  if (p.number && Number(value) < 0) return 'A positive number is needed';
  return undefined;
}
