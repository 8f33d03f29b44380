/**
 * How a stored payload is sealed and checked: JSON text plus the sha256 of
 * its UTF-8 bytes. Shared by the SQLite and memory stores so both detect the
 * same corruption the same way.
 */
import * as crypto from 'node:crypto';

// One-shot `crypto.hash` (Node >= 20.12) skips a Hash object per call, which
// is most of the cost for 1 KB states and garbage the collector must chase.
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array) => string }).hash;

/** sha256 hex of the payload's bytes. */
export function checksumOf(payload: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', payload) : crypto.createHash('sha256').update(payload).digest('hex');
}

export type Verified = { ok: true; value: unknown } | { ok: false; reason: 'checksum' | 'parse'; detail: string };

/**
 * Checks a payload against its checksum and parses it. A corrupted page can
 * come back from SQLite as a BLOB instead of TEXT, so bytes are accepted too.
 */
export function verifyPayload(payload: unknown, checksum: string | null | undefined): Verified {
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    return { ok: false, reason: 'parse', detail: `payload is ${payload === null ? 'null' : typeof payload}` };
  }
  const actual = checksumOf(payload);
  if (actual !== checksum) return { ok: false, reason: 'checksum', detail: `checksum ${actual.slice(0, 12)}… does not match the stored ${String(checksum).slice(0, 12)}…` };
  try {
    const text = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload);
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: 'parse', detail: `payload does not parse: ${(e as Error).message}` };
  }
}

/** Serializes a state; `undefined` becomes `null` so it round-trips. */
export function toPayload(state: unknown): string {
  return JSON.stringify(state) ?? 'null';
}

/** The JSON text a checkpoint stores: what the agent host serialized already, else its state serialized here. */
export function payloadOf(c: { state?: unknown; json?: string }): string {
  return typeof c.json === 'string' ? c.json : toPayload(c.state);
}

/** Flips a few bytes in the middle of a payload, as a bad sector would. */
export function damage(payload: string | Uint8Array): Buffer {
  const bytes = Buffer.from(payload as string);
  if (bytes.length === 0) return Buffer.from([0xff]);
  const mid = bytes.length >> 1;
  for (let i = Math.max(0, mid - 4); i < Math.min(bytes.length, mid + 4); i++) bytes[i] ^= 0x5a;
  return bytes;
}

/**
 * Damages a payload kept as text (PostgreSQL, Redis) while keeping it valid
 * UTF-8, which a text column requires: a few characters in the middle change.
 */
export function damageText(payload: string): string {
  if (payload.length === 0) return '\u00ff';
  const mid = payload.length >> 1;
  const from = Math.max(0, mid - 4);
  const to = Math.min(payload.length, mid + 4);
  let out = '';
  for (let i = from; i < to; i++) {
    const c = payload.charCodeAt(i);
    out += c < 0x80 ? String.fromCharCode(c === 0x7e ? 0x21 : c ^ 0x01 || 0x01) : '?';
  }
  return payload.slice(0, from) + out + payload.slice(to);
}
