import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, SecretScrubber, redactSecrets } from './redact.ts';

test('redactSecrets masks bearer tokens and secret-named fields, and leaves other text alone', () => {
  const line = redactSecrets('connect ws://127.0.0.1:4000 Authorization: Bearer abc.def-123 {"token":"t0k3n-value","apiKey": "sk-1", "x-api-key"=k99} agent planner');
  assert.ok(!/abc\.def-123|t0k3n-value|sk-1|k99/.test(line), line);
  assert.match(line, /ws:\/\/127\.0\.0\.1:4000/);
  assert.match(line, /agent planner$/);
  assert.ok(line.includes(REDACTED));
});

test('SecretScrubber replaces known values, their JSON-escaped form, and in errors', () => {
  const s = new SecretScrubber(['sk-"quoted"-secret', 'short', undefined]);
  assert.equal(s.size, 2, 'the value and its escaped form; "short" is too short to be a secret');
  assert.equal(s.scrub('key sk-"quoted"-secret'), `key ${REDACTED}`);
  assert.equal(s.scrubValue({ m: 'key sk-"quoted"-secret' }).m, `key ${REDACTED}`);
  const e = s.scrubError(new Error('upstream said sk-"quoted"-secret'));
  assert.equal(e.message, `upstream said ${REDACTED}`);
  assert.ok(!e.stack!.includes('quoted'));
});
