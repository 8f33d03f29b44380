/**
 * CPU and memory of agent processes, read from Linux procfs: two small reads
 * per pid (`/proc/<pid>/stat` for CPU ticks, `/proc/<pid>/status` for RSS), no
 * child process per sample. On other platforms sampling yields nothing.
 */
import { readFile } from 'node:fs/promises';
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

let clockTicks: number | undefined;
/** Kernel clock ticks per second (USER_HZ); asked once, 100 on every mainstream Linux. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Parses utime + stime (fields 14 and 15) from `/proc/<pid>/stat`, in ticks. */
export function parseStatTicks(stat: string): number | null {
  // The command name (field 2) is in parentheses and may itself hold spaces
  // or parentheses, so count fields from the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14 → rest[11], stime → rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** Parses `VmRSS:  1234 kB` from `/proc/<pid>/status`, in bytes. */
export function parseStatusRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

/** Reads one process; null when it is gone (it exited between listing and reading) or not on Linux. */
export async function readProcess(pid: number): Promise<{ rssBytes: number; cpuSeconds: number } | null> {
  if (process.platform !== 'linux') return null;
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    const ticks = parseStatTicks(stat);
    const rss = parseStatusRss(status);
    if (ticks === null || rss === null) return null;
    return { rssBytes: rss, cpuSeconds: ticks / ticksPerSecond() };
  } catch {
    return null;
  }
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
    const reads = await Promise.all(entries.map(([, pid]) => readProcess(pid)));
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
