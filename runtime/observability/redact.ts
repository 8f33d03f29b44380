/**
 * Secret scrubbing by value. Key-path redaction (pino's `redact`) only catches
 * secrets stored under known keys; an API key also leaks through error
 * messages, URLs, headers echoed by a server or an agent's console output. So
 * every line that leaves the runtime (log files, `log` events, `/metrics`) is
 * also scrubbed of the actual secret strings.
 */

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not treated as secrets: scrubbing "1" or "true"
 * everywhere would mangle logs and protects nothing.
 */
export const MIN_SECRET_LENGTH = 6;

/** Env var names whose values are scrubbed even when no config names them. */
const SECRET_ENV_NAME = /(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces known secret values with `[REDACTED]`, also in their JSON-escaped form. */
export class SecretScrubber {
  private pattern: RegExp | null = null;
  private readonly secrets = new Set<string>();

  constructor(secrets: Iterable<string | undefined | null> = []) {
    this.add(secrets);
  }

  /** Adds secret values (for a key that appears after start, say). */
  add(secrets: Iterable<string | undefined | null>): void {
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) continue;
      this.secrets.add(s);
      // In JSON a secret holding `"` or `\` is written escaped; the Prometheus
      // text format escapes label values the same way.
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s) this.secrets.add(escaped);
    }
    // Longest first, so a secret that contains another is replaced whole.
    const all = [...this.secrets].sort((a, b) => b.length - a.length);
    this.pattern = all.length ? new RegExp(all.map(escapeRegExp).join('|'), 'g') : null;
  }

  get size(): number {
    return this.secrets.size;
  }

  /** The text with every secret value replaced. */
  scrub(text: string): string {
    return this.pattern ? text.replace(this.pattern, REDACTED) : text;
  }

  /** A deep copy of a JSON-able value with secrets scrubbed from every string (for control events). */
  scrubValue<T>(value: T): T {
    if (!this.pattern) return value;
    return JSON.parse(this.scrub(JSON.stringify(value))) as T;
  }
}

/**
 * The secret values of a runtime: the env vars the config names as
 * `apiKeyEnv`, plus any env var whose name looks like a credential.
 */
export function secretValues(dependencies: Record<string, { apiKeyEnv?: string }> = {}, env: NodeJS.ProcessEnv = process.env): string[] {
  const out = new Set<string>();
  for (const dep of Object.values(dependencies)) {
    const v = dep.apiKeyEnv ? env[dep.apiKeyEnv] : undefined;
    if (v) out.add(v);
  }
  for (const [name, v] of Object.entries(env)) if (v && SECRET_ENV_NAME.test(name)) out.add(v);
  return [...out].filter((s) => s.length >= MIN_SECRET_LENGTH);
}
