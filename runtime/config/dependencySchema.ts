/**
 * `dependencies` and `models` in the config: external services and model
 * fallback chains. Defaults by `profile` are resolved in
 * `runtime/gateway/policyConfig.ts`; unset fields here mean "the profile's value".
 */
import { z } from 'zod';

const statusCode = z.number().int().min(100).max(599);

export const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).optional().describe('Attempts per call including the first (fast: 4 = 3 retries; slow: 6 = 5 retries)'),
    baseDelayMs: z.number().int().min(0).max(600_000).optional().describe('Median first retry delay; later delays grow exponentially with jitter (fast: 1000; slow: 2000)'),
    maxDelayMs: z.number().int().min(0).max(3_600_000).optional().describe('Cap on one retry delay (fast: 30000; slow: 60000)'),
  })
  .strict();

export const breakerSchema = z
  .object({
    failureRatio: z.number().gt(0).max(1).optional().describe('The breaker opens when this share of the last `window` calls failed (default 0.5)'),
    window: z.number().int().min(1).max(1000).optional().describe('Number of most recent calls the failure ratio is measured over (default 20)'),
    minimumCalls: z.number().int().min(1).max(1000).optional().describe('Calls needed in the window before the breaker may open (default: window)'),
    openMs: z.number().int().min(0).max(86_400_000).optional().describe('How long the breaker stays open before it lets a probe through (fast: 30000; slow: 120000)'),
    halfOpenProbes: z.number().int().min(1).max(5).optional().describe('Successful probes in a row that close a half-open breaker (default 3; 3-5 recommended)'),
  })
  .strict();

export const classifierSchema = z
  .object({
    retryableStatus: z.array(statusCode).optional().describe('Extra HTTP statuses to retry (added to 408, 429, 500, 502, 503, 504)'),
    nonRetryableStatus: z.array(statusCode).optional().describe('HTTP statuses never to retry, overriding the defaults'),
    retryableCodes: z.array(z.string().min(1)).optional().describe('Extra error codes or error names to retry, e.g. "EPIPE" or "MyToolBusyError"'),
    contentFilterPatterns: z.array(z.string().min(1)).optional().describe('Regular expressions; an error body matching one is a content-filter refusal (not retried)'),
  })
  .strict();

export const priceSchema = z
  .object({
    promptPer1k: z.number().min(0).describe('Price of 1000 prompt tokens'),
    completionPer1k: z.number().min(0).describe('Price of 1000 completion tokens'),
    currency: z.string().min(1).max(8).optional().describe('Currency label for the cost figures (default USD)'),
  })
  .strict();

export const dependencySchema = z
  .object({
    kind: z.enum(['model', 'http', 'tool', 'mcp']).describe('model: a chat model (OpenAI-compatible chat completions, or the Anthropic Messages API with "api": "anthropic"); http: an HTTP service (the request is POSTed as JSON); tool: an in-process tool registered with the runtime; mcp: a Model Context Protocol server (a command over stdio, or a url over streamable HTTP)'),
    url: z.string().url().optional().describe('model: the base URL including /v1 (…/chat/completions is appended, …/messages for api anthropic); http: the URL the request is POSTed to; mcp: the streamable HTTP endpoint (http://127.0.0.1:PORT/mcp)'),
    command: z.string().min(1).optional().describe('mcp over stdio: the executable that runs the server (e.g. "node"); the runtime starts it, restarts it with backoff when it exits and stops it at shutdown'),
    args: z.array(z.string()).optional().describe('mcp over stdio: the command\'s arguments; those starting with ./ or ../ resolve against the config\'s directory'),
    env: z.record(z.string(), z.string()).optional().describe('mcp over stdio: environment variables for the server, added to a minimal safe set (HOME, LOGNAME, PATH, SHELL, TERM, USER)'),
    cwd: z.string().min(1).optional().describe('mcp over stdio: the server\'s working directory, relative to the config\'s directory (default: the config\'s directory)'),
    api: z.enum(['openai', 'anthropic']).optional().describe('model: the API it speaks. openai (default): POST {url}/chat/completions; anthropic: the Messages API, POST {url}/messages with x-api-key and anthropic-version. Requests and replies stay in the OpenAI chat format either way (translated for anthropic), so a chain may mix them'),
    model: z.string().optional().describe('The model name sent to the model server'),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional().describe('Name of the environment variable holding the API key (never the key itself); sent as "Authorization: Bearer …" ("x-api-key" for api anthropic) and never logged'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra request headers (not secret: they may appear in logs; put secrets in apiKeyEnv)'),
    profile: z.enum(['fast', 'slow']).optional().describe('Seed defaults: fast = 3 retries from 1 s, open 30 s; slow = 5 retries from 2 s, open 120 s (default fast)'),
    retry: retrySchema.optional(),
    breaker: breakerSchema.optional(),
    timeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('Timeout of one attempt (fast: 30000; slow: 120000)'),
    budgetMs: z.number().int().min(1).max(86_400_000).optional().describe('Total time for a call including retries and their delays (fast: 120000; slow: 600000)'),
    degrade: z.enum(['fail', 'skip', 'cache', 'queue']).optional().describe('When the dependency is unavailable: fail (default); skip: return an "unavailable" result; cache: the last good response for the same request, marked stale; queue: hold the call and replay it when the breaker closes'),
    critical: z.boolean().optional().describe('/readyz reports not ready while this dependency is down and no chain offers a fallback'),
    classifier: classifierSchema.optional(),
    price: priceSchema.optional(),
    mock: z
      .union([z.boolean(), z.object({ model: z.string().optional(), seed: z.number().int().optional() }).strict()])
      .optional()
      .describe('Serve this dependency with the built-in mock model server on its URL\'s port (loopback only), for local development and demos'),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.mock && d.url && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(d.url)) ctx.addIssue({ code: 'custom', path: ['mock'], message: 'a mocked dependency needs a loopback url (http://127.0.0.1:PORT/…)' });
    if ((d.kind === 'model' || d.kind === 'http') && !d.url) ctx.addIssue({ code: 'custom', path: ['url'], message: `a "${d.kind}" dependency needs a url` });
    if (d.kind === 'mcp') {
      if (!d.command && !d.url) ctx.addIssue({ code: 'custom', path: ['command'], message: 'an "mcp" dependency needs a command (stdio) or a url (streamable HTTP)' });
      if (d.command && d.url) ctx.addIssue({ code: 'custom', path: ['url'], message: 'an "mcp" dependency takes a command (stdio) or a url (streamable HTTP), not both' });
      if (d.mock) ctx.addIssue({ code: 'custom', path: ['mock'], message: 'an "mcp" dependency cannot be mocked: run the server itself (command) or point url at it' });
    }
    for (const k of ['command', 'args', 'env', 'cwd'] as const) {
      if (d[k] !== undefined && !(d.kind === 'mcp' && d.command)) ctx.addIssue({ code: 'custom', path: [k], message: d.kind === 'mcp' ? `"${k}" is for an "mcp" server over stdio: set "command"` : `"${k}" is only for "mcp" dependencies` });
    }
    if (d.api !== undefined && d.kind !== 'model') ctx.addIssue({ code: 'custom', path: ['api'], message: `"api" is only for "model" dependencies; this one is kind "${d.kind}"` });
    if (d.kind === 'model' && !d.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'a "model" dependency needs a model name' });
  });

export type DependencyConfig = z.input<typeof dependencySchema>;

export const dependenciesSchema = z.record(z.string(), dependencySchema);
export const modelsSchema = z.record(z.string(), z.array(z.string()).min(1)).describe('Model fallback chains: ctx.model(chain) tries these dependency ids in order');
