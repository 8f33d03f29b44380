/** The gateway's public surface, for the runtime core. See README.md. */
export { Gateway, breakerStateKey, type GatewayOptions, type GatewayCallOptions, type GatewayStateStore, type ToolHandler } from './Gateway.ts';
export * from './errors.ts';
export type { GatewayEventName, GatewayEventPayloads, GatewayListener, DependencyCallEvent, BreakerStateEvent, CallPhase } from './GatewayEvents.ts';
export type { FaultAction, FaultHook } from './faults.ts';
export type { Classifier, Verdict } from './classify.ts';
export type { LogFn } from './DependencyPolicy.ts';
export { MemoryQueueStore, type QueueStore, type QueuedCall } from './CallQueue.ts';
export { resolveDependency, PROFILES, type DependencyConfig, type ResolvedDependency } from './policyConfig.ts';
export { systemClock, SteppingClock, type Clock } from './clock.ts';
