import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricValue, parseSamples } from './metricsText.ts';

const text = `# HELP faultline_breaker_state Circuit breaker state
# TYPE faultline_breaker_state gauge
faultline_breaker_state{dependency="primary",state="open"} 1
faultline_breaker_state{dependency="primary",state="closed"} 0
faultline_breaker_state{dependency="backup",state="closed"} 1
faultline_restarts_total{supervisor="root",agent="a \\"quoted\\""} 3
faultline_runtime_cpu_seconds 1.5
faultline_message_duration_seconds_bucket{agent="a",le="+Inf"} 4
`;

test('samples with labels, escapes and +Inf', () => {
  const s = parseSamples(text);
  assert.equal(s.length, 6);
  assert.deepEqual(s[3].labels, { supervisor: 'root', agent: 'a "quoted"' });
  assert.equal(s[4].value, 1.5);
});

test('values aggregate over the series whose labels match', () => {
  const s = parseSamples(text);
  assert.equal(metricValue(s, 'faultline_breaker_state', { dependency: 'primary', state: 'open' }), 1);
  assert.equal(metricValue(s, 'faultline_breaker_state', { state: 'closed' }), 1);
  assert.equal(metricValue(s, 'faultline_breaker_state', {}, 'count'), 3);
  assert.equal(metricValue(s, 'faultline_breaker_state', { dependency: 'primary' }, 'max'), 1);
  assert.equal(metricValue(s, 'faultline_restarts_total', { agent: 'nobody' }), 0, 'a counter never incremented reads as 0');
  assert.equal(metricValue(s, 'nope', {}, 'max'), undefined);
});
