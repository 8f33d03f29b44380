/**
 * Keeps checkpoints small however long an agent runs. When a state passes a
 * size or history-length threshold it is compacted: by the agent module's own
 * `summarize(state)` when it has one, else by a marked truncation that keeps
 * the last entries of every `history` / `messages` array and puts a marker
 * saying how many were dropped at the array's head. Pure functions; the
 * caller writes the result as a `summary` checkpoint.
 */

export interface SummarizeThresholds {
  /** Compact when the state's JSON passes this many bytes (default 65536). */
  maxBytes?: number;
  /** Compact when a `history` or `messages` array passes this many entries (default 200). */
  maxEntries?: number;
  /** Entries the default truncation keeps of each such array (default 50). */
  keepLast?: number;
  /**
   * A model chain (or model dependency): the entries dropped are summarized
   * by it, and the summary is kept in the marker. Without one, or when the
   * model fails, the marker only counts what was dropped.
   */
  model?: string;
}

export const DEFAULT_THRESHOLDS: Required<Omit<SummarizeThresholds, 'model'>> = { maxBytes: 65_536, maxEntries: 200, keepLast: 50 };

/** Array fields the default truncation compacts, at any depth of plain objects. */
export const HISTORY_FIELDS: readonly string[] = ['history', 'messages'];

/** Stands at the head of a truncated array in place of the entries dropped. */
export interface SummaryMarker {
  /** `text`: what the model made of the entries dropped, when a model summarizes. */
  summary: { truncated: number; text?: string };
  /** Present when the array holds chat messages, so the array stays a valid chat. */
  role?: 'system';
  content?: string;
}

// Deep enough for an xstate snapshot's context; deeper histories are left alone.
const MAX_DEPTH = 8;

export function isSummaryMarker(x: unknown): x is SummaryMarker {
  const s = (x as { summary?: { truncated?: unknown } } | null)?.summary;
  return typeof x === 'object' && x !== null && typeof s === 'object' && s !== null && typeof s.truncated === 'number';
}

/** Bytes of the state's JSON, as it will be stored. */
export function jsonBytes(state: unknown): number {
  return Buffer.byteLength(JSON.stringify(state) ?? 'null');
}

/**
 * Whether the state is past a threshold.
 * @param bytes the state's JSON size when the caller already knows it
 */
export function needsSummary(state: unknown, thresholds: SummarizeThresholds = {}, bytes?: number): boolean {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  if (longestHistory(state, 0) > t.maxEntries) return true;
  return (bytes ?? jsonBytes(state)) > t.maxBytes;
}

/**
 * The default summarization, a marked truncation: every `history` /
 * `messages` array keeps its last `keepLast` entries behind one marker that
 * counts all entries ever dropped. While the result is still over `maxBytes`
 * fewer entries are kept, down to none. Does not modify `state`.
 */
export function truncateHistory<S>(state: S, thresholds: SummarizeThresholds = {}): S {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  let keep = Math.max(0, Math.floor(t.keepLast));
  let out = truncateAt(state, keep, 0) as S;
  while (keep > 0 && jsonBytes(out) > t.maxBytes) {
    keep = Math.floor(keep / 2);
    out = truncateAt(state, keep, 0) as S;
  }
  return out;
}

/**
 * Compacts a state past a threshold with the module's `summarize`, else with
 * `truncateHistory`. A throwing module `summarize` propagates: it is the
 * agent's bug to report, not to hide.
 * @returns the state to checkpoint, and whether it is a summary (kind `summary`).
 */
export function compactState<S>(
  state: S,
  opts: { thresholds?: SummarizeThresholds; summarize?: (state: S) => S; bytes?: number } = {},
): { state: S; summarized: boolean } {
  if (!needsSummary(state, opts.thresholds, opts.bytes)) return { state, summarized: false };
  return { state: opts.summarize ? opts.summarize(state) : truncateHistory(state, opts.thresholds), summarized: true };
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function longestHistory(x: unknown, depth: number): number {
  if (!isPlainObject(x) || depth > MAX_DEPTH) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(x)) {
    if (HISTORY_FIELDS.includes(k) && Array.isArray(v)) n = Math.max(n, v.length - (isSummaryMarker(v[0]) ? 1 : 0));
    else n = Math.max(n, longestHistory(v, depth + 1));
  }
  return n;
}

