/**
 * The logging surface the extension's classes take: VS Code's
 * LogOutputChannel has exactly this shape, and a test can pass an array sink.
 */
export interface Log {
  trace(msg: string, ...args: unknown[]): void;
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string | Error, ...args: unknown[]): void;
}

/** Masks tokens and keys before a line reaches a log (runtime.json holds the control token). */
export { redactSecrets as redact } from '../../../runtime/protocol/redact.ts';
