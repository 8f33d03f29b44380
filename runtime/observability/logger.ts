/**
 * The runtime's structured log: pino JSON lines in `<dir>/runtime.log`,
 * rotated by rotating-file-stream (classic logrotate naming: runtime.log.1 is
 * the newest rotated file), and teed line by line to listeners that forward
 * them as `log` events on the control channel.
 *
 * Every line has the same shape: `time` (ISO), `level` (a name), `msg`, and
 * where they apply `agent`, `supervisor`, `msgId`, `dependency`, `attempt`,
 * `err { type, message, stack }`. Secrets are redacted twice: by key path
 * (pino `redact`: apiKey, authorization, token, …) and by value (every known
 * secret string, wherever it appears in the line).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { LogEvent } from '../protocol/events.ts';
import { REDACTED, SECRET_KEYS, SecretScrubber } from '../protocol/redact.ts';
import { Emitter, type Disposable } from '../protocol/emitter.ts';

export type LogLevelName = LogEvent['level'];
export type LogLine = LogEvent;

const LEVELS: Record<LogLevelName, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** pino redact paths of the secret keys, at the top level, one level down and in headers. */
const at = (prefix: string, k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? (prefix ? `${prefix}.${k}` : k) : `${prefix}["${k}"]`);
export const REDACT_PATHS = ['', '*', '*.headers', '*.*.headers'].flatMap((prefix) => SECRET_KEYS.map((k) => at(prefix, k)));

/** Agent console lines longer than this are cut: one runaway print must not make a 100 MB log line. */
const MAX_OUTPUT_LINE = 16_384;

export interface LoggerOptions {
  /** Directory of the log files (`.faultline/logs`); created if missing. */
  dir: string;
  /** Lowest level written (default `info`). */
  level?: LevelWithSilent;
  /** Secret values to scrub from every line (SecretScrubber input), e.g. `secretValues(config.dependencies)`. */
  redact?: string[];
  /** Extra pino redact paths. */
  redactPaths?: string[];
  /** Rotation: at this size (default `10M`), and/or on this interval (e.g. `1d`); keep this many rotated files (default 5). */
  rotate?: { size?: string; interval?: string; keep?: number };
  /** Called with each written line, parsed (the control channel's `log` events). */
  onLine?: (line: LogLine) => void;
  /** Extra fields for a line (`trace_id`/`span_id` of the message the line's agent handles), given the agent it is about. */
  mixin?: (agent: string | undefined) => Record<string, unknown> | undefined;
}

