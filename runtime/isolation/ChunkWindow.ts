/**
 * Backpressure for a model stream crossing to an agent host: at most `size`
 * chunk messages are in flight, each acknowledged by the host as the agent
 * takes it. While the window is full, arriving deltas are joined into one
 * pending chunk, so a slow agent gets fewer, larger chunks and loses nothing.
 */
export class ChunkWindow {
  private inFlight = 0;
  private pending = '';
  private pendingModel = '';

  constructor(
    private readonly sendChunk: (delta: string, model: string) => void,
    private readonly size = DEFAULT_WINDOW,
  ) {}

  push(delta: string, model: string): void {
    if (this.inFlight < this.size && !this.pending) return this.emit(delta, model);
    this.pending += delta;
    this.pendingModel = model;
  }

  /** The host took a chunk: send what is pending, as one chunk. */
  ack(): void {
    if (this.inFlight > 0) this.inFlight -= 1;
    if (this.pending && this.inFlight < this.size) this.drain();
  }

  /** The stream ended: what is pending goes now (before the final reply), whatever the window. */
  drain(): void {
    if (!this.pending) return;
    const d = this.pending;
    this.pending = '';
    this.emit(d, this.pendingModel);
  }

  private emit(delta: string, model: string): void {
    this.inFlight += 1;
    this.sendChunk(delta, model);
  }
}

/** Chunk messages in flight per stream: enough to keep IPC busy, small enough to bound a slow agent's backlog. */
export const DEFAULT_WINDOW = 16;
