/**
 * Leases and fenced writes on a real PostgreSQL server: a node that lost a
 * unit's lease cannot store anything of that unit, while its other units'
 * writes still commit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresServer } from '../../test/helpers/servers.ts';
import { LeaseLostError, PostgresCheckpointStore, type Fence } from '../state/PostgresCheckpointStore.ts';

const pg = new PostgresServer();
before(async () => {
  await pg.start();
});
after(async () => {
  await pg.dispose();
});

let n = 0;
/** A node's store with its own lease book: `held` maps unit → epoch, `unitOf` agent → unit. */
async function node(id: string, schema: string, unitOf: (agent: string) => string | undefined = (a) => a.split('.')[0]) {
  const held = new Map<string, number>();
  const fence: Fence = {
    node: id,
    of: (agent) => {
      const unit = unitOf(agent);
      const epoch = unit === undefined ? undefined : held.get(unit);
      return unit === undefined || epoch === undefined ? undefined : { unit, epoch };
    },
  };
  const store = await PostgresCheckpointStore.open({ url: pg.url, schema, fence });
  const leases = store.leases();
  return {
    store,
    leases,
    held,
    async take(unit: string, leaseMs = 60_000) {
      const epoch = await leases.acquire(unit, id, leaseMs);
      if (epoch !== undefined) held.set(unit, epoch);
      return epoch;
    },
  };
}

describe('cluster leases on PostgreSQL', () => {
  test('a unit is held by one node; it passes on when the lease expires or is released, the epoch growing each time', async () => {
    const schema = `l${++n}`;
    const a = await node('a', schema);
    const b = await node('b', schema);
    assert.equal(await a.take('crew', 300), 1);
    assert.equal(await b.take('crew', 300), undefined, 'held by a');
    assert.deepEqual([...(await a.leases.renew('a', a.held, 300))], ['crew']);
    await sleep(400);
    assert.equal(await b.take('crew', 60_000), 2, 'expired: b takes it');
    assert.deepEqual([...(await a.leases.renew('a', a.held, 300))], [], 'a finds its lease gone');
    await b.leases.release('b', b.held);
    assert.equal(await a.take('crew'), 3, 'released: taken at once');
    assert.equal(await a.take('crew'), 4, 'a restarted node takes its own unit again under a new epoch');
    const [l] = await a.leases.list();
    assert.equal(l.node, 'a');
    assert.equal(l.epoch, 4);
    assert.ok(l.expiresInMs > 50_000);
    await a.store.close();
    await b.store.close();
  });

  test('a node that lost a lease stores nothing of that unit: no checkpoint, no inbox change; its other units still commit', async () => {
    const schema = `l${++n}`;
    const a = await node('a', schema);
    const b = await node('b', schema);
    await a.take('crew');
    await a.take('solo');
    await a.store.put({ agent: 'crew.writer', version: 1, state: { n: 1 } });
    await a.store.inboxes().open('crew.writer').put({ id: 'm1', kind: 'send', message: { hi: 1 }, at: 1 });
    // b takes crew over (a was paused past its lease, say): a still believes it holds epoch 1.
    await a.leases.release('a', new Map([['crew', 1]]));
    assert.equal(await b.take('crew'), 2);
    const results = await Promise.allSettled([
      a.store.put({ agent: 'crew.writer', version: 1, state: { n: 2 } }),
      a.store.put({ agent: 'solo', version: 1, state: { n: 1 } }),
      // A message the stale copy sends (fenced by its sender's lease), and its ack of m1 (fenced by the inbox's).
      a.store.inboxes().open('solo').put({ id: 'm2', kind: 'send', message: { hi: 2 }, from: 'crew.writer', at: 2 }),
      a.store.inboxes().open('crew.writer').ack('m1'),
    ]);
    assert.equal(results[0].status, 'rejected');
    assert.ok((results[0] as PromiseRejectedResult).reason instanceof LeaseLostError, String((results[0] as PromiseRejectedResult).reason));
    assert.match((results[0] as PromiseRejectedResult).reason.message, /Node "a" no longer holds the lease/);
    assert.equal(results[1].status, 'fulfilled', 'a still holds solo');
    assert.equal(results[2].status, 'rejected', 'a stale copy sends nothing');
    assert.equal(results[3].status, 'rejected', 'a stale copy acks nothing');
    const fresh = await PostgresCheckpointStore.open({ url: pg.url, schema });
    assert.deepEqual((await fresh.list('crew.writer')).map((c) => c.seq), [1], 'the lost write left nothing');
    assert.deepEqual((await fresh.latest('crew.writer'))?.state, { n: 1 });
    assert.deepEqual((await fresh.latest('solo'))?.state, { n: 1 });
    const box = fresh.inboxes().open('crew.writer');
    assert.equal(box.size, 1, 'm1 is still there for the new owner');
    assert.equal(box.peek()?.id, 'm1');
    assert.equal(fresh.inboxes().open('solo').size, 0, 'm2 was not stored');
    // A message from outside (no sender) is anyone's to put: it waits for whichever node runs the agent.
    await a.store.inboxes().open('crew.writer').put({ id: 'm3', kind: 'send', message: { hi: 3 }, at: 3 });
    // b, the owner now, writes on from a's last committed state.
    await b.store.put({ agent: 'crew.writer', version: 1, state: { n: 2 } });
    assert.deepEqual((await b.store.latest('crew.writer'))?.state, { n: 2 });
    await Promise.all([a.store.close(), b.store.close(), fresh.close()]);
  });

  test('a takeover during a stream of writes: after it, none of the old owner\'s writes land (the counter never goes back)', async () => {
    const schema = `l${++n}`;
    const a = await node('a', schema);
    const b = await node('b', schema);
    await a.take('counter');
    let stop = false;
    let committed = 0;
    let refused = 0;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          await a.store.put({ agent: 'counter', version: 1, state: { n: ++committed } });
        } catch (e) {
          assert.ok(e instanceof LeaseLostError, String(e));
          refused++;
          await sleep(1);
        }
      }
    });
    await sleep(300);
    await a.leases.release('a', a.held);
    assert.ok((await b.take('counter'))! > 1);
    await b.store.put({ agent: 'counter', version: 1, state: { n: 1_000_000 } });
    await sleep(300);
    stop = true;
    await Promise.all(loops);
    assert.ok(committed > 10, `a committed ${committed} before the takeover`);
    assert.ok(refused > 0, 'a went on writing after the takeover and was refused');
    assert.deepEqual((await b.store.latest('counter'))?.state, { n: 1_000_000 }, 'nothing of a landed after b took over');
    await Promise.all([a.store.close(), b.store.close()]);
  });

  test('nodes heartbeat; one unseen for longer than the lease is down, one that left is down at once', async () => {
    const schema = `l${++n}`;
    const a = await node('a', schema);
    await a.leases.heartbeat('a', 'http://127.0.0.1:1');
    await a.leases.heartbeat('b', 'http://127.0.0.1:2');
    await a.leases.heartbeat('c', 'http://127.0.0.1:3');
    await a.leases.leave('c');
    await sleep(250);
    await a.leases.heartbeat('a', 'http://127.0.0.1:1');
    const nodes = await a.leases.listNodes(200);
    assert.deepEqual(nodes.map((x) => [x.id, x.state]), [['a', 'up'], ['b', 'down'], ['c', 'down']]);
    assert.ok(nodes[1].lastSeenMs >= 200);
    await a.store.close();
  });
});
