/**
 * `faultline up --host ADDR` (and `runtime.host`): the HTTP endpoints and the
 * control channel listen on that address instead of 127.0.0.1 — for probes
 * from outside a container — and the CLI still finds the runtime. Run on
 * 127.0.0.2, another loopback address, so that nothing leaves the machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { cli, probe, up, workspace } from './helpers/runtime.ts';

const system = { name: 'hosted', supervisor: { id: 'root', children: [probe('only')] } };

test('--host binds the probes and the control channel there, not on 127.0.0.1; the CLI and the token still apply', async () => {
  const dir = workspace(system);
  const rt = await up(dir, ['--host', '127.0.0.2']);
  try {
    assert.match(rt.output(), /Faultline runtime listening on http:\/\/127\.0\.0\.2:\d+/);
    assert.equal(rt.file.host, '127.0.0.2');
    assert.equal(rt.file.url, `http://127.0.0.2:${rt.port}`);
    await rt.until((s) => s.tree.children.every((c) => c.state === 'running'), 'the agent running');
    assert.equal((await fetch(`http://127.0.0.2:${rt.port}/livez`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.2:${rt.port}/readyz`)).status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${rt.port}/livez`), 'nothing listens on 127.0.0.1');
    const status = await cli(['status', '--json'], dir);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).tree.children[0].id, 'only');
    // The control channel still refuses a wrong token.
    const refused = await new Promise<number | undefined>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.2:${rt.port}/control`, { headers: { authorization: 'Bearer not-the-token' } });
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode); ws.terminate(); });
      ws.once('open', () => { resolve(undefined); ws.close(); });
      ws.once('error', reject);
    });
    assert.equal(refused, 401);
    assert.match(readFileSync(path.join(dir, '.faultline', 'logs', 'runtime.log'), 'utf8'), /listen on 127\.0\.0\.2, not only the loopback; the control channel still needs the token/);
  } finally {
    await rt.stop();
  }
});

test('a bad --host is a usage error; a bad runtime.host names its JSON path', async () => {
  const dir = workspace(system);
  try {
    const r = await cli(['up', '--no-live', '--host', 'no such host!'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--host: "no such host!" is not an IP address or a host name/);
    const bad = workspace({ ...system, runtime: { host: 'bad host' } });
    try {
      const c = await cli(['up', '--no-live'], bad);
      assert.equal(c.code, 2);
      assert.match(c.stderr, /runtime\.host/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
