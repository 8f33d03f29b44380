/**
 * The runtime on server stores, as a user runs it (`faultline up`), against
 * real PostgreSQL and Redis servers this file starts (and SIGKILLs): state
 * restored after an agent SIGKILL; the runtime SIGKILLed during a stream of
 * acknowledged sends and asks, 20 rounds; the workspace's `.faultline/`
 * deleted; the server itself SIGKILLed and restarted under load; a corrupt
 * checkpoint; a server unreachable at start; large states in an S3 bucket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cli, probe, stateOf, up, workspace, type Running } from './helpers/runtime.ts';
import { freePort, PostgresServer, RedisServer, S3Server, type TestServer } from './helpers/servers.ts';
import { agentsOf, findNode } from '../runtime/protocol/status.ts';

const running = (s: { tree: any }) => agentsOf(s.tree).every((a) => a.state === 'running');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pg = new PostgresServer();
const redis = new RedisServer({ appendfsync: 'always' });
const s3 = new S3Server();
before(async () => {
  await Promise.all([pg.start(), redis.start(), s3.start()]);
});
after(async () => {
  await Promise.all([pg.dispose(), redis.dispose(), s3.dispose()]);
});

let n = 0;
interface Kind {
  name: 'postgres' | 'redis';
  server: () => TestServer & { url: string };
  /** The checkpoints config of a fresh namespace; the URL comes from the environment. */
  checkpoints: () => Record<string, unknown>;
}
const kinds: Kind[] = [
  { name: 'postgres', server: () => pg, checkpoints: () => ({ store: 'postgres', urlEnv: 'FAULTLINE_TEST_STORE_URL', schema: `it${++n}` }) },
  { name: 'redis', server: () => redis, checkpoints: () => ({ store: 'redis', urlEnv: 'FAULTLINE_TEST_STORE_URL', prefix: `it${++n}:` }) },
];

