/**
 * Schemas of time travel over an agent's checkpoints: reading one
 * checkpoint's state (`checkpoint.get`), restarting an agent from it
 * (`agent.restore`) and starting a temporary copy beside it (`agent.fork`).
 */
import { z } from 'zod';
import { IsoTime, NodeState } from './status.ts';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const seq = z
  .number({ error: 'must be a checkpoint seq (an integer of 1 or more)' })
  .int({ error: 'must be a checkpoint seq (an integer of 1 or more)' })
  .min(1, { error: 'must be a checkpoint seq (an integer of 1 or more)' })
  .max(MAX_SEQ, { error: 'must be a checkpoint seq (an integer of 1 or more)' })
  .describe("The checkpoint's seq, as `faultline checkpoints <agent>` lists it");
const agent = z.string({ error: 'must be an agent id' }).min(1, { error: 'must be an agent id' });

/** The kinds of checkpoint a store keeps. */
export const CheckpointKindSchema = z
  .enum(['full', 'summary', 'restore', 'fork'])
  .describe('full: a handled message; summary: compacted by summarize; restore: a copy of an older checkpoint appended by `faultline restore`; fork: the first checkpoint of a forked agent');

export const CheckpointGetParams = z.strictObject({ agent, seq });
/** One checkpoint with its state (a corrupt one is refused, so `valid` is true). */
export const CheckpointGetResult = z.strictObject({
  agent: z.string(),
  seq: z.number().int().min(1),
  kind: CheckpointKindSchema,
  version: z.number().int().describe("The agent module's `version` that wrote it"),
  time: IsoTime,
  size: z.number().int().min(0).describe('Bytes of the stored JSON'),
  valid: z.boolean(),
  state: z.unknown().describe("Free-form JSON: the agent's state at that checkpoint"),
});

export const RestoreParams = z.strictObject({ agent, seq });
export const RestoreResult = z.strictObject({
  agent: z.string(),
  from: z.number().int().min(1).describe('The seq whose state was restored'),
  seq: z.number().int().min(1).describe('The new checkpoint (kind `restore`) holding that state, which the agent came up from'),
  state: NodeState.describe("The agent's lifecycle state once the restart returned"),
});

export const ForkParams = z.strictObject({
  agent,
  seq,
  as: z
    .string({ error: 'must be the new agent\'s id' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit' })
    .describe('The id of the temporary agent to start'),
});
export const ForkResult = z.strictObject({
  agent: z.string().describe('The new (temporary) agent'),
  from: z.strictObject({ agent: z.string(), seq: z.number().int().min(1) }),
  seq: z.number().int().min(1).describe("The fork's first checkpoint (kind `fork`)"),
  supervisor: z.string().describe('The supervisor it runs under (the original\'s)'),
  state: RestoreResult.shape.state,
});

export type CheckpointGetResult = z.infer<typeof CheckpointGetResult>;
export type RestoreResult = z.infer<typeof RestoreResult>;
export type ForkResult = z.infer<typeof ForkResult>;
