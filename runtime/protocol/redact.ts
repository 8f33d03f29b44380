/**
 * The one redactor of secrets, for the runtime and its clients (pure: the
 * extension imports it too). Two ways a secret is caught:
 *
 * - by value (`SecretScrubber`): the actual key strings, wherever they show up
 *   — an error message a server echoed, a URL, an agent's console output;
 * - by shape (`redactSecrets`): `Bearer <token>` and `apiKey: …`,
 *   `"token": "…"`, … for text whose secrets are not known by value (the
 *   extension's log of runtime output, where runtime.json's control token
 *   may appear). The same key names drive the logger's key-path redaction.
 */

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are not treated as secrets: scrubbing "1" or "true"
 * everywhere would mangle logs and protects nothing.
 */
export const MIN_SECRET_LENGTH = 6;

/** Field names whose values never reach a log or an event. */
export const SECRET_KEYS = ['apiKey', 'api_key', 'apikey', 'authorization', 'Authorization', 'token', 'accessToken', 'password', 'secret', 'cookie', 'x-api-key'] as const;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const KEYED = new RegExp(`("?(?:${[...new Set(SECRET_KEYS.map((k) => k.toLowerCase()))].map(escapeRegExp).join('|')})"?\\s*[:=]\\s*)("[^"]*"|[^\\s,}]+)`, 'gi');
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;

/** Masks bearer tokens and the values of secret-named fields in free text. */
export function redactSecrets(text: string): string {
  return text.replace(BEARER, `Bearer ${REDACTED}`).replace(KEYED, `$1"${REDACTED}"`);
}

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

  /** Scrubs an error's message and stack in place and returns it (anything else is returned as is). */
  scrubError<E>(e: E): E {
    if (!this.pattern || !(e instanceof Error)) return e;
    e.message = this.scrub(e.message);
    if (e.stack) e.stack = this.scrub(e.stack);
    return e;
  }
}
