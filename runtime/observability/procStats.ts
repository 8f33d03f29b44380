/**
 * CPU and memory of agent processes, read from Linux procfs: one small read
 * per pid (`/proc/<pid>/stat`: CPU ticks and resident pages), no child process
 * per sample. On other platforms sampling yields nothing.
 *
 * The reads are synchronous: procfs answers from memory in microseconds, and
 * a hundred agents sampled through the thread pool cost the runtime ~50 ms of
 * CPU per sample in callbacks and promises (more than the reads themselves).
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcessSample {
  pid: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** User + system CPU time since the process started, in seconds. */
  cpuSeconds: number;
  /** Share of one core used since the previous sample of the same pid (null on the first sample). */
  cpuRatio: number | null;
}

const confs = new Map<string, number>();
/** A system constant from getconf, asked once; `fallback` when it cannot be asked. */
function conf(name: 'CLK_TCK' | 'PAGESIZE', fallback: number): number {
  let v = confs.get(name);
  if (v === undefined) {
    try {
      v = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2_000 }).trim()) || fallback;
    } catch {
      v = fallback;
    }
    confs.set(name, v);
  }
  return v;
}
/** Kernel clock ticks per second (USER_HZ): 100 on every mainstream Linux. */
const ticksPerSecond = () => conf('CLK_TCK', 100);

/** Fields after the command name of `/proc/<pid>/stat`: rest[0] is field 3 (state). */
function statFields(stat: string): string[] | null {
  // The command name (field 2) is in parentheses and may itself hold spaces
  // or parentheses, so count fields from the last ')'.
  const close = stat.lastIndexOf(')');
  return close < 0 ? null : stat.slice(close + 2).split(' ');
}

/** Parses utime + stime (fields 14 and 15) from `/proc/<pid>/stat`, in ticks. */
export function parseStatTicks(stat: string): number | null {
  const rest = statFields(stat);
  if (!rest) return null;
  // utime is field 14 → rest[11], stime is field 15 → rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** Parses the resident set size (field 24, in pages) from `/proc/<pid>/stat`, in pages. */
export function parseStatRssPages(stat: string): number | null {
  const rss = Number(statFields(stat)?.[21]);
  return Number.isInteger(rss) && rss >= 0 ? rss : null;
}

/** Reads one process; null when it is gone (it exited between listing and reading) or not on Linux. */
export function readProcess(pid: number): { rssBytes: number; cpuSeconds: number } | null {
  if (process.platform !== 'linux') return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const ticks = parseStatTicks(stat);
  const pages = parseStatRssPages(stat);
  if (ticks === null || pages === null) return null;
  return { rssBytes: pages * conf('PAGESIZE', 4096), cpuSeconds: ticks / ticksPerSecond() };
}

/**
 * Samples a set of processes by key (agent id) and remembers the previous
 * sample of each pid to turn CPU seconds into a utilisation ratio.
 */
export class ProcessSampler {
  private readonly last = new Map<string, { pid: number; cpuSeconds: number; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  async sample(pids: ReadonlyMap<string, number>): Promise<Map<string, ProcessSample>> {
    const entries = [...pids];
    const reads = entries.map(([, pid]) => readProcess(pid));
    const at = this.now();
    const out = new Map<string, ProcessSample>();
    entries.forEach(([key, pid], i) => {
      const r = reads[i];
      if (!r) return;
      const prev = this.last.get(key);
      // A new pid is a restarted process: its CPU time starts again from 0.
      const cpuRatio = prev && prev.pid === pid && at > prev.at ? Math.max(0, (r.cpuSeconds - prev.cpuSeconds) / ((at - prev.at) / 1000)) : null;
      this.last.set(key, { pid, cpuSeconds: r.cpuSeconds, at });
      out.set(key, { pid, ...r, cpuRatio });
    });
    for (const key of this.last.keys()) if (!pids.has(key)) this.last.delete(key);
    return out;
  }

}
