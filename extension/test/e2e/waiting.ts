/**
 * Waiting in the UI end-to-end tests: polling a condition and waiting for a
 * locator, each saving a screenshot named after what it waited for when it
 * times out (prefixed, so that each test file's screenshots stay apart).
 */
import type { Locator } from 'playwright-core';

export function waiting(shot: (name: string) => Promise<unknown>, prefix: string) {
  const timedOut = (what: string) => shot(`${prefix}timeout-${what.replace(/\W+/g, '-')}`).catch(() => {});

  /** Polls `fn` every 250 ms until it answers something truthy. */
  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v) return v;
      if (Date.now() > deadline) {
        await timedOut(what);
        throw new Error(`timed out waiting for ${what}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits for a locator to show. */
  async function visible(l: Locator, what: string, timeoutMs = 30_000): Promise<Locator> {
    try {
      await l.waitFor({ timeout: timeoutMs });
      return l;
    } catch (e) {
      await timedOut(what);
      throw e;
    }
  }

  return { until, visible };
}
