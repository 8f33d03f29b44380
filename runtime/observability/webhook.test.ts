import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { AlertEngine } from './alerts.ts';
import { resolveAlertRules } from '../config/alertsSchema.ts';
import { WebhookSink, WebhookDeliveryError, type WebhookBody } from './webhook.ts';
import { SecretScrubber } from '../protocol/redact.ts';

/** A real HTTP receiver on loopback that records the JSON bodies it gets. */
async function receiver(status = 204) {
  const bodies: { headers: http.IncomingHttpHeaders; body: WebhookBody }[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body: JSON.parse(data) });
      res.statusCode = status;
      res.end(status >= 400 ? 'receiver is down' : '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('critical alerts are POSTed as JSON, firing and resolved; warnings are not', async () => {
  const rx = await receiver();
  let t = 0;
  const engine = new AlertEngine(resolveAlertRules(), { clock: () => t });
  const secret = 'sk-test-0123456789';
  const sink = new WebhookSink({ url: rx.url, system: 'research-team', scrub: (s) => new SecretScrubber([secret]).scrub(s) });
  const sub = sink.attach(engine);
  try {
    engine.breaker('primary', 'open', true); // warning: not sent
    engine.agentUnresponsive(`planner-${secret}`, true); // critical
    engine.evaluate();
    t += 1_000;
    engine.agentUnresponsive(`planner-${secret}`, false);
    engine.evaluate();
    await sink.flush();

    assert.equal(rx.bodies.length, 2);
    assert.match(String(rx.bodies[0].headers['content-type']), /^application\/json/);
    const [fired, resolved] = rx.bodies.map((b) => b.body);
    assert.equal(fired.source, 'faultline');
    assert.equal(fired.system, 'research-team');
    assert.equal(fired.alert.state, 'firing');
    assert.equal(fired.alert.level, 'critical');
    assert.equal(fired.alert.rule, 'unresponsive');
    assert.equal(resolved.alert.state, 'resolved');
    assert.equal(resolved.alert.since, fired.alert.since);
    assert.ok(!JSON.stringify(rx.bodies).includes(secret), 'the secret was scrubbed before sending');
    assert.equal(sink.delivered, 2);
  } finally {
    sub.dispose();
    await rx.close();
  }
});

test('a failing receiver is reported, not thrown', async () => {
  const rx = await receiver(500);
  const errors: Error[] = [];
  const sink = new WebhookSink({ url: rx.url, levels: ['warning', 'critical'], onError: (e) => errors.push(e) });
  try {
    await sink.send({ state: 'firing', level: 'warning', rule: 'breakerOpen', subject: 'primary', subjectKind: 'dependency', value: 1, threshold: 1, since: '', time: '', message: '' });
    assert.equal(rx.bodies.length, 1);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof WebhookDeliveryError);
    assert.equal((errors[0] as WebhookDeliveryError).status, 500);
    assert.match(errors[0].message, /receiver is down/);
    assert.equal(sink.failed, 1);
  } finally {
    await rx.close();
  }
});

test('an unreachable receiver is reported after the connection fails', async () => {
  // Bind then close a port so nothing listens on it.
  const rx = await receiver();
  await rx.close();
  const errors: Error[] = [];
  const sink = new WebhookSink({ url: rx.url, onError: (e) => errors.push(e), timeoutMs: 2_000 });
  await sink.send({ state: 'firing', level: 'critical', rule: 'unresponsive', subject: 'a', subjectKind: 'agent', value: 1, threshold: 1, since: '', time: '', message: '' });
  assert.equal(errors.length, 1);
  assert.equal(sink.delivered, 0);
});
