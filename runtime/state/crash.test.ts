/**
 * kill -9 at random instants: a real child process writes checkpoints and
 * inbox messages to a real file and reports each acknowledgement over IPC;
 * it is SIGKILLed, the file is reopened, and nothing acknowledged is missing.
 * Each round restores from what the previous rounds left, so the file also
 * shows that restores after crashes never lose or double-count a message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteCheckpointStore } from './SqliteCheckpointStore.ts';
import { tempDir } from './test-fixtures/tmp.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 10;
const AGENTS = 6;

/** mulberry32: the kill instants are random but the seed is printed, so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Report = { t: 'ready' } | { t: 'msg'; agent: string; id: string } | { t: 'cp'; agent: string; seq: number; n: number; handled: string };

function runAndKill(file: string, round: number, killAfterMs: number): Promise<Report[]> {
  return new Promise((resolve, reject) => {
    const reports: Report[] = [];
    const child = fork(path.join(here, 'test-fixtures', 'crashWriter.ts'), [file, String(round), String(AGENTS)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let exited = false;
    let disconnected = false;
    const done = () => exited && disconnected && resolve(reports);
    child.on('message', (m: Report) => {
      reports.push(m);
      if (m.t === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('disconnect', () => {
      disconnected = true;
      done();
    });
    child.on('exit', (code, signal) => {
      exited = true;
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}, signal ${signal}) before the kill`));
      else done();
    });
    child.on('error', reject);
  });
}

function inboxOnDisk(file: string, agent: string): string[] {
  const raw = new Database(file, { readonly: true });
  try {
    return (raw.prepare('SELECT id FROM inbox WHERE agent = ? ORDER BY pos').all(agent) as { id: string }[]).map((r) => r.id);
  } finally {
    raw.close();
  }
}

test(`SIGKILL during a stream of writes, ${ROUNDS} times: every acknowledged checkpoint and message survives`, { timeout: 120_000 }, async (t) => {
  const file = path.join(tempDir(), 'state', 'checkpoints.db');
  const seed = Number(process.env.FAULTLINE_CRASH_SEED ?? Date.now() % 1_000_000);
  const random = prng(seed);
  const note = `(seed ${seed}; rerun with FAULTLINE_CRASH_SEED=${seed})`;
  const ackedCheckpoints: { agent: string; seq: number; n: number }[] = [];
  const ackedMessages = new Map<string, Set<string>>();
  for (let round = 1; round <= ROUNDS; round++) {
    const reports = await runAndKill(file, round, Math.floor(20 + random() * 230));
    for (const r of reports) {
      if (r.t === 'cp') ackedCheckpoints.push(r);
      if (r.t === 'msg') {
        if (!ackedMessages.has(r.agent)) ackedMessages.set(r.agent, new Set());
        ackedMessages.get(r.agent)!.add(r.id);
      }
    }

    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok', `round ${round} ${note}`);
    const rows = raw.prepare('SELECT agent, seq, payload FROM checkpoints ORDER BY agent, seq').all() as { agent: string; seq: number; payload: string }[];
    raw.close();
    const stored = new Map(rows.map((r) => [`${r.agent}/${r.seq}`, JSON.parse(r.payload) as { n: number; lastHandled: string }]));

    for (const c of ackedCheckpoints) {
      assert.equal(stored.get(`${c.agent}/${c.seq}`)?.n, c.n, `acknowledged checkpoint ${c.agent}#${c.seq} lost in round ${round} ${note}`);
    }

    const store = new SqliteCheckpointStore(file);
    for (let a = 0; a < AGENTS; a++) {
      const agent = `agent-${a}`;
      const mine = rows.filter((r) => r.agent === agent).map((r) => stored.get(`${agent}/${r.seq}`)!);
      // Each restore resumed from the last committed state: n runs 1, 2, 3, ...
      assert.deepEqual(mine.map((s) => s.n), mine.map((_, i) => i + 1), `${agent}: a state was lost or counted twice ${note}`);
      const handled = new Set(mine.map((s) => s.lastHandled));
      assert.equal(handled.size, mine.length, `${agent}: a message was handled twice ${note}`);
      const inbox = inboxOnDisk(file, agent);
      const box = store.inboxes().open(agent);
      assert.deepEqual([box.size, box.peek()?.id], [inbox.length, inbox[0]], `${agent}: the reopened mailbox differs from the file ${note}`);
      assert.deepEqual(inbox, [...inbox].sort(), `${agent}: inbox out of order ${note}`);
      for (const id of inbox) assert.ok(!handled.has(id), `${agent}: ${id} is both handled and still queued ${note}`);
      for (const id of ackedMessages.get(agent) ?? []) {
        assert.ok(handled.has(id) || inbox.includes(id), `${agent}: acknowledged message ${id} lost in round ${round} ${note}`);
      }
    }
    await store.close();
  }
  t.diagnostic(`${ackedCheckpoints.length} checkpoints and ${[...ackedMessages.values()].reduce((n, s) => n + s.size, 0)} messages acknowledged ${note}`);
  assert.ok(ackedCheckpoints.length > 0 && ackedMessages.size > 0, `the writer never got to acknowledge anything ${note}`);
});
