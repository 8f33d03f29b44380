/**
 * Schemas of what drills and the chaos monkey answer on the control channel:
 * the drill journal (`drill.run`, `faultline drill --report`) and the chaos
 * report (`chaos.status`).
 */
import { z } from 'zod';

const count = z.number().int().min(0);

/** Nearest-rank latency percentiles over recorded samples, in ms. */
export const Percentiles = z.strictObject({ n: count, mean: z.number(), p50: z.number(), p90: z.number(), p99: z.number(), max: z.number(), min: z.number() });

export const ScheduledKill = z.strictObject({
  atMs: z.number().min(0).describe('Offset from the start of the run'),
  target: z.string(),
});

export const KillOutcome = ScheduledKill.extend({
  firedAtMs: z.number().min(0).optional().describe('When the kill was sent, as an offset from the start'),
  time: z.number().optional().describe('Epoch ms of the kill, for recovery timing'),
  faultId: z.string().optional().describe('The fault id the catalogue gave it'),
  killed: z.boolean().optional().describe('False when the agent had no process to kill (it was down already)'),
  error: z.string().optional(),
});

export const ChaosReport = z.strictObject({
  seed: z.number().int().min(0),
  killIntervalMs: z.number().int(),
  durationMs: z.number().int(),
  targets: z.array(z.string()),
  schedule: z.array(ScheduledKill),
  kills: z.array(KillOutcome),
  stopped: z.boolean(),
});

export const ProbeResult = z.strictObject({
  name: z.string(),
  type: z.enum(['agents', 'metric', 'readyz', 'ask', 'dependency', 'messages', 'nodes', 'system']),
  held: z.boolean(),
  value: z.unknown().optional().describe('What was measured (last attempt): a count, a metric, an agent\'s reply, …'),
  expected: z.string().describe('The tolerance, in words'),
  message: z.string().describe('Why it failed, or what it saw'),
  durationMs: z.number().min(0),
  attempts: count,
});

export const HypothesisResult = z.strictObject({ held: z.boolean(), probes: z.array(ProbeResult) });

export const StepResult = z.strictObject({
  index: count,
  type: z.string(),
  name: z.string(),
  background: z.boolean(),
  startedAtMs: z.number().min(0).describe("Offset from the drill's start"),
  durationMs: z.number().min(0),
  ok: z.boolean(),
  result: z.unknown().optional().describe("What the step's action answered (an ask's reply, an inject's id, a load report, …)"),
  error: z.string().optional(),
  probe: ProbeResult.optional(),
});

export const Incident = z.strictObject({
  agent: z.string(),
  cause: z.string(),
  faultAtMs: z.number(),
  downAtMs: z.number(),
  upAtMs: z.number().optional(),
  detectMs: z.number().describe('Fault → the agent seen down'),
  recoverMs: z.number().optional().describe('Fault → the agent running again with its state restored'),
  reason: z.string().optional(),
});

export const BreakerTiming = z.strictObject({
  dependency: z.string(),
  transitions: z.array(z.strictObject({ state: z.string(), atMs: z.number() })),
  detectMs: z.number().optional().describe('Fault injected on it → breaker left `closed`'),
  recoverMs: z.number().optional().describe('Fault cleared → breaker `closed` again'),
});

export const RecoverySummary = z.strictObject({
  incidents: z.array(Incident),
  agents: z.record(z.string(), z.strictObject({ incidents: count, detectMs: z.number(), recoverMs: z.number().optional(), maxRecoverMs: z.number().optional() })),
  detectMs: Percentiles.nullable(),
  recoverMs: Percentiles.nullable(),
  firstRecoveredMs: z.number().optional(),
  allRecoveredMs: z.number().optional(),
  unrecovered: z.array(z.string()).describe('Agents still down at the end'),
  dependencies: z.record(z.string(), BreakerTiming),
});

export const MessagesSummary = z.strictObject({
  sent: count,
  acknowledged: count.describe('Asks answered plus sends accepted'),
  lost: count.describe('Acknowledged but not handled: must be 0'),
  asks: z.strictObject({ sent: count, answered: count, failed: count }),
  sends: z.strictObject({ sent: count, accepted: count, failed: count, handled: count, lost: count, verified: z.boolean(), note: z.string().optional() }),
  errors: z.record(z.string(), count).describe('Failed messages by error type (`AgentTimeoutError`, …)'),
});

export const LoadReport = z.strictObject({
  to: z.string(),
  agents: z.array(z.string()),
  kind: z.enum(['ask', 'send']),
  rate: z.number(),
  durationMs: z.number(),
  elapsedMs: z.number().describe('From the first message out to the last reply in'),
  sent: count,
  ok: count.describe('Asks answered, sends accepted'),
  failed: count,
  skipped: count.describe('Due while `maxInFlight` messages were outstanding: not sent'),
  throughput: z.number().describe('Successful messages per second over `elapsedMs`'),
  latencyMs: Percentiles.nullable(),
  errors: z.record(z.string(), count),
  stopped: z.boolean(),
});

export const DrillStatus = z.enum(['held', 'gate-failed', 'deviated', 'aborted']);

/** The drill journal; `held` is the verdict. */
export const DrillJournal = z.strictObject({
  drill: z.string(),
  description: z.string().optional(),
  system: z.string(),
  seed: z.number().int(),
  runner: z.enum(['in-process', 'cli']).describe('Where the runner ran: inside the runtime (`drill.run`) or in the CLI'),
  target: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().min(0),
  held: z.boolean().describe('The verdict: the hypothesis held before and after, no probe failed, no acknowledged message lost'),
  status: DrillStatus,
  failedProbe: z.string().optional().describe('The first probe (or step) that failed'),
  failure: z.string().optional(),
  hypothesis: z.strictObject({ before: HypothesisResult, after: HypothesisResult.optional() }),
  method: z.array(StepResult),
  rollbacks: z.array(StepResult),
  cleanup: z.strictObject({ cleared: count }).describe('Faults this drill injected and left active, cleared at the end'),
  recovery: RecoverySummary,
  messages: MessagesSummary,
  load: z.array(LoadReport),
  chaos: z.array(ChaosReport),
  runtimeRestarts: z.array(z.strictObject({ killedPid: z.number().int(), pid: z.number().int(), restartedBy: z.enum(['drill', 'other']), downMs: z.number() })),
});

export type Percentiles = z.infer<typeof Percentiles>;
export type ScheduledKill = z.infer<typeof ScheduledKill>;
export type KillOutcome = z.infer<typeof KillOutcome>;
export type ChaosReport = z.infer<typeof ChaosReport>;
export type ProbeResult = z.infer<typeof ProbeResult>;
export type HypothesisResult = z.infer<typeof HypothesisResult>;
export type StepResult = z.infer<typeof StepResult>;
export type Incident = z.infer<typeof Incident>;
export type BreakerTiming = z.infer<typeof BreakerTiming>;
export type RecoverySummary = z.infer<typeof RecoverySummary>;
export type MessagesSummary = z.infer<typeof MessagesSummary>;
export type LoadReport = z.infer<typeof LoadReport>;
export type DrillStatus = z.infer<typeof DrillStatus>;
export type DrillJournal = z.infer<typeof DrillJournal>;
