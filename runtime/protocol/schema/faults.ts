/**
 * Schemas of faults as the control channel shows them: the `inject` method's
 * spec, the active faults (`faults`, status `faults`) and the `fault` event.
 */
import { z } from 'zod';

/**
 * What a fault is injected with: the catalogue checks each fault's own
 * parameters (`ms`, `status`, `point`, `count`, `rate`, `seed`,
 * `durationMs`, …) and names the wrong one, so here they are free-form.
 */
export const FaultParams = z.record(z.string(), z.unknown(), { error: 'must be an object' }).describe('Parameters as injected: `ms`, `status`, `point`, `count`, `rate`, `seed`, `durationMs`, … (checked per fault by the catalogue)');

/** `inject` params. */
export const FaultSpec = z.strictObject({
  fault: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }).describe('The fault\'s name in the catalogue: `kill`, `slow`, `error`, `corrupt-checkpoint`, …'),
  target: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }).describe('An agent id, a dependency id, or a glob of them (`*` matches any run of characters)'),
  params: FaultParams.optional(),
});

export const ActiveFault = z.strictObject({
  id: z.string(),
  fault: z.string().describe('The fault\'s name in the catalogue'),
  target: z.string().describe('An agent id, a dependency id, or a glob of them'),
  params: FaultParams,
  kind: z.enum(['agent', 'dependency', 'state', 'runtime']),
  createdAt: z.string(),
  expiresAt: z.string().optional().describe('When it clears itself (from `durationMs`)'),
  remaining: z.number().int().optional().describe('Times it may still fire; absent: unlimited'),
  fired: z.number().int().min(0).describe('Times it has fired'),
});

/** Payload of the `fault` event. */
export const FaultEvent = z.strictObject({
  time: z.string(),
  action: z.enum(['injected', 'fired', 'cleared']),
  fault: ActiveFault,
});

export type FaultSpec = z.infer<typeof FaultSpec>;
export type ActiveFault = z.infer<typeof ActiveFault>;
export type FaultEvent = z.infer<typeof FaultEvent>;
