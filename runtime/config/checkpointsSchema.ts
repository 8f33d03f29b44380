/** `checkpoints` in the config: where and how agent state is stored. */
import { z } from 'zod';

export const checkpointsSchema = z
  .object({
    store: z.enum(['sqlite', 'memory']).optional().describe('sqlite (default) or memory (lost on exit)'),
    path: z.string().optional().describe('SQLite file, relative to the config file (default .faultline/checkpoints.db)'),
  })
  .strict();