function truncateAt(x: unknown, keep: number, depth: number): unknown {
  if (!isPlainObject(x) || depth > MAX_DEPTH) return x;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(x)) {
    const nv = HISTORY_FIELDS.includes(k) && Array.isArray(v) ? truncateArray(v, keep) : truncateAt(v, keep, depth + 1);
    if (nv !== v) (out ??= { ...x })[k] = nv;
  }
  return out ?? x;
}

function truncateArray(arr: unknown[], keep: number): unknown[] {
  const marker = isSummaryMarker(arr[0]) ? arr[0] : undefined;
  const entries = marker ? arr.slice(1) : arr;
  if (entries.length <= keep) return arr;
  const kept = keep === 0 ? [] : entries.slice(-keep);
  const truncated = (marker?.summary.truncated ?? 0) + entries.length - kept.length;
  // A model's summary of what came before stays; the count says how much more was dropped.
  return [makeMarker(truncated, entries, marker?.summary.text), ...kept];
}

function makeMarker(truncated: number, entries: unknown[], text?: string): SummaryMarker {
  const chat = entries.some((e) => isPlainObject(e) && typeof e.role === 'string' && typeof e.content === 'string');
  const summary = text === undefined ? { truncated } : { truncated, text };
  if (!chat) return { summary };
  const content = text === undefined ? `[${truncated} earlier messages were truncated to keep the checkpoint small]` : `[Summary of ${truncated} earlier messages] ${text}`;
  return { role: 'system', content, summary };
}

/**
 * Summarizes what a history drops: `dropped` oldest first, and the summary
 * of what was dropped before, if any. Resolves to the new summary's text.
 */
export type HistorySummarizer = (dropped: unknown[], previous: string | undefined) => Promise<string>;

/**
 * Like `truncateHistory`, but the entries each array drops are summarized
 * (by a model, through `summarizer`) and the marker keeps that summary, so
 * an agent that reads its own history still knows what came before. Rejects
 * when the summarizer fails; the caller falls back to `truncateHistory`.
 * While the result is still over `maxBytes`, it is truncated further (the
 * summary text stays).
 */
export async function summarizeHistory<S>(state: S, thresholds: SummarizeThresholds, summarizer: HistorySummarizer): Promise<S> {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const keep = Math.max(0, Math.floor(t.keepLast));
  const out = (await summarizeAt(state, keep, 0, summarizer)) as S;
  return jsonBytes(out) > t.maxBytes ? truncateHistory(out, thresholds) : out;
}

async function summarizeAt(x: unknown, keep: number, depth: number, summarizer: HistorySummarizer): Promise<unknown> {
  if (!isPlainObject(x) || depth > MAX_DEPTH) return x;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(x)) {
    const nv = HISTORY_FIELDS.includes(k) && Array.isArray(v) ? await summarizeArray(v, keep, summarizer) : await summarizeAt(v, keep, depth + 1, summarizer);
    if (nv !== v) (out ??= { ...x })[k] = nv;
  }
  return out ?? x;
}

async function summarizeArray(arr: unknown[], keep: number, summarizer: HistorySummarizer): Promise<unknown[]> {
  const marker = isSummaryMarker(arr[0]) ? arr[0] : undefined;
  const entries = marker ? arr.slice(1) : arr;
  if (entries.length <= keep) return arr;
  const kept = keep === 0 ? [] : entries.slice(-keep);
  const dropped = entries.slice(0, entries.length - kept.length);
  const text = await summarizer(dropped, marker?.summary.text);
  const truncated = (marker?.summary.truncated ?? 0) + dropped.length;
  return [makeMarker(truncated, entries, text), ...kept];
}
