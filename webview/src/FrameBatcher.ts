/**
 * Collects messages from the extension and hands them over once per animation
 * frame, so 100 state changes a second cost one model update and one DOM pass
 * per frame instead of one per event. Each flush is recorded as a User Timing
 * measure `faultline:batch` from the oldest message's arrival to the end of the
 * DOM update (the latency a person sees) and `faultline:apply` for the work
 * alone; the benchmark reads both.
 *
 * While paused, runtime events are held (up to a bound) and replayed in order
 * on resume; a snapshot held meanwhile replaces the events before it.
 */
import type { ExtensionToWebviewMessage } from '../../runtime/protocol/webview.ts';

export const BATCH_MEASURE = 'faultline:batch';
/** The work alone: applying the batch to the models and the DOM. */
export const APPLY_MEASURE = 'faultline:apply';
/** Held events while paused; past this a snapshot is cheaper than replaying them. */
const HOLD_LIMIT = 20_000;
/** rAF does not run in a hidden page; this timer keeps the queue from growing without bound there. */
const FALLBACK_MS = 250;

const isLive = (m: ExtensionToWebviewMessage) => m.type === 'event' || m.type === 'batch' || m.type === 'snapshot';

export class FrameBatcher {
  private queue: ExtensionToWebviewMessage[] = [];
  private firstAt = 0;
  private raf = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private held: ExtensionToWebviewMessage[] = [];
  private heldEvents = 0;
  private overflowed = false;
  private measures = 0;
  /** Whether a snapshot was applied: until then even a paused dashboard takes one, or it would stay empty. */
  private primed = false;
  paused = false;

  /** @param apply applies one frame's messages, in arrival order, and updates the DOM. */
  constructor(private readonly apply: (messages: ExtensionToWebviewMessage[]) => void) {}

  push(m: ExtensionToWebviewMessage): void {
    if (this.paused && isLive(m) && this.primed) {
      this.hold(m);
      return;
    }
    if (m.type === 'snapshot') this.primed = true;
    if (this.queue.length === 0) this.firstAt = performance.now();
    this.queue.push(m);
    this.schedule();
  }

  /** Events held while paused (for the toolbar). */
  get heldCount(): number {
    return this.heldEvents;
  }

  pause(): void {
    this.paused = true;
  }

  /** Replays what was held; returns true when some was dropped and a snapshot is needed. */
  resume(): boolean {
    this.paused = false;
    const dropped = this.overflowed;
    const held = this.held;
    this.held = [];
    this.heldEvents = 0;
    this.overflowed = false;
    for (const m of held) this.push(m);
    return dropped;
  }

  /** Applies what is queued now (the benchmark and tests use it to avoid waiting for a frame). */
  flush = (): void => {
    if (this.raf) cancelAnimationFrame(this.raf);
    if (this.timer) clearTimeout(this.timer);
    this.raf = 0;
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const start = this.firstAt;
    this.queue = [];
    const began = performance.now();
    this.apply(batch);
    const end = performance.now();
    performance.measure(BATCH_MEASURE, { start, end, detail: { messages: batch.length } });
    performance.measure(APPLY_MEASURE, { start: began, end });
    // User Timing entries are kept until cleared; a long session would grow without bound.
    if (++this.measures >= 2000) {
      performance.clearMeasures(BATCH_MEASURE);
      performance.clearMeasures(APPLY_MEASURE);
      this.measures = 0;
    }
  };

  private schedule(): void {
    if (this.raf) return;
    this.raf = requestAnimationFrame(this.flush);
    this.timer = setTimeout(this.flush, FALLBACK_MS);
  }

  private hold(m: ExtensionToWebviewMessage): void {
    if (m.type === 'snapshot') {
      // A snapshot holds everything the events before it said.
      this.held = [m];
      this.heldEvents = 0;
      this.overflowed = false;
      return;
    }
    const n = m.type === 'batch' ? m.events.length : 1;
    if (this.heldEvents + n > HOLD_LIMIT) {
      this.overflowed = true;
      return;
    }
    this.held.push(m);
    this.heldEvents += n;
  }
}
