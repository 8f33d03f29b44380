/**
 * Three nodes' lease keepers on one real PostgreSQL server: every unit runs
 * on exactly one node; a node that stops (killed or paused) loses its units
 * to the others after the lease, and finds them gone when it resumes; a node
 * that drains hands them over at once; a node that joins takes its share.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresServer } from '../../test/helpers/servers.ts';
import { PostgresCheckpointStore } from '../state/PostgresCheckpointStore.ts';
import { LeaseKeeper } from './LeaseKeeper.ts';
import { place } from './placement.ts';

const pg = new PostgresServer();
before(async () => {
  await pg.start();
});
after(async () => {
  await pg.dispose();
});

const LEASE_MS = 600;
const units = ['planner', 'crew', 'archive', 'search', 'billing', 'support'];
let n = 0;

async function cluster(ids: string[]) {
  const schema = `k${++n}`;
  const stores: PostgresCheckpointStore[] = [];
  const log: string[] = [];
  /** unit → nodes running it right now, by the gain/lose callbacks. */
  const running = new Map<string, Set<string>>();
  const keeper = async (id: string) => {
    const store = await PostgresCheckpointStore.open({ url: pg.url, schema });
    stores.push(store);
    return new LeaseKeeper({
      leases: store.leases(),
      node: id,
      url: `http://127.0.0.1/${id}`,
      units,
      leaseMs: LEASE_MS,
      gain: (unit, epoch) => {
        const on = running.get(unit) ?? new Set();
        running.set(unit, on.add(id));
        log.push(`${id} +${unit}@${epoch}`);
      },
      lose: (unit, why) => {
        running.get(unit)?.delete(id);
        log.push(`${id} -${unit} ${why}`);
      },
    });
  };
  const keepers = new Map<string, LeaseKeeper>();
  for (const id of ids) keepers.set(id, await keeper(id));
  return {
    keepers,
    running,
    log,
    add: async (id: string) => {
      const k = await keeper(id);
      keepers.set(id, k);
      return k;
    },
    /** Every unit on exactly one node, as far as the callbacks tell. */
    single: () => units.every((u) => (running.get(u)?.size ?? 0) === 1),
    /** Every unit on exactly one node, the one the placement over these nodes names. */
    settled(on: string[]) {
      const want = place(units, on);
      return this.single() && units.every((u) => running.get(u)!.has(want.get(u)!));
    },
    owners: () => new Map(units.map((u) => [u, [...(running.get(u) ?? [])].join(',')])),
    /** `paused`: a node halted, which still believes it runs its units until it resumes (its writes are fenced). */
    async until(check: () => boolean, what: string, ms = 5_000, paused?: string) {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify([...this.owners()])}\n${log.join('\n')}`);
        // No two nodes may ever run one unit at once.
        assert.ok(units.every((u) => [...(running.get(u) ?? [])].filter((x) => x !== paused).length <= 1), `a unit on two nodes: ${JSON.stringify([...this.owners()])}`);
        await sleep(20);
      }
    },
    close: async () => {
      for (const k of keepers.values()) k.halt();
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

test('three nodes: every unit on exactly one node, every node holding some, the leases table agreeing', async () => {
  const c = await cluster(['a', 'b', 'c']);
  try {
    await Promise.all([...c.keepers.values()].map((k) => k.start()));
    await c.until(() => c.settled(['a', 'b', 'c']), 'every unit placed');
    const perNode = new Map<string, number>();
    for (const o of c.owners().values()) perNode.set(o, (perNode.get(o) ?? 0) + 1);
    assert.deepEqual([...perNode.keys()].sort(), ['a', 'b', 'c']);
    const leases = await (await PostgresCheckpointStore.open({ url: pg.url, schema: `k${n}` })).leases().list();
    assert.deepEqual(new Map(leases.map((l) => [l.unit, l.node])), c.owners());
  } finally {
    await c.close();
  }
});

test('a node that stops renewing loses its units to the others after the lease, and finds them gone when it resumes', async () => {
  const c = await cluster(['a', 'b', 'c']);
  try {
    await Promise.all([...c.keepers.values()].map((k) => k.start()));
    await c.until(() => c.settled(['a', 'b', 'c']), 'every unit placed');
    const b = c.keepers.get('b')!;
    const ofB = [...b.held.keys()];
    assert.ok(ofB.length > 0);
    const t0 = Date.now();
    b.halt(); // SIGSTOP, as far as its leases go
    await c.until(() => ofB.every((u) => c.keepers.get('a')!.held.has(u) || c.keepers.get('c')!.held.has(u)), 'b\'s units taken over', 5_000, 'b');
    const took = Date.now() - t0;
    // Its last renewal was at most one turn (LEASE_MS / 3) before it stopped.
    assert.ok(took >= LEASE_MS - LEASE_MS / 3 - 50, `not before the lease expired (${took} ms)`);
    assert.ok(took < LEASE_MS * 3, `within about a lease and a turn (${took} ms)`);
    // b wakes up: its next turn finds every lease gone and stops its copies.
    (b as unknown as { stopped: boolean }).stopped = false;
    await b.tick();
    assert.equal(b.held.size, 0);
    for (const u of ofB) assert.ok(c.log.includes(`b -${u} lost`), `b stopped ${u}`);
    assert.ok(c.single());
  } finally {
    await c.close();
  }
});

test('a node that drains hands its units over at once, without waiting for the lease; a node that joins takes its share', async () => {
  const c = await cluster(['a', 'b', 'c']);
  try {
    await Promise.all([...c.keepers.values()].map((k) => k.start()));
    await c.until(() => c.settled(['a', 'b', 'c']), 'every unit placed');
    const cKeeper = c.keepers.get('c')!;
    const ofC = [...cKeeper.held.keys()];
    const t0 = Date.now();
    await cKeeper.drain();
    await Promise.all([c.keepers.get('a')!.tick(), c.keepers.get('b')!.tick()]);
    assert.ok(ofC.every((u) => c.keepers.get('a')!.held.has(u) || c.keepers.get('b')!.held.has(u)), 'taken at the next turn');
    assert.ok(Date.now() - t0 < LEASE_MS, 'before the lease would have expired');
    for (const u of ofC) assert.ok(c.log.includes(`c -${u} drain`));
    // d joins: it takes its share from the others, who hand it over.
    const before = c.owners();
    const d = await c.add('d');
    await d.start();
    await c.until(() => c.settled(['a', 'b', 'd']), 'd holding its share (ceil(6 / 3) = 2)');
    assert.equal(d.held.size, 2);
    const moved = units.filter((u) => before.get(u) !== c.owners().get(u));
    assert.ok(moved.every((u) => c.owners().get(u) === 'd'), `only units going to d moved: ${moved.map((u) => `${u} ${before.get(u)}->${c.owners().get(u)}`)}`);
  } finally {
    await c.close();
  }
});

test('the store down for longer than a lease, then back: every node keeps what it held (nobody takes a lease its owner could not renew either)', async () => {
  const c = await cluster(['a', 'b', 'c']);
  try {
    await Promise.all([...c.keepers.values()].map((k) => k.start()));
    await c.until(() => c.settled(['a', 'b', 'c']), 'every unit placed');
    const before = c.owners();
    const mark = c.log.length;
    const b = c.keepers.get('b')!;
    const paused = b as unknown as { stopped: boolean; schedule(): void };
    b.halt(); // b gets through to the store again later than the others (a slow reconnect)
    await pg.kill();
    await sleep(LEASE_MS * 2);
    await pg.start();
    const others = [c.keepers.get('a')!, c.keepers.get('c')!];
    await c.until(() => others.every((k) => Date.now() - k.confirmedAt < LEASE_MS / 3), 'a and c confirmed their leases again', 15_000);
    await sleep(LEASE_MS / 2);
    paused.stopped = false;
    await b.tick();
    paused.schedule();
    // b's leases expired while the store was down, but it renews them within a lease of the store's return: a few leases later nothing has moved.
    await c.until(() => [...c.keepers.values()].every((k) => Date.now() - k.confirmedAt < LEASE_MS), 'every node confirmed its leases again', 15_000);
    await sleep(LEASE_MS * 3);
    assert.deepEqual(c.log.slice(mark), [], 'no unit changed hands');
    assert.deepEqual(c.owners(), before);
  } finally {
    await c.close();
  }
});
