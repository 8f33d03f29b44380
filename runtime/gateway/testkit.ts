/**
 * Test helpers for the gateway's tests: a mock model server per test, a
 * gateway wired to it with a SteppingClock (retry delays are recorded, not
 * slept), and a recorder of events and log lines.
 */
import { startMockModel, type MockModelHandle, type MockModelOptions } from '../mockModel/MockModelServer.ts';
import { Gateway, type GatewayOptions } from './Gateway.ts';
import { SteppingClock } from './clock.ts';
import type { DependencyConfig } from './policyConfig.ts';
import type { GatewayEventPayloads, GatewayEventName } from './GatewayEvents.ts';

export interface Recorded {
  events: { name: GatewayEventName; payload: GatewayEventPayloads[GatewayEventName] }[];
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
  calls(phase: string, dependency?: string): GatewayEventPayloads['dependency.call'][];
  breaker(dependency?: string): string[];
}

export interface Harness extends Recorded {
  gw: Gateway;
  clock: SteppingClock;
  close(): Promise<void>;
}

/** The breaker's open period in tests: simulated time, passed with `clock.advance(OPEN_MS)`. */
export const OPEN_MS = 30_000;

/** A model dependency on `server` that retries fast: small timeouts, a small breaker window. */
export function modelDep(server: MockModelHandle, over: Partial<DependencyConfig> = {}): DependencyConfig {
  return {
    kind: 'model',
    url: server.url,
    model: 'm',
    retry: { maxAttempts: 3, baseDelayMs: 10 },
    breaker: { window: 4, openMs: OPEN_MS, halfOpenProbes: 3 },
    timeoutMs: 2_000,
    ...over,
  };
}

export function gatewayWith(opts: Omit<GatewayOptions, 'clock' | 'sleep' | 'log'>, servers: MockModelHandle[] = []): Harness {
  const clock = new SteppingClock();
  const rec: Recorded = {
    events: [],
    logs: [],
    calls: (phase, dep) =>
      rec.events
        .filter((e) => e.name === 'dependency.call' && (e.payload as { phase: string }).phase === phase && (!dep || e.payload.dependency === dep))
        .map((e) => e.payload as GatewayEventPayloads['dependency.call']),
    breaker: (dep) => rec.events.filter((e) => e.name === 'breaker.state' && (!dep || e.payload.dependency === dep)).map((e) => `${(e.payload as { previous: string }).previous}->${(e.payload as { state: string }).state}`),
  };
  const gw = new Gateway({ ...opts, clock, sleep: (ms, signal) => clock.sleep(ms, signal), log: (level, msg, fields) => rec.logs.push({ level, msg, fields }) });
  gw.onEvent((name, payload) => rec.events.push({ name, payload }));
  return {
    ...rec,
    gw,
    clock,
    close: async () => {
      gw.dispose();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** One mock server and a gateway with one model dependency `dep` on it. */
export async function single(over: Partial<DependencyConfig> = {}, mock: MockModelOptions = {}, extra: Partial<GatewayOptions> = {}): Promise<Harness & { server: MockModelHandle }> {
  const server = await startMockModel(mock);
  const h = gatewayWith({ dependencies: { dep: modelDep(server, over) }, ...extra }, [server]);
  return Object.assign(h, { server });
}

export const ask = (content = 'hi') => ({ messages: [{ role: 'user' as const, content }] });

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
