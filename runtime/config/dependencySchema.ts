/** `dependencies` and `models` in the config: external services and model fallback chains. */
import { z } from 'zod';

export const dependencySchema = z
  .object({
    kind: z.enum(['model', 'http', 'tool']).describe('model: OpenAI-compatible chat completions; http: an HTTP service; tool: an in-process tool'),
    url: z.string().url().optional(),
    model: z.string().optional(),
    apiKeyEnv: z.string().optional().describe('Name of the environment variable holding the API key (never the key itself)'),
    profile: z.enum(['fast', 'slow']).optional(),
    retry: z.object({ maxAttempts: z.number().int().min(1).max(20).optional(), baseDelayMs: z.number().int().min(0).optional(), maxDelayMs: z.number().int().min(0).optional() }).strict().optional(),
    breaker: z.object({ failureRatio: z.number().min(0).max(1).optional(), window: z.number().int().min(1).optional(), openMs: z.number().int().min(0).optional(), halfOpenProbes: z.number().int().min(1).max(10).optional() }).strict().optional(),
    timeoutMs: z.number().int().min(1).optional(),
    budgetMs: z.number().int().min(1).optional(),
    degrade: z.enum(['fail', 'skip', 'cache', 'queue']).optional(),
    critical: z.boolean().optional(),
  })
  .strict();

export const dependenciesSchema = z.record(z.string(), dependencySchema);
export const modelsSchema = z.record(z.string(), z.array(z.string()).min(1));
