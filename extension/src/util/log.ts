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

const SECRET = /("?(?:token|authorization|password|apiKey|api_key|secret)"?\s*[:=]\s*)("[^"]*"|[^\s,}]+)/gi;
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;

/** Masks tokens and keys before a line reaches a log (runtime.json holds the control token). */
export function redact(line: string): string {
  return line.replace(BEARER, 'Bearer ***').replace(SECRET, '$1"***"');
}
