/**
 * The runtime's logger: JSON lines (pino) to `<stateDir>/logs/runtime.log`,
 * each line also handed to `onLine` so it can go out as a `log` event.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';

export type RuntimeLogger = pino.Logger & { flush(): Promise<void> };

export interface RuntimeLoggerOptions {
  dir: string;
  level?: string;
  onLine?: (line: any) => void;
}

export function createRuntimeLogger(o: RuntimeLoggerOptions): RuntimeLogger {
  mkdirSync(o.dir, { recursive: true });
  const file = pino.destination({ dest: path.join(o.dir, 'runtime.log'), sync: false, mkdir: true });
  const streams: pino.StreamEntry[] = [{ stream: file, level: (o.level ?? 'info') as pino.Level }];
  if (o.onLine) {
    const onLine = o.onLine;
    const tee = new Writable({
      write(chunk, _enc, cb) {
        try {
          const obj = JSON.parse(chunk.toString());
          obj.level = pino.levels.labels[obj.level] ?? obj.level;
          obj.time = new Date(obj.time).toISOString();
          onLine(obj);
        } catch { /* a line that does not parse is only kept in the file */ }
        cb();
      },
    });
    streams.push({ stream: tee, level: (o.level ?? 'info') as pino.Level });
  }
  const logger = pino({ level: o.level ?? 'info', base: { pid: process.pid }, redact: { paths: ['apiKey', '*.apiKey', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' } }, pino.multistream(streams)) as RuntimeLogger;
  logger.flush = () => new Promise<void>((resolve) => file.flush(() => resolve()));
  return logger;
}
