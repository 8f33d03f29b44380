/**
 * The drill file, in the spirit of Chaos Toolkit's experiments: a
 * steady-state hypothesis (probes with tolerances) checked before the method
 * as a gate and after it for deviation, a method (faults, waits, load, chaos,
 * probes, runtime kills, in order, some in the background), rollbacks, and a
 * seed. One zod schema validates it and names the JSON path of each problem.
 */
import { z } from 'zod';
import { NODE_STATES } from '../protocol/status.ts';

const ms = (max = 3_600_000) => z.number().int().min(0).max(max);
/** `$name`: a value captured by an earlier probe. */
const varRef = z.string().regex(/^\$[A-Za-z_]\w*$/, 'must be a number or a "$name" captured by an earlier probe');
const numOrVar = z.union([z.number(), varRef]);

export const toleranceSchema = z
  .object({
    min: numOrVar.optional().describe('the value must be >= this'),
    max: numOrVar.optional().describe('the value must be <= this'),
    gt: numOrVar.optional().describe('the value must be > this'),
    lt: numOrVar.optional().describe('the value must be < this'),
    equals: z.unknown().optional().describe('the value must equal this (deep, JSON)'),
  })
  .strict();

const probeBase = {
  name: z.string().min(1).optional().describe('named in the journal and in the failure; default derived from the probe'),
  withinMs: ms(600_000).optional().describe('keep checking until the probe holds or this time is up (default: one check; ask: 5000)'),
};
const capture = z.string().regex(/^[A-Za-z_]\w*$/).optional().describe('store the measured value as $name for later tolerances');

export const probeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('agents'), ...probeBase, agents: z.string().min(1).default('*').describe('glob over agent ids'), state: z.enum(NODE_STATES).default('running'), mailboxMax: z.number().int().min(0).optional() }).strict(),
  z.object({ type: z.literal('metric'), ...probeBase, metric: z.string().regex(/^[a-zA-Z_:][\w:]*$/), labels: z.record(z.string(), z.string()).optional(), aggregate: z.enum(['sum', 'max', 'min', 'count']).optional(), tolerance: toleranceSchema, capture }).strict(),
  z.object({ type: z.literal('readyz'), ...probeBase, status: z.union([z.literal(200), z.literal(503)]).default(200) }).strict(),
  z.object({ type: z.literal('ask'), ...probeBase, agent: z.string().min(1), message: z.unknown(), path: z.string().optional().describe('dot path into the reply for the tolerance, e.g. "draft.words"'), tolerance: toleranceSchema.optional(), capture }).strict(),
  z.object({ type: z.literal('dependency'), ...probeBase, dependency: z.string().min(1), breaker: z.union([z.enum(['closed', 'open', 'half-open', 'isolated']), z.array(z.enum(['closed', 'open', 'half-open', 'isolated'])).min(1)]) }).strict(),
  z.object({ type: z.literal('nodes'), ...probeBase, up: z.number().int().min(1).max(1000).optional().describe('exactly this many cluster nodes are up'), minUp: z.number().int().min(1).max(1000).optional().describe('at least this many cluster nodes are up') }).strict(),
  z.object({ type: z.literal('messages'), ...probeBase, maxLost: z.number().int().min(0).default(0), maxFailed: z.number().int().min(0).optional() }).strict(),
]);

const stepBase = { name: z.string().min(1).optional() };
const background = z.boolean().optional().describe('run alongside the next steps; the method waits for it at its end');

export const stepSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('inject'), ...stepBase, fault: z.string().min(1), target: z.string().min(1), params: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ type: z.literal('clear'), ...stepBase, fault: z.string().min(1).optional().describe('the name of an earlier inject step; default: every fault this drill injected') }).strict(),
  z.object({ type: z.literal('wait'), ...stepBase, ms: ms() }).strict(),
  z.object({
    type: z.literal('load'), ...stepBase, background,
    to: z.string().min(1), rate: z.number().positive().max(2000), durationMs: ms(600_000).min(1),
    message: z.unknown().optional(), timeoutMs: ms(600_000).min(1).optional(), kind: z.enum(['ask', 'send']).optional(), maxInFlight: z.number().int().min(1).max(4096).optional(),
  }).strict(),
  z.object({ type: z.literal('chaos'), ...stepBase, background, killIntervalMs: z.number().int().min(10), durationMs: ms().min(1), seed: z.number().int().min(0).optional(), targets: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('probe'), ...stepBase, probe: probeSchema }).strict(),
  z.object({ type: z.literal('kill-runtime'), ...stepBase, restartTimeoutMs: ms(600_000).min(1).optional().describe('how long to wait for the runtime to answer again (default 60000)') }).strict(),
]);

export const drillSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).optional().describe('default: the file name'),
    description: z.string().optional(),
    system: z.string().min(1).optional().describe('the config "name" this drill is for; the gate fails against another system'),
    seed: z.number().int().min(0).max(2 ** 32).default(1).describe('seeds chaos steps and rate-based faults so a run replays'),
    drainTimeoutMs: ms(600_000).optional().describe('how long sends may take to be handled after the method (default 30000)'),
    steadyState: z.object({ title: z.string().optional(), probes: z.array(probeSchema).min(1) }).strict(),
    method: z.array(stepSchema).min(1),
    rollbacks: z.array(stepSchema).default([]),
  })
  .strict();

export type Drill = z.output<typeof drillSchema>;
export type Probe = z.output<typeof probeSchema>;
export type Step = z.output<typeof stepSchema>;
export type Tolerance = z.output<typeof toleranceSchema>;
