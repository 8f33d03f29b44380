/**
 * Entry point of the dashboard bundle: wires the host (VS Code or a harness
 * stub), the frame batcher and the dashboard, then says `ready` so the
 * extension sends a snapshot. Runs again from scratch each time VS Code shows
 * a hidden panel; the view state comes back through getState.
 */
import { Dashboard } from './Dashboard.ts';
import { FrameBatcher } from './FrameBatcher.ts';
import { Host } from './host.ts';

const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
const host = new Host();
const dashboard = new Dashboard(root, host);
const batcher = new FrameBatcher((messages) => dashboard.apply(messages));

dashboard.onPauseChange = (paused) => {
  if (paused) {
    batcher.pause();
    return batcher.heldCount;
  }
  if (batcher.resume()) dashboard.askSnapshot(true);
  return 0;
};
if (dashboard.paused) batcher.pause();

host.onMessage((m) => {
  batcher.push(m);
  if (batcher.paused) dashboard.showHeld(batcher.heldCount);
});
setInterval(() => dashboard.tick(), 1000);
host.ready();
