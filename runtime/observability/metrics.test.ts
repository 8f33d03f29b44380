import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ParsedFamily, ParsedSample } from 'parse-prometheus-text-format';
import { parseExposition } from '../../test/helpers/prometheus.ts';
import { Metrics, errorCategory } from './metrics.ts';
import { SecretScrubber } from '../protocol/redact.ts';
import { parseStatTicks, parseStatRssPages } from './procStats.ts';

async function scrape(m: Metrics): Promise<ParsedFamily[]> {
  return parseExposition(await m.text());
}

function family(fams: ParsedFamily[], name: string): ParsedFamily {
  const f = fams.find((x) => x.name === name);
  assert.ok(f, `metric ${name} is exposed`);
  return f;
}

/** The one sample of a family whose labels include `labels`. */
function sample(fams: ParsedFamily[], name: string, labels: Record<string, string> = {}): ParsedSample {
  const hits = family(fams, name).metrics.filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  assert.equal(hits.length, 1, `one ${name} sample with ${JSON.stringify(labels)}, got ${JSON.stringify(hits)}`);
  return hits[0];
}
const value = (fams: ParsedFamily[], name: string, labels: Record<string, string> = {}) => Number(sample(fams, name, labels).value);

test('known observations appear with their names, labels and values', async () => {
  const m = new Metrics({ pricing: { primary: { promptPer1k: 0.5, completionPer1k: 1.5 } } });
  try {
    m.messageHandled('planner', 'summarize', 0.2, true);
    m.messageHandled('planner', 'summarize', 0.4, true);
    m.messageHandled('planner', 'summarize', 3, false, 'timeout');
    m.messageHandled('writer', undefined, 0.01, true);
    m.dependencyCall('primary', 'model', 1.5, true, { agent: 'planner' });
    m.dependencyCall('primary', 'model', 2, false, { agent: 'planner', category: 'server_error' });
    m.retry('primary', 'server_error');
    m.giveUp('primary', 'server_error');
    m.breaker('primary', 'closed');
    m.breaker('primary', 'open');
    m.breaker('primary', 'open');
    m.breaker('primary', 'half-open');
    m.restart('researcher', 'crew');
    m.restart('researcher', 'crew');
    m.escalation('crew');
    m.checkpointWrite('planner', 1024, 0.002);
    m.checkpointWrite('planner', 2048, 0.003);
    m.checkpointFallback('planner', 'previous');
    m.inboxDepth('planner', 7);
    m.activeFaults(['latency', 'latency', 'crash']);
    const cost = m.modelUsage('primary', 1000, 500, 'planner');
    assert.equal(cost, 1.25);

    const f = await scrape(m);
    for (const fam of f) assert.match(fam.name, /^faultline_/);

    assert.equal(value(f, 'faultline_messages_total', { agent: 'planner', task: 'summarize', outcome: 'ok' }), 2);
    assert.equal(value(f, 'faultline_messages_total', { agent: 'planner', task: 'summarize', outcome: 'error' }), 1);
    assert.equal(value(f, 'faultline_messages_total', { agent: 'writer', task: 'message', outcome: 'ok' }), 1);
    assert.equal(value(f, 'faultline_message_errors_total', { agent: 'planner', task: 'summarize', error_category: 'timeout' }), 1);

    assert.equal(family(f, 'faultline_message_duration_seconds').type, 'HISTOGRAM');
    const planner = { agent: 'planner', task: 'summarize' };
    assert.equal(value(f, 'faultline_message_duration_seconds_count', planner), 3);
    assert.ok(Math.abs(value(f, 'faultline_message_duration_seconds_sum', planner) - 3.6) < 1e-9);
    assert.equal(value(f, 'faultline_message_duration_seconds_bucket', { ...planner, le: '0.5' }), 2);
    assert.equal(value(f, 'faultline_message_duration_seconds_bucket', { ...planner, le: '+Inf' }), 3);
    assert.equal(value(f, 'faultline_message_duration_seconds_count', { agent: 'writer', task: 'message' }), 1);

    assert.equal(value(f, 'faultline_dependency_calls_total', { dependency: 'primary', kind: 'model', agent: 'planner', outcome: 'ok' }), 1);
    assert.equal(value(f, 'faultline_dependency_calls_total', { dependency: 'primary', kind: 'model', agent: 'planner', outcome: 'error' }), 1);
    assert.equal(value(f, 'faultline_dependency_call_duration_seconds_count', { dependency: 'primary', kind: 'model' }), 2);
    // One failed call plus one failed attempt that was retried.
    assert.equal(value(f, 'faultline_dependency_errors_total', { dependency: 'primary', error_category: 'server_error' }), 2);
    assert.equal(value(f, 'faultline_dependency_retries_total', { dependency: 'primary' }), 1);
    assert.equal(value(f, 'faultline_dependency_give_ups_total', { dependency: 'primary', error_category: 'server_error' }), 1);

    assert.equal(family(f, 'faultline_breaker_state').type, 'GAUGE');
    assert.equal(value(f, 'faultline_breaker_state', { dependency: 'primary', state: 'half-open' }), 1);
    assert.equal(value(f, 'faultline_breaker_state', { dependency: 'primary', state: 'open' }), 0);
    assert.equal(value(f, 'faultline_breaker_state', { dependency: 'primary', state: 'closed' }), 0);
    // The repeated `open` is not a transition.
    assert.equal(value(f, 'faultline_breaker_transitions_total', { dependency: 'primary', from: 'closed', to: 'open' }), 1);
    assert.equal(value(f, 'faultline_breaker_transitions_total', { dependency: 'primary', from: 'open', to: 'half-open' }), 1);

    assert.equal(value(f, 'faultline_restarts_total', { supervisor: 'crew', agent: 'researcher' }), 2);
    assert.equal(value(f, 'faultline_escalations_total', { supervisor: 'crew' }), 1);

    assert.equal(value(f, 'faultline_checkpoint_writes_total', { agent: 'planner', outcome: 'ok' }), 2);
    assert.equal(value(f, 'faultline_checkpoint_bytes_total', { agent: 'planner' }), 3072);
    assert.equal(value(f, 'faultline_checkpoint_write_duration_seconds_count', { agent: 'planner' }), 2);
    assert.equal(value(f, 'faultline_checkpoint_fallbacks_total', { agent: 'planner', to: 'previous' }), 1);

    assert.equal(value(f, 'faultline_inbox_depth', { agent: 'planner' }), 7);
    assert.equal(value(f, 'faultline_active_faults', { fault: 'latency' }), 2);
    assert.equal(value(f, 'faultline_active_faults', { fault: 'crash' }), 1);

    assert.equal(value(f, 'faultline_api_tokens_total', { dependency: 'primary', agent: 'planner', type: 'prompt' }), 1000);
    assert.equal(value(f, 'faultline_api_tokens_total', { dependency: 'primary', agent: 'planner', type: 'completion' }), 500);
    assert.equal(value(f, 'faultline_api_cost_total', { dependency: 'primary', agent: 'planner' }), 1.25);

    assert.ok(value(f, 'faultline_runtime_resident_memory_bytes') > 0);
    assert.ok(value(f, 'faultline_runtime_cpu_seconds') > 0);
    assert.ok(m.contentType.startsWith('text/plain'));
  } finally {
    m.dispose();
  }
});

