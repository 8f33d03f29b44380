/** The status JSON's `store`: which checkpoint store, and whether it answers. */
import type { StoreStatus } from '../protocol/status.ts';
import type { CheckpointStore } from './CheckpointStore.ts';
import { redactUrl } from './errors.ts';

export function storeStatus(store: CheckpointStore): StoreStatus {
  const h = store.health?.state;
  const s: StoreStatus = { kind: store.kind ?? 'sqlite', state: h?.state ?? 'up' };
  if (store.url) s.url = redactUrl(store.url);
  if (h?.state === 'down') {
    if (h.error) s.error = h.error;
    if (h.downSince) s.downSince = new Date(h.downSince).toISOString();
  }
  return s;
}