for (const k of kinds) {
  describe(`the runtime on ${k.name}`, () => {
    const env = () => ({ FAULTLINE_TEST_STORE_URL: k.server().url });
    const system = (name: string, checkpoints = k.checkpoints(), children = [probe('w'), probe('slow')]) => ({ name, checkpoints, supervisor: { id: 'root', children } });

    test('an agent SIGKILLed comes back with its state; checkpoints name the store; a corrupt one falls back to the previous', async () => {
      const rt = await up(workspace(system('agent-kill')), [], env());
      try {
        await rt.until(running, 'running');
        for (let i = 1; i <= 3; i++) assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: i });
        process.kill((await rt.agent('w')).pid!, 'SIGKILL');
        await rt.until((s) => stateOf(s, 'w') === 'running' && (findNode(s.tree, 'w') as { restarts: number }).restarts === 1, 'w restarted');
        assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 4 });
        const list = (await rt.client.call('checkpoints', { agent: 'w' })) as { store: string; valid: boolean }[];
        assert.ok(list.length >= 4 && list.every((c) => c.store === k.name && c.valid));
        const status = await rt.status();
        assert.equal(status.store?.kind, k.name);
        assert.equal(status.store?.state, 'up');
        await rt.client.call('inject', { fault: 'corrupt-checkpoint', target: 'w' });
        await rt.client.call('inject', { fault: 'kill', target: 'w' });
        await rt.until((s) => stateOf(s, 'w') === 'running' && (findNode(s.tree, 'w') as { restarts: number }).restarts === 2, 'w restarted again');
        assert.deepEqual(await rt.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 4 }, 'restored from the checkpoint before the corrupt one (count 3)');
      } finally {
        await rt.stop();
      }
    });

    test('the runtime SIGKILLed during a stream of sends and asks, 20 rounds: every acknowledged message and checkpoint is there', async () => {
      const dir = workspace(system('runtime-kill'));
      const acked: number[] = [];
      let counted = 0;
      let value = 0;
      for (let round = 0; round < 20; round++) {
        const rt = await up(dir, [], env());
        await rt.until(running, `running (round ${round})`);
        let stop = false;
        const senders = Array.from({ length: 4 }, async () => {
          while (!stop) {
            const v = value++;
            try {
              await rt.client.call('send', { agent: 'slow', message: { op: 'record', value: v } });
              acked.push(v);
            } catch {
              return; // the runtime died: this send was never acknowledged
            }
          }
        });
        const askers = Array.from({ length: 2 }, async () => {
          while (!stop) {
            try {
              const r = (await rt.client.call('ask', { agent: 'w', message: { op: 'count' } })) as { count: number };
              counted = Math.max(counted, r.count);
            } catch {
              return;
            }
          }
        });
        await sleep(150 + ((round * 37) % 200));
        rt.proc.kill('SIGKILL');
        await rt.exited;
        stop = true;
        await Promise.all([...senders, ...askers]);
        rt.client.close();
      }
      const last = await up(dir, [], env());
      try {
        await last.until(running, 'running after the last kill');
        const seen = new Set((await last.client.call('ask', { agent: 'slow', message: { op: 'seen' }, timeoutMs: 60_000 })) as number[]);
        const lost = acked.filter((v) => !seen.has(v));
        assert.deepEqual(lost, [], `${acked.length} sends acknowledged; none may be lost`);
        const { count } = (await last.client.call('ask', { agent: 'w', message: { op: 'count' } })) as { count: number };
        assert.ok(count > counted, `the count (${count}) includes every acknowledged ask (${counted})`);
        assert.ok(acked.length > 100, `a real stream (${acked.length} acknowledged sends)`);
      } finally {
        await last.stop();
      }
    });

    test('with the workspace\'s .faultline/ deleted, the state comes back from the server', async () => {
      const dir = workspace(system('fresh-dir'));
      const first = await up(dir, [], env());
      await first.until(running, 'running');
      for (let i = 0; i < 3; i++) await first.client.call('ask', { agent: 'w', message: { op: 'count' } });
      await first.client.call('send', { agent: 'slow', message: { op: 'record', value: 'kept' } });
      first.client.close();
      first.proc.kill('SIGTERM');
      await first.exited;
      rmSync(path.join(dir, '.faultline'), { recursive: true, force: true });
      const second = await up(dir, [], env());
      try {
        await second.until(running, 'running again');
        assert.deepEqual(await second.client.call('ask', { agent: 'w', message: { op: 'count' } }), { count: 4 });
        assert.deepEqual(await second.client.call('ask', { agent: 'slow', message: { op: 'seen' } }), ['kept']);
      } finally {
        await second.stop();
      }
    });

    test('the server SIGKILLed and restarted under load: the runtime stays up, says why it is not ready, alerts, and loses nothing acknowledged', async () => {
      const rt = await up(workspace(system('server-kill')), [], env());
      try {
        await rt.until(running, 'running');
        await rt.client.call('subscribe', { events: ['alert'] });
        const alerts: { rule: string; state: string; subject: string }[] = [];
        rt.client.onEvent((m, p) => { if (m === 'alert') alerts.push(p as never); });
        const acked: number[] = [];
        let asksOk = 0;
        let value = 0;
        let stop = false;
        const senders = Array.from({ length: 4 }, async () => {
          while (!stop) {
            const v = value++;
            try {
              await rt.client.call('send', { agent: 'slow', message: { op: 'record', value: v } });
              acked.push(v);
            } catch {
              await sleep(20); // refused while the store is down: not acknowledged, the client retries later
            }
          }
        });
        const asker = (async () => {
          while (!stop) {
            try {
              await rt.client.call('ask', { agent: 'w', message: { op: 'count' }, timeoutMs: 30_000 });
              asksOk++;
            } catch {
              await sleep(20);
            }
          }
        })();
        await sleep(500);
        await k.server().kill();
        const readyz = await rt.until((s) => s.store?.state === 'down', 'the store seen down', 15_000).then(async () => {
          const r = await fetch(`http://127.0.0.1:${rt.port}/readyz`);
          return { status: r.status, body: (await r.json()) as { reasons: { kind: string; message: string }[] } };
        });
        assert.equal(readyz.status, 503);
        const why = readyz.body.reasons.find((r) => r.kind === 'store');
        assert.ok(why, JSON.stringify(readyz.body));
        assert.match(why!.message, new RegExp(k.name));
        await sleep(1000);
        await k.server().start();
        await rt.until((s) => s.store?.state === 'up', 'the store back up', 30_000);
        const before = acked.length;
        const end = Date.now() + 20_000;
        while (acked.length < before + 50 && Date.now() < end) await sleep(50);
        stop = true;
        await Promise.all([...senders, asker]);
        assert.ok(acked.length >= before + 50, 'sends are acknowledged again once the store is back');
        const seen = new Set((await rt.client.call('ask', { agent: 'slow', message: { op: 'seen' }, timeoutMs: 60_000 })) as number[]);
        assert.deepEqual(acked.filter((v) => !seen.has(v)), [], 'every acknowledged send was handled');
        const { count } = (await rt.client.call('ask', { agent: 'w', message: { op: 'count' } })) as { count: number };
        assert.ok(count > asksOk, `the count (${count}) holds every answered ask (${asksOk})`);
        assert.equal(rt.proc.exitCode, null, 'the runtime stayed up');
        assert.ok(alerts.some((a) => a.rule === 'storeDown' && a.state === 'firing' && a.subject === k.name), `a storeDown alert fired: ${JSON.stringify(alerts)}`);
      } finally {
        await rt.stop();
      }
    });

    test('a server unreachable at start: `faultline up` fails within seconds naming the store and the URL, password redacted', async () => {
      const port = await freePort();
      const url = k.name === 'postgres' ? `postgres://faultline:hunter2secret@127.0.0.1:${port}/faultline` : `redis://:hunter2secret@127.0.0.1:${port}/0`;
      const dir = workspace(system('unreachable'));
      const started = Date.now();
      const r = await cliUp(dir, { FAULTLINE_TEST_STORE_URL: url });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(Date.now() - started < 10_000, 'within seconds');
      assert.match(r.stderr, new RegExp(`${k.name} checkpoint store at ${k.name}://[^ ]*\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2secret/);
      rmSync(dir, { recursive: true, force: true });
    });
  });
}

describe('large states in an S3-compatible bucket', () => {
  test('states over the threshold go to the bucket and come back after a SIGKILL; rows point at the blob', async () => {
    const dir = workspace({ name: 'blobs', checkpoints: { store: 'postgres', urlEnv: 'FAULTLINE_TEST_STORE_URL', schema: 'blobs', blobs: s3.blobsConfig(2048) }, supervisor: { id: 'root', children: [probe('h')] } });
    const rt: Running = await up(dir, [], { FAULTLINE_TEST_STORE_URL: pg.url, ...S3Server.env });
    try {
      await rt.until(running, 'running');
      for (let i = 0; i < 40; i++) await rt.client.call('ask', { agent: 'h', message: { op: 'append', n: i } });
      const list = (await rt.client.call('checkpoints', { agent: 'h' })) as { size: number; blob?: string; valid: boolean }[];
      const big = list.filter((c) => c.size > 2048);
      assert.ok(big.length > 0 && big.every((c) => c.valid && c.blob?.startsWith(`s3://${s3.bucket}/`)), JSON.stringify(list.slice(-2)));
      assert.ok(list.filter((c) => c.size <= 2048).every((c) => c.blob === undefined));
      process.kill((await rt.agent('h')).pid!, 'SIGKILL');
      await rt.until((s) => stateOf(s, 'h') === 'running' && (findNode(s.tree, 'h') as { restarts: number }).restarts === 1, 'h restarted');
      const history = (await rt.client.call('ask', { agent: 'h', message: { op: 'history' } })) as { n: number }[];
      assert.deepEqual(history.map((e) => e.n), Array.from({ length: 40 }, (_, i) => i));
      const text = await cli(['checkpoints', 'h'], rt.dir);
      assert.match(text.stdout, /postgres s3:\/\/faultline\//);
      assert.doesNotMatch(JSON.stringify(await rt.status()) + rt.output(), /S3RVER/, 'credentials never in status or logs');
    } finally {
      await rt.stop();
    }
  });
});

/** `faultline up` to its exit (it is expected to fail at start). */
async function cliUp(dir: string, env: NodeJS.ProcessEnv) {
  const { spawn } = await import('node:child_process');
  const { cliPath } = await import('./helpers/runtime.ts');
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [cliPath, 'up', '--no-live'], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
