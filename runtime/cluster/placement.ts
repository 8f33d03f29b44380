/**
 * Where each unit (a child of the root supervisor) runs: rendezvous hashing
 * with bounded load. Every node computes the same answer from the same list
 * of live nodes, with no coordination: a unit goes to the node that ranks
 * highest for it (a hash of node and unit) among those not yet holding their
 * share, ceil(units / nodes). Rendezvous keeps placement stable (a node
 * joining takes over only units it now ranks first for, a node leaving gives
 * up only its own); the bound keeps it balanced, so that with several nodes
 * up every node holds some units.
 */
import { createHash } from 'node:crypto';

/** The rank of a node for a unit: the first 48 bits of sha256(node, unit). */
export function rank(node: string, unit: string): number {
  return createHash('sha256').update(node).update('\u0000').update(unit).digest().readUIntBE(0, 6);
}

/** unit → node, for these units over these nodes (none: an empty map). */
export function place(units: readonly string[], nodes: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const live = [...new Set(nodes)].sort();
  if (!live.length) return out;
  const share = Math.ceil(units.length / live.length);
  const load = new Map(live.map((n) => [n, 0]));
  // Units whose best choice is strongest go first, so that the bound moves the weakest preferences.
  const prefs = units.map((u) => ({ u, order: live.map((n) => ({ n, r: rank(n, u) })).sort((a, b) => b.r - a.r || (a.n < b.n ? -1 : 1)) }));
  prefs.sort((a, b) => b.order[0].r - a.order[0].r || (a.u < b.u ? -1 : 1));
  for (const { u, order } of prefs) {
    const pick = order.find((o) => load.get(o.n)! < share)!;
    out.set(u, pick.n);
    load.set(pick.n, load.get(pick.n)! + 1);
  }
  return out;
}
