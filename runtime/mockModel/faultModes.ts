/**
 * The mock server's fault modes and which requests they hit. A fault may be
 * limited to the next `count` requests and/or a `rate` (0..1) of them; the
 * rate draws from a seeded generator so a run is reproducible.
 */
import { seededRandom } from '../faults/seededRandom.ts';

export type MockFaultMode = 'error' | 'latency' | 'hang' | 'content-filter' | 'stream-cut' | 'slow-first-token' | 'malformed';
export const MOCK_FAULT_MODES: readonly MockFaultMode[] = ['error', 'latency', 'hang', 'content-filter', 'stream-cut', 'slow-first-token', 'malformed'];

export interface MockFault {
  mode: MockFaultMode;
  /** error: the HTTP status, 400-599 (default 500; 529 is Anthropic's overloaded). */
  status?: number;
  /** error: Retry-After, seconds (number) or an HTTP date (string). */
  retryAfter?: number | string;
  /** latency and slow-first-token: the delay in ms (default 1000). */
  ms?: number;
  /**
   * content-filter: `finish_reason` (default: OpenAI `content_filter`, Anthropic
   * `stop_reason: 'refusal'`) or a 400 `error` body (Azure; Anthropic `invalid_request_error`).
   */
  style?: 'finish_reason' | 'error';
  /** Apply to the next `count` matching requests only, then clear. */
  count?: number;
  /** Apply to this share of matching requests (default 1). */
  rate?: number;
  /** Only requests whose path contains this (default: all API paths). */
  path?: string;
  /** stream-cut: the text deltas sent before the cut (default half of them; 0 cuts before the first token). */
  afterDeltas?: number;
}

/** Validates a fault from the control API; returns a problem or the fault. */
export function parseFault(x: unknown): MockFault | string {
  if (!x || typeof x !== 'object') return 'the body must be a JSON object';
  const f = x as Record<string, unknown>;
  if (!MOCK_FAULT_MODES.includes(f.mode as MockFaultMode)) return `mode must be one of ${MOCK_FAULT_MODES.join(', ')}`;
  if (f.status !== undefined && !(Number.isInteger(f.status) && (f.status as number) >= 400 && (f.status as number) <= 599)) return 'status must be an integer 400-599';
  if (f.ms !== undefined && !(typeof f.ms === 'number' && f.ms >= 0 && f.ms <= 600_000)) return 'ms must be 0-600000';
  if (f.count !== undefined && !(Number.isInteger(f.count) && (f.count as number) >= 1)) return 'count must be a positive integer';
  if (f.rate !== undefined && !(typeof f.rate === 'number' && f.rate >= 0 && f.rate <= 1)) return 'rate must be 0..1';
  if (f.retryAfter !== undefined && typeof f.retryAfter !== 'number' && typeof f.retryAfter !== 'string') return 'retryAfter must be seconds or an HTTP date';
  if (f.path !== undefined && typeof f.path !== 'string') return 'path must be a string';
  if (f.style !== undefined && f.style !== 'finish_reason' && f.style !== 'error') return 'style must be finish_reason or error';
  if (f.afterDeltas !== undefined && !(Number.isInteger(f.afterDeltas) && (f.afterDeltas as number) >= 0)) return 'afterDeltas must be an integer >= 0';
  return f as unknown as MockFault;
}

export class FaultState {
  private fault: MockFault | undefined;
  private left = Infinity;
  private rng: () => number;
  served = 0;

  constructor(seed = 1) {
    this.rng = seededRandom(seed);
  }

  set(f: MockFault | undefined): void {
    this.fault = f;
    this.left = f?.count ?? Infinity;
  }

  get current(): (MockFault & { remaining?: number }) | undefined {
    return this.fault && (Number.isFinite(this.left) ? { ...this.fault, remaining: this.left } : { ...this.fault });
  }

  /** The fault to apply to a request on `path`, if any; counts it. */
  take(path: string): MockFault | undefined {
    const f = this.fault;
    if (!f || (f.path && !path.includes(f.path))) return undefined;
    if (f.rate !== undefined && this.rng() >= f.rate) return undefined;
    if (--this.left <= 0) this.fault = undefined;
    this.served += 1;
    return f;
  }
}
