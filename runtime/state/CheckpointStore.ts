/**
 * Where agent state is kept between incarnations. The runtime core uses only
 * this interface; the SQLite store is the default, the memory store serves
 * unit tests and `checkpoints.store: "memory"`.
 */
export interface CheckpointInput {
  agent: string;
  /** The agent module's `version`. */
  version: number;
  state: unknown;
  kind?: 'full' | 'summary';
}

export interface CheckpointInfo {
  agent: string;
  seq: number;
  version: number;
  runtimeVersion: string;
  time: string;
  kind: 'full' | 'summary';
  size: number;
  checksum: string;
  /** False when the payload fails its checksum or does not parse. */
  valid: boolean;
}

export interface Restored {
  state: unknown;
  version: number;
  seq: number;
  /** Corrupt checkpoints skipped to reach this one (newest first). */
  skipped: number[];
}

export interface CheckpointStore {
  /** Stores a checkpoint; resolves once it is durable. */
  put(c: CheckpointInput): Promise<{ seq: number }>;
  /** The newest valid checkpoint, falling back past corrupt ones; null: cold start. */
  latest(agent: string): Promise<Restored | null>;
  list(agent: string): Promise<CheckpointInfo[]>;
  close(): Promise<void>;
}

/** Keeps checkpoints in memory: lost when the runtime exits. */
export class MemoryCheckpointStore implements CheckpointStore {
  private rows = new Map<string, { seq: number; version: number; json: string; time: string; kind: 'full' | 'summary' }[]>();
  constructor(private readonly runtimeVersion = '0.0.0') {}
  async put(c: CheckpointInput) {
    const list = this.rows.get(c.agent) ?? [];
    const seq = (list.at(-1)?.seq ?? 0) + 1;
    list.push({ seq, version: c.version, json: JSON.stringify(c.state ?? null), time: new Date().toISOString(), kind: c.kind ?? 'full' });
    if (list.length > 20) list.splice(0, list.length - 20);
    this.rows.set(c.agent, list);
    return { seq };
  }
  async latest(agent: string): Promise<Restored | null> {
    const last = this.rows.get(agent)?.at(-1);
    return last ? { state: JSON.parse(last.json), version: last.version, seq: last.seq, skipped: [] } : null;
  }
  async list(agent: string): Promise<CheckpointInfo[]> {
    return (this.rows.get(agent) ?? []).map((r) => ({ agent, seq: r.seq, version: r.version, runtimeVersion: this.runtimeVersion, time: r.time, kind: r.kind, size: r.json.length, checksum: '', valid: true }));
  }
  async close() {}
}
