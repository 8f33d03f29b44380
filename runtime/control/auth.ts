/** Token and Origin checks for the control channel. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh per-run token: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Compares in constant time (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token from an `Authorization: Bearer <token>` header, if any. */
export function bearer(header: string | undefined): string | undefined {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

/**
 * Non-browser clients (CLI, extension host) send no Origin. Browser pages are
 * refused unless they are a VS Code webview.
 */
export function originAllowed(origin: string | undefined, extra: readonly string[] = []): boolean {
  if (origin === undefined || origin === '') return true;
  if (origin.startsWith('vscode-webview://')) return true;
  return extra.includes(origin);
}
