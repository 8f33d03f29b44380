/** Argument parsing shared by the commands; a usage error exits 2. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const commonOptions = {
  'state-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals: number[]) {
  let r;
  try {
    r = parseArgs({ args: argv, options: { ...commonOptions, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const n = r.positionals.length;
  if (!(r.values as { help?: boolean }).help && (n < positionals[0] || n > positionals[1])) {
    throw new UsageError(n < positionals[0] ? 'missing arguments' : `unexpected argument "${r.positionals[positionals[1]]}"`);
  }
  return r;
}

export function intOption(v: string | undefined, name: string, min = 0, max = 2 ** 31): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

export function jsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} must be JSON (${(e as Error).message}); quote it for the shell, e.g. '{"text":"hi"}'`);
  }
}