export interface RuntimeLog {
  /** The pino logger; `logger.child({ agent, supervisor })` for agent-scoped lines. */
  readonly logger: Logger;
  /** Path of the current (not rotated) file. */
  readonly file: string;
  readonly scrubber: SecretScrubber;
  /** Adds a line listener (more than the one in the options). */
  onLine(listener: (line: LogLine) => void): Disposable;
  /** Records one line an agent process printed on stdout (info) or stderr (warn). */
  agentOutputLine(agent: string, stream: 'stdout' | 'stderr', line: string, supervisor?: string): void;
  /** Records a log call an agent made through `ctx.log` (relayed over IPC); the level is checked, reserved fields dropped. */
  agentLog(agent: string, level: string, msg: string, fields?: Record<string, unknown>, supervisor?: string): void;
  /** Resolves when everything logged so far is written to the file. */
  flush(): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** `err` in the same shape whether it is an Error, a serialized error from IPC, or anything thrown. */
export function serializeErr(e: unknown): { type: string; message: string; stack?: string; code?: string } {
  if (e && typeof e === 'object') {
    const o = e as { type?: unknown; name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
    const type = typeof o.type === 'string' ? o.type : typeof o.name === 'string' ? o.name : (e.constructor?.name ?? 'Error');
    return {
      type,
      message: typeof o.message === 'string' ? o.message : String(o.message ?? ''),
      ...(typeof o.stack === 'string' ? { stack: o.stack } : {}),
      ...(typeof o.code === 'string' ? { code: o.code } : {}),
    };
  }
  return { type: typeof e, message: String(e) };
}

/** Whether a log line passes a `{ agent, level }` filter (level: this or more severe). */
export function matchesLogFilter(line: { level: string; agent?: unknown; [field: string]: unknown }, filter: { agent?: string | string[]; level?: LogLevelName } = {}): boolean {
  if (filter.level && (LEVELS[line.level as LogLevelName] ?? 0) < LEVELS[filter.level]) return false;
  if (filter.agent !== undefined) {
    const want = Array.isArray(filter.agent) ? filter.agent : [filter.agent];
    if (typeof line.agent !== 'string' || !want.includes(line.agent)) return false;
  }
  return true;
}

const RESERVED = new Set(['time', 'level', 'msg', 'agent', 'supervisor', 'pid', 'hostname']);

export function createLogger(opts: LoggerOptions): RuntimeLog {
  mkdirSync(opts.dir, { recursive: true });
  const scrubber = new SecretScrubber(opts.redact ?? []);
  const rot = opts.rotate ?? {};
  const stream: RotatingFileStream = createStream('runtime.log', {
    path: opts.dir,
    size: rot.size ?? (rot.interval ? undefined : '10M'),
    ...(rot.interval ? { interval: rot.interval } : {}),
    rotate: rot.keep ?? 5,
    mode: 0o600,
  });
  // A full disk or a removed directory must not take the runtime down; say it once.
  let warned = false;
  stream.on('error', (e) => {
    if (!warned) process.stderr.write(`faultline: cannot write the log in ${opts.dir}: ${e.message}\n`);
    warned = true;
  });

  const lines = new Emitter<LogLine>();
  if (opts.onLine) lines.event(opts.onLine);

  // Writes not yet on disk, so flush() can wait for exactly those.
  let pending = 0;
  let waiters: (() => void)[] = [];
  const written = () => {
    if (--pending > 0) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  // pino hands a destination one complete line per write, so the tee can
  // scrub, store and parse lines without reassembling chunks.
  const destination = {
    write(chunk: string) {
      const line = scrubber.scrub(chunk);
      if (!stream.destroyed && !stream.writableEnded) {
        pending++;
        stream.write(line, written);
      }
      if (!lines.active) return;
      let obj: LogLine;
      try {
        obj = JSON.parse(line) as LogLine;
      } catch {
        return;
      }
      lines.fire(obj);
    },
  };

  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeErr, error: serializeErr },
      redact: { paths: [...REDACT_PATHS, ...(opts.redactPaths ?? [])], censor: REDACTED },
      ...(opts.mixin
        ? {
            mixin: (fields: object, _level: number, l?: Logger) => {
              const agent = (fields as { agent?: unknown }).agent ?? (l?.bindings?.() as { agent?: unknown } | undefined)?.agent;
              return opts.mixin!(typeof agent === 'string' ? agent : undefined) ?? {};
            },
          }
        : {}),
    },
    destination,
  );

  const agentLoggers = new Map<string, Logger>();
  const forAgent = (agent: string, supervisor?: string): Logger => {
    const k = `${agent}\u0000${supervisor ?? ''}`;
    let l = agentLoggers.get(k);
    if (!l) agentLoggers.set(k, (l = logger.child(supervisor ? { agent, supervisor } : { agent })));
    return l;
  };

  const flush = () =>
    new Promise<void>((resolve) => {
      if (pending === 0 || stream.destroyed) resolve();
      else waiters.push(resolve);
    });

  return {
    logger,
    file: path.join(opts.dir, 'runtime.log'),
    scrubber,
    onLine: lines.event,
    agentOutputLine(agent, which, line, supervisor) {
      const text = line.length > MAX_OUTPUT_LINE ? `${line.slice(0, MAX_OUTPUT_LINE)}…` : line;
      const l = forAgent(agent, supervisor);
      if (which === 'stderr') l.warn({ stream: which }, text);
      else l.info({ stream: which }, text);
    },
    agentLog(agent, level, msg, fields, supervisor) {
      const lvl: LogLevelName = level in LEVELS ? (level as LogLevelName) : 'info';
      const clean: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields ?? {})) if (!RESERVED.has(k)) clean[k] = v;
      forAgent(agent, supervisor)[lvl](clean, String(msg));
    },
    flush,
    async close() {
      if (stream.destroyed || stream.writableEnded) return;
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      });
    },
  };
}
