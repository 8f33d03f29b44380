import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Waits, waitsKey, type WaitsHost } from './Waits.ts';
import { WaitTimeoutError } from './WaitTimeoutError.ts';

/** A meta store that keeps JSON (as a real one does), a call journal that can lose rows, and a clock. */
function world() {
  const meta = new Map<string, string>();
  const journal = new Map<string, unknown[]>();
  let inflight: { msgId: string; delivery: number } | undefined = { msgId: 'm1', delivery: 1 };
  const counters = new Map<number, number>();
  let now = 1_000_000;
  const changes: string[] = [];
  const host: WaitsHost = {
    store: {
      async getMeta<T>(key: string) { const v = meta.get(key); return v === undefined ? undefined : (JSON.parse(v) as T); },
      async putMeta(key, value) { meta.set(key, JSON.stringify(value)); },
    },
    inflight: () => inflight,
    // The dependency wiring's numbering: calls count from 0 per delivery; a row journaled by an earlier delivery replays.
    async journaled(_agent, make) {
      if (!inflight) return make();
      const { msgId, delivery } = inflight;
      const index = counters.get(delivery) ?? 0;
      counters.set(delivery, index + 1);
      const rows = journal.get(msgId) ?? [];
      if (index < rows.length) return rows[index];
      const r = await make({ msgId, index });
      journal.set(msgId, [...rows, r]);
      return r;
    },
    changed: (agent, c) => changes.push(`${agent} ${c.phase} ${c.name}${c.outcome ? ` ${c.outcome}` : ''}`),
    log: () => {},
    now: () => now,
  };
  return {
    host, meta, journal, changes,
    deliver(msgId: string, delivery: number) { inflight = { msgId, delivery }; },
    idle() { inflight = undefined; },
    advance(ms: number) { now += ms; },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('Waits', () => {
  test('a redelivered wait keeps its first deadline: past it, it times out at once', async () => {
    const w = world();
    const first = new Waits(w.host);
    void first.wait('a', 'go', 60_000);
    await tick();
    assert.deepEqual(first.waiting('a').map((x) => x.name), ['go']);
    first.close();
    // The runtime dies; a minute later a new one redelivers the message.
    w.advance(61_000);
    w.deliver('m1', 2);
    const second = new Waits(w.host);
    await assert.rejects(second.wait('a', 'go', 60_000), (e: Error) => e.name === 'WaitTimeoutError' && /waited 60000 ms for the signal "go"/.test(e.message));
    // The timeout is the wait's outcome now: a further redelivery gets it again, and a signal is kept for a later wait.
    w.deliver('m1', 3);
    await assert.rejects(second.wait('a', 'go', 60_000), { name: 'WaitTimeoutError' });
    assert.deepEqual(await second.signal('a', 'go', 1), { delivered: false });
  });

  test('a consumed signal is the wait\'s outcome even when its journal row was lost', async () => {
    const w = world();
    const waits = new Waits(w.host);
    const p = waits.wait('a', 'go');
    await tick();
    assert.deepEqual(await waits.signal('a', 'go', { n: 1 }), { delivered: true });
    assert.deepEqual(await p, { n: 1 });
    w.journal.clear();
    w.deliver('m1', 2);
    assert.deepEqual(await new Waits(w.host).wait('a', 'go'), { n: 1 }, 'redelivered: the same signal, not a second one');
    assert.deepEqual(await waits.signal('a', 'go', { n: 2 }), { delivered: false }, 'the next signal is kept');
  });

  test('waits of the same name take signals in the order they started; a message handled drops its waits', async () => {
    const w = world();
    const waits = new Waits(w.host);
    const first = waits.wait('a', 'go');
    const second = waits.wait('a', 'go');
    await tick();
    assert.equal(waits.waiting('a').length, 2);
    await waits.signal('a', 'go', 1);
    await waits.signal('a', 'go', 2);
    assert.deepEqual([await first, await second], [1, 2]);
    assert.deepEqual(w.changes, ['a start go', 'a start go', 'a end go signal', 'a end go signal']);
    // A wait the handler left behind (it returned without it): no longer current once the message is done.
    void waits.wait('a', 'left');
    await tick();
    w.idle();
    assert.deepEqual(waits.waiting('a'), []);
    assert.deepEqual(await waits.signal('a', 'left', 'x'), { delivered: false });
    // The next message's wait takes the kept signal, and the old message's entries are pruned.
    w.deliver('m2', 9);
    assert.equal(await waits.wait('a', 'left'), 'x');
    const stored = JSON.parse(w.meta.get(waitsKey('a'))!);
    assert.deepEqual(stored.signals, []);
    assert.deepEqual(stored.waits, []);
    assert.deepEqual(stored.settled.map((s: { msgId: string }) => s.msgId), ['m2']);
  });

  test('a live wait times out on its timer; outside a message, waitFor is refused', async () => {
    const w = world();
    const waits = new Waits({ ...w.host, now: Date.now });
    await assert.rejects(waits.wait('a', 'go', 20), { name: 'WaitTimeoutError' });
    assert.deepEqual(w.changes, ['a start go', 'a end go timeout']);
    w.idle();
    await assert.rejects(waits.wait('a', 'go'), /outside onMessage/);
  });

  test('WaitTimeoutError: instanceof holds for an error of that name from another copy of the class', () => {
    const e = new WaitTimeoutError('a', 'go', 5);
    assert.equal(e.name, 'WaitTimeoutError');
    assert.match(e.message, /faultline signal a go <json>/);
    assert.ok(Object.assign(new Error('x'), { name: 'WaitTimeoutError' }) instanceof WaitTimeoutError);
    assert.ok(!(new Error('x') instanceof WaitTimeoutError));
  });
});
