/** `alerts` in the config: thresholds of the alert rules. */
import { z } from 'zod';

const levels = z.object({ warning: z.number().min(0).optional(), critical: z.number().min(0).optional() }).strict();
export const alertsSchema = z
  .object({
    errorRate: levels.optional(),
    latencyMs: levels.optional(),
  })
  .strict();
