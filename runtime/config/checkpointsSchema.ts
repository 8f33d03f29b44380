/** `checkpoints` in the config: where and how agent state is stored. */
import { z } from 'zod';

export const summarizeSchema = z
  .object({
    maxBytes: z.number().int().min(1_024).max(64 * 1_048_576).optional().describe("Compact an agent's state when its JSON passes this many bytes (default 65536)"),
    maxEntries: z.number().int().min(1).max(1_000_000).optional().describe('Compact when a "history" or "messages" array passes this many entries (default 200)'),
    keepLast: z.number().int().min(0).max(1_000_000).optional().describe('Entries the default compaction keeps of each such array, behind a summary marker (default 50)'),
    model: z
      .string()
      .min(1)
      .optional()
      .describe('A model chain (or model dependency) that summarizes the entries the default compaction drops; the summary is kept in the marker. Without it, or when the model fails, the marker only counts them'),
  })
  .strict();

export const checkpointsSchema = z
  .object({
    store: z.enum(['sqlite', 'memory']).optional().describe('sqlite (default) or memory (lost on exit)'),
    path: z.string().optional().describe('SQLite file, relative to the config file (default .faultline/checkpoints.db)'),
    synchronous: z
      .enum(['NORMAL', 'FULL'])
      .optional()
      .describe('NORMAL (default) survives any crash of the process; FULL also survives power loss, at an fsync per commit'),
    retain: z.number().int().min(1).max(100_000).optional().describe('Checkpoints kept per agent; the newest valid one is always kept (default 20)'),
    retainMaxAgeMs: z.number().int().min(0).max(31_536_000_000).optional().describe('Also keep every checkpoint younger than this (default 0: off)'),
    groupCommitMs: z.number().int().min(0).max(100).optional().describe('Wait this long for more writes to share a transaction; 0 waits one event-loop turn (default 0)'),
    summarize: summarizeSchema.optional().describe('When a state is compacted and a summary checkpoint written'),
  })
  .strict();

export type CheckpointsConfig = z.infer<typeof checkpointsSchema>;