test('clearing the active faults removes their series', async () => {
  const m = new Metrics();
  try {
    m.activeFaults(['crash']);
    m.activeFaults([]);
    assert.equal(family(await scrape(m), 'faultline_active_faults').metrics.length, 0);
  } finally {
    m.dispose();
  }
});

test('instrumentation switched off records nothing', async () => {
  const m = new Metrics({ enabled: false });
  try {
    m.messageHandled('planner', 'x', 0.1, true);
    m.breaker('primary', 'open');
    m.restart('planner', 'root');
    const f = await scrape(m);
    assert.equal(family(f, 'faultline_messages_total').metrics.length, 0);
    assert.equal(family(f, 'faultline_breaker_state').metrics.length, 0);
    m.enabled = true;
    m.messageHandled('planner', 'x', 0.1, true);
    assert.equal(value(await scrape(m), 'faultline_messages_total', { agent: 'planner', task: 'x', outcome: 'ok' }), 1);
  } finally {
    m.dispose();
  }
});

test('message types from user code cannot blow up the series count', async () => {
  const m = new Metrics();
  try {
    for (let i = 0; i < 60; i++) m.messageHandled('planner', `type-${i}`, 0.001, true);
    const f = await scrape(m);
    const tasks = new Set(family(f, 'faultline_messages_total').metrics.map((s) => s.labels!.task));
    assert.equal(tasks.size, 51);
    assert.equal(value(f, 'faultline_messages_total', { agent: 'planner', task: 'other', outcome: 'ok' }), 10);
  } finally {
    m.dispose();
  }
});

