/**
 * Dependency faults, applied at the gateway's policy layer with no change to
 * agent code: the breaker, retries and fallbacks react to them as to real
 * failures. A fault can target one call site (`point`), as the extension's
 * inline injection does.
 */
import type { Gateway } from '../gateway/Gateway.ts';
import type { FaultAction } from '../gateway/faults.ts';
import { RpcError, RpcErrorCode, type FaultSpec } from '../protocol/rpc.ts';
import type { ActiveFault, FaultFamily } from './FaultCatalogue.ts';
import { globMatch, seededRandom } from './seededRandom.ts';
import { DEPENDENCY_FAULTS } from '../protocol/faults.ts';


const bad = (m: string): never => {
  throw new RpcError(RpcErrorCode.InvalidParams, `Invalid params: ${m}`);
};

/** Builds the action an active fault applies to one attempt. */
function action(f: ActiveFault, random: () => number): FaultAction | undefined {
  const p = f.params;
  switch (f.fault) {
    case 'error':
      return { type: 'error', status: Number(p.status ?? 503), ...(p.retryAfter !== undefined ? { retryAfter: Number(p.retryAfter) } : {}) };
    case 'latency': {
      const jitter = Number(p.jitterMs ?? 0);
      return { type: 'latency', ms: Number(p.ms ?? 1000) + (jitter ? Math.round(random() * jitter) : 0) };
    }
    case 'slow-first-token':
      return { type: 'slow-first-token', ms: Number(p.ms ?? 2000) };
    case 'timeout':
    case 'blackhole':
    case 'content-filter':
    case 'stream-cut':
    case 'malformed':
      return { type: f.fault };
    default:
      return undefined;
  }
}

/**
 * The dependency fault family for the catalogue; installs the gateway's fault
 * hook. `isolate` forces the breaker into `isolated` until cleared.
 */
export function dependencyFaults(gateway: Gateway, dependencyIds: () => string[], fired: (f: ActiveFault) => void): FaultFamily {
  const active = new Map<string, { fault: ActiveFault; random: () => number }>();
  gateway.setFaultHook((dep, point) => {
    for (const { fault, random } of active.values()) {
      if (!globMatch(fault.target, dep)) continue;
      if (fault.params.point !== undefined && fault.params.point !== point) continue;
      const rate = fault.params.rate ?? fault.params.probability;
      if (rate !== undefined && random() >= Number(rate)) continue;
      const a = action(fault, random);
      if (!a) continue;
      fired(fault);
      return a;
    }
    return undefined;
  });
  return {
    kind: 'dependency',
    faults: DEPENDENCY_FAULTS,
    validate(spec: FaultSpec) {
      const ids = dependencyIds();
      if (!ids.some((d) => globMatch(spec.target, d))) {
        throw new RpcError(RpcErrorCode.NotFound, `No dependency matches "${spec.target}" (dependencies: ${ids.join(', ') || 'none configured'})`);
      }
      const p = spec.params ?? {};
      if (spec.fault === 'error' && p.status !== undefined && !(Number.isInteger(p.status) && Number(p.status) >= 400 && Number(p.status) <= 599)) bad('"status" must be an HTTP error status (400-599)');
      if ((spec.fault === 'latency' || spec.fault === 'slow-first-token') && p.ms !== undefined && !(Number(p.ms) >= 0 && Number(p.ms) <= 600_000)) bad('"ms" must be between 0 and 600000');
      if (p.point !== undefined && typeof p.point !== 'string') bad('"point" must be a string');
    },
    apply(f: ActiveFault) {
      if (f.fault === 'isolate') {
        for (const d of dependencyIds()) if (globMatch(f.target, d)) gateway.isolate(d);
      }
      active.set(f.id, { fault: f, random: seededRandom(Number(f.params.seed ?? Date.now())) });
      return false;
    },
    cleared(f: ActiveFault) {
      active.delete(f.id);
      if (f.fault === 'isolate') for (const d of dependencyIds()) if (globMatch(f.target, d)) gateway.reset(d);
    },
  };
}
