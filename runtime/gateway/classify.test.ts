import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, networkCode, parseRetryAfter } from './classify.ts';
import { resolveDependency, PROFILES } from './policyConfig.ts';
import { DependencyHttpError, DependencyTimeoutError, ContentFilterError, BreakerOpenError } from './errors.ts';

const dep = resolveDependency('d', { kind: 'http', url: 'http://127.0.0.1:1' });

test('statuses: 408, 429 and 5xx gateway errors retry; client errors do not', () => {
  const verdict = (s: number) => classify(new DependencyHttpError('d', s, false), dep).retryable;
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(verdict(s), true, String(s));
  for (const s of [400, 401, 403, 404, 422, 501]) assert.equal(verdict(s), false, String(s));
});

test('timeouts and network errors retry, through fetch\'s cause chain; content filter and unknown errors do not', () => {
  assert.equal(classify(new DependencyTimeoutError('d', 5), dep).retryable, true);
  const fetchErr = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.equal(networkCode(fetchErr), 'ECONNREFUSED');
  assert.equal(classify(fetchErr, dep).retryable, true);
  assert.equal(classify(new ContentFilterError('d'), dep).retryable, false);
  assert.equal(classify(new TypeError('x is not a function'), dep).retryable, false);
  assert.equal(classify(new BreakerOpenError('d', 'open'), dep).retryable, false);
  assert.equal(classify(Object.assign(new Error('teapot'), { status: 503 }), dep).retryable, true);
});

test('the config extends the classifier with statuses and error codes', () => {
  const ext = resolveDependency('d', { kind: 'tool', classifier: { retryableStatus: [409], nonRetryableStatus: [429], retryableCodes: ['BUSY', 'ToolBusyError'] } });
  assert.equal(classify(new DependencyHttpError('d', 409, false), ext).retryable, true);
  assert.equal(classify(new DependencyHttpError('d', 429, true), ext).retryable, false);
  assert.equal(classify(Object.assign(new Error('b'), { code: 'BUSY' }), ext).retryable, true);
  assert.equal(classify(Object.assign(new Error('b'), { name: 'ToolBusyError' }), ext).retryable, true);
});

test('Retry-After: seconds, an HTTP date, only on 429 and 503', () => {
  assert.equal(parseRetryAfter('3', 429), 3000);
  assert.equal(parseRetryAfter('0.5', 503), 500);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', 503, now), 10_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', 503, now), 0);
  assert.equal(parseRetryAfter('3', 500), undefined);
  assert.equal(parseRetryAfter('soon', 429), undefined);
  assert.equal(parseRetryAfter(null, 429), undefined);
});

test('profiles seed the policy: fast = 3 retries from 1 s, open 30 s; slow = 5 from 2 s, open 120 s', () => {
  const fast = resolveDependency('f', { kind: 'tool' });
  assert.deepEqual([fast.retry.maxAttempts, fast.retry.baseDelayMs, fast.breaker.openMs], [4, 1000, 30_000]);
  const slow = resolveDependency('s', { kind: 'tool', profile: 'slow', retry: { maxAttempts: 2 } });
  assert.deepEqual([slow.retry.maxAttempts, slow.retry.baseDelayMs, slow.breaker.openMs], [2, PROFILES.slow.baseDelayMs, 120_000]);
  assert.deepEqual([fast.breaker.failureRatio, fast.breaker.window, fast.breaker.halfOpenProbes], [0.5, 20, 3]);
});