test('a secret value never appears in the metrics text, even inside a label', async () => {
  const secret = 'sk-live-4f9a"8b\\2c';
  const scrubber = new SecretScrubber([secret]);
  const m = new Metrics({ scrub: (t) => scrubber.scrub(t) });
  try {
    m.messageHandled('planner', `leak ${secret} here`, 0.1, true);
    m.faultInjected(secret);
    const text = await m.text();
    assert.ok(!text.includes(secret), 'raw secret absent');
    assert.ok(!text.includes(JSON.stringify(secret).slice(1, -1)), 'escaped secret absent');
    assert.ok(text.includes('[REDACTED]'));
    // Still valid exposition text.
    assert.ok(parseExposition(text).length > 0);
  } finally {
    m.dispose();
  }
});

test('error categories are bounded snake case', () => {
  assert.equal(errorCategory('rate_limit'), 'rate_limit');
  assert.equal(errorCategory('HTTP 503: Service Unavailable'), 'http_503_service_unavailable');
  assert.equal(errorCategory(undefined), 'unknown');
  assert.ok(errorCategory('x'.repeat(100)).length <= 32);
});

test('procfs parsing handles command names with spaces and parentheses', () => {
  const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 11 0 76105 1000 373 18446744073709551615';
  assert.equal(parseStatTicks(stat), 175);
  assert.equal(parseStatRssPages(stat), 373);
  assert.equal(parseStatTicks('garbage'), null);
  assert.equal(parseStatRssPages('garbage'), null);
});

test('sampleProcesses reads RSS and CPU of a real child process and drops it once gone', { skip: process.platform !== 'linux' }, async () => {
  const child = spawn(process.execPath, ['-e', 'let x = 0; for (let i = 0; i < 2e7; i++) x += i; console.log("ready"); setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m = new Metrics();
  try {
    await once(child.stdout!, 'data');
    const pids = new Map([['researcher', child.pid!]]);
    const first = await m.sampleProcesses(pids);
    const s = first.get('researcher');
    assert.ok(s, 'sampled');
    assert.equal(s.pid, child.pid);
    assert.ok(s.rssBytes > 1024 * 1024, `rss ${s.rssBytes}`);
    assert.ok(s.cpuSeconds > 0, 'the busy loop used CPU');
    assert.equal(s.cpuRatio, null, 'no ratio before a second sample');
    const second = await m.sampleProcesses(pids);
    assert.ok((second.get('researcher')!.cpuRatio ?? -1) >= 0);

    let f = await scrape(m);
    assert.equal(value(f, 'faultline_agent_resident_memory_bytes', { agent: 'researcher' }), second.get('researcher')!.rssBytes);
    assert.ok(Math.abs(value(f, 'faultline_agent_cpu_seconds_total', { agent: 'researcher' }) - second.get('researcher')!.cpuSeconds) < 1e-9);

    child.kill('SIGKILL');
    await once(child, 'exit');
    const after = await m.sampleProcesses(pids);
    assert.equal(after.size, 0, 'a gone process yields no sample');
    f = await scrape(m);
    assert.equal(family(f, 'faultline_agent_resident_memory_bytes').metrics.length, 0);
    // CPU seconds is a counter: it keeps what the agent used.
    assert.ok(value(f, 'faultline_agent_cpu_seconds_total', { agent: 'researcher' }) > 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    m.dispose();
  }
});

test('a blocked event loop shows in the lag gauges', async () => {
  const m = new Metrics();
  try {
    await new Promise((r) => setTimeout(r, 150));
    // Block the loop for 300 ms: the 100 ms sampling timer cannot fire, so
    // the largest delay it then sees is at least 200 ms, however slow the machine.
    const end = performance.now() + 300;
    while (performance.now() < end);
    await new Promise((r) => setTimeout(r, 150));
    const f = await scrape(m);
    assert.ok(value(f, 'faultline_event_loop_lag_max_seconds') >= 0.1, 'max lag');
    assert.ok(value(f, 'faultline_event_loop_lag_p50_seconds') >= 0, 'p50 lag');
    assert.ok(value(f, 'faultline_event_loop_lag_p99_seconds') >= value(f, 'faultline_event_loop_lag_p50_seconds'), 'p99 >= p50');
  } finally {
    m.dispose();
  }
});
