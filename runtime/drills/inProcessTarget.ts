/**
 * A runtime target for code running inside the runtime process: control
 * methods go straight to `Runtime.handle` (validated as on the wire), events
 * come from its emitter, and HTTP goes to its own loopback port.
 */
import type { Runtime } from '../Runtime.ts';
import type { Session } from '../control/ControlServer.ts';
import { validateParams, type MethodName } from '../protocol/schema/methods.ts';
import type { RuntimeTarget } from './RuntimeTarget.ts';

export function inProcessTarget(rt: Runtime): RuntimeTarget {
  const session: Session = { id: 0, events: new Set() };
  let gone: string | undefined;
  rt.events.on('supervisor.state', (e: { supervisor: string; state: string; reason?: string }) => {
    if (e.supervisor === rt.root.id && (e.state === 'failed' || e.state === 'stopping' || e.state === 'stopped')) gone ??= `the runtime is stopping (root supervisor ${e.state}${e.reason ? `: ${e.reason}` : ''})`;
  });
  void rt.done.then((r) => (gone ??= `the runtime stopped (${r.reason})`));
  return {
    gone: () => gone,
    describe: `the runtime in this process (pid ${process.pid})`,
    async call(method, params) {
      return rt.handle(method as MethodName, validateParams(method as MethodName, params), session);
    },
    async subscribe(events, listener) {
      const fn = (name: string, payload: unknown) => {
        if (events.includes('*') || events.includes(name)) listener(name, payload);
      };
      rt.events.on('*', fn);
      return { dispose: () => void rt.events.off('*', fn) };
    },
    async http(path) {
      const r = await fetch(`http://127.0.0.1:${rt.port}${path}`);
      return { status: r.status, body: await r.text() };
    },
  };
}
