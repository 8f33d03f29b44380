/**
 * Keeps API keys out of everything the gateway emits. Keys live only in the
 * environment variables named by `apiKeyEnv` and in the Authorization header
 * of outgoing requests; any text that leaves the gateway (error messages,
 * event and log fields) passes through `redact` first, in case a server
 * echoes the key back in an error body.
 */
export const REDACTED = '[REDACTED]';

export class Redactor {
  private secrets: string[] = [];

  /** Registers the current values of the given environment variables. */
  constructor(env: NodeJS.ProcessEnv, varNames: Iterable<string>) {
    for (const name of varNames) {
      const v = env[name];
      // Very short values would redact ordinary words; no real key is that short.
      if (v && v.length >= 6) this.secrets.push(v);
    }
  }

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  }

  /** Redacts an error's message and stack in place and returns it. */
  redactError<E>(e: E): E {
    if (this.empty || !(e instanceof Error)) return e;
    e.message = this.redact(e.message);
    if (e.stack) e.stack = this.redact(e.stack);
    return e;
  }
}
