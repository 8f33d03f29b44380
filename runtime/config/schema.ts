/**
 * The `faultline.config.json` schema. One zod schema validates configs at
 * start and emits the JSON Schema shipped in the package and contributed to
 * VS Code (`jsonValidation`).
 */
import { z } from 'zod';
import { dependenciesSchema, modelsSchema } from './dependencySchema.ts';
import { checkpointsSchema } from './checkpointsSchema.ts';
import { alertsSchema } from './alertsSchema.ts';

const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit')
  .describe('Unique id within the tree');

const ms = (what: string) => z.number().int().min(0).max(86_400_000).describe(what);

export const heartbeatSchema = z
  .object({
    intervalMs: z.number().int().min(10).max(600_000).optional().describe('How often an agent host reports it is alive (default 1000)'),
    timeoutMs: z.number().int().min(50).max(3_600_000).optional().describe('No heartbeat for this long marks the agent unresponsive; it is killed and restarted (default 5000)'),
  })
  .strict();

export const backoffSchema = z
  .object({
    baseMs: ms('First restart delay after a crash of a child that was not stable (default 100)').optional(),
    maxMs: ms('Cap on the restart delay (default 10000)').optional(),
    factor: z.number().min(1).max(10).optional().describe('Growth per consecutive crash (default 2)'),
    jitter: z.number().min(0).max(1).optional().describe('Random share of the delay, 0..1 (default 0.2)'),
    resetAfterMs: ms('A child up this long is stable: its next crash restarts at once (default 10000)').optional(),
  })
  .strict();

export const agentSpecSchema = z
  .object({
    id: idSchema,
    module: z.string().min(1).describe('Agent module path, relative to the config file (.mjs, .js or .ts)'),
    restart: z.enum(['permanent', 'transient', 'temporary']).optional().describe('permanent: always restarted; transient: only after an abnormal exit; temporary: never (default permanent)'),
    isolation: z.enum(['process', 'thread']).optional().describe('process: a forked Node process (default); thread: a worker thread with resource limits'),
    shutdownMs: ms('Graceful stop timeout before SIGKILL (default 5000)').optional(),
    memoryMb: z.number().int().min(16).max(65_536).optional().describe('Heap limit of the agent (--max-old-space-size / resourceLimits)'),
    heartbeat: heartbeatSchema.optional(),
    checkpoint: z.enum(['message', 'call', 'manual']).optional().describe('When state is checkpointed: message (after each handled message that changed it, default), call (also after each ctx.call/ctx.model reply), manual (only ctx.checkpoint())'),
    options: z.record(z.string(), z.unknown()).optional().describe('Free-form options passed to the agent as ctx.options'),
  })
  .strict();

export interface SupervisorSpecInput {
  id: string;
  strategy?: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  intensity?: number;
  periodMs?: number;
  restart?: 'permanent' | 'transient' | 'temporary';
  shutdownMs?: number;
  backoff?: z.infer<typeof backoffSchema>;
  children: ChildSpecInput[];
}
export type ChildSpecInput = { agent: z.infer<typeof agentSpecSchema>; supervisor?: undefined } | { supervisor: SupervisorSpecInput; agent?: undefined };

export const supervisorSpecSchema: z.ZodType<SupervisorSpecInput> = z.lazy(() =>
  z
    .object({
      id: idSchema,
      strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one']).optional().describe('Which children restart when one fails (default one_for_one)'),
      // Any non-negative safe integer, as OTP takes (int() bounds it to safe integers): soak runs go far beyond the default.
      intensity: z.number().int().min(0).optional().describe('At most this many restarts within periodMs, else the supervisor fails and escalates (default 5; any non-negative integer)'),
      periodMs: z.number().int().min(1).max(86_400_000).optional().describe('Window of the restart intensity (default 60000)'),
      restart: z.enum(['permanent', 'transient', 'temporary']).optional().describe('Restart type of this supervisor as a child of its parent (default permanent)'),
      shutdownMs: ms('Time to stop this supervisor subtree before its processes are killed (default: sum of its children)').optional(),
      backoff: backoffSchema.optional(),
      children: z.array(childSpecSchema).describe('Started in order, stopped in reverse order'),
    })
    .strict(),
);

export const childSpecSchema: z.ZodType<ChildSpecInput> = z.lazy(() =>
  z
    .object({ agent: agentSpecSchema.optional(), supervisor: supervisorSpecSchema.optional() })
    .strict()
    .superRefine((v, ctx) => {
      const n = (v.agent ? 1 : 0) + (v.supervisor ? 1 : 0);
      if (n !== 1) ctx.addIssue({ code: 'custom', message: 'a child is exactly one of { "agent": {...} } or { "supervisor": {...} }' });
    }),
) as z.ZodType<ChildSpecInput>;

export const runtimeOptionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).optional().describe('Control channel and HTTP port on 127.0.0.1 (0: any free port)'),
    host: z
      .string()
      .regex(/^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)$/, 'an IP address or a host name')
      .optional()
      .describe('The address the HTTP endpoints and the control channel listen on (default 127.0.0.1). Set it only where probes come from outside the loopback, as in a container ("0.0.0.0"); the control channel always needs the token'),
    spares: z.number().int().min(0).max(64).optional().describe('Warm agent host processes kept ready for fast restarts (default 2)'),
    stormSpares: z
      .number()
      .int()
      .min(0)
      .max(64)
      .optional()
      .describe('After a restart storm, extra warm spares held for a minute for the next wave: one per 8 agents that were down at once, at most this many (default 16; 0: none)'),
    maxConcurrentStarts: z.number().int().min(1).max(64).optional().describe('Cold process starts running at once (default 2)'),
    askTimeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('Default ask timeout (default 5000)'),
    maxDeliveries: z.number().int().min(1).max(100).optional().describe('A message whose handling crashed the agent this many times is dead-lettered (default 3)'),
    heartbeat: heartbeatSchema.optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    leaseMs: z
      .number()
      .int()
      .min(300)
      .max(600_000)
      .optional()
      .describe('A node that does not renew its leases within this long loses them: other nodes take its subtrees (default 3000)'),
  })
  .strict()
  .describe('Run the same config on several nodes over the PostgreSQL store: each child of the root supervisor runs on one node');

const exporterKind = z.enum(['otlp', 'none']);
export const telemetrySchema = z
  .object({
    enabled: z.boolean().optional().describe('Record spans (default true when this block is present); OTEL_SDK_DISABLED=true turns it off'),
    endpoint: z.string().url().optional().describe('OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (the OTEL_EXPORTER_OTLP_* variables take precedence)'),
    protocol: z.enum(['http/protobuf', 'http/json']).optional().describe('OTLP encoding (default http/protobuf)'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra request headers for the exports; put credentials in OTEL_EXPORTER_OTLP_HEADERS instead'),
    serviceName: z.string().min(1).optional().describe("service.name (default: OTEL_SERVICE_NAME, else the config's name)"),
    traces: exporterKind.optional().describe('Export spans (default otlp when an endpoint is known, else none: the runtime keeps the last ones for `traces`)'),
    logs: exporterKind.optional().describe('Export log records (default otlp when an endpoint is known)'),
    metrics: exporterKind.optional().describe('Export the GenAI client metrics (default otlp when an endpoint is known)'),
    captureContent: z.boolean().optional().describe('Record prompts and replies on chat spans (default false; secrets are scrubbed)'),
    bufferSpans: z.number().int().min(0).max(100_000).optional().describe('How many recent spans the runtime keeps for `traces` and the dashboard (default 5000)'),
  })
  .strict()
  .describe('OpenTelemetry: spans in the GenAI conventions, logs and metrics over OTLP/HTTP');

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).max(128).describe('The system name'),
    runtime: runtimeOptionsSchema.optional(),
    checkpoints: checkpointsSchema.optional(),
    dependencies: dependenciesSchema.optional(),
    models: modelsSchema.optional(),
    supervisor: supervisorSpecSchema,
    alerts: alertsSchema.optional(),
    cluster: clusterSchema.optional(),
    telemetry: telemetrySchema.optional(),
  })
  .strict();

export type ConfigInput = z.infer<typeof configSchema>;

/** The JSON Schema of `faultline.config.json`. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { target: 'draft-7', unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://faultline.dev/schema/faultline.config.json', title: 'Faultline config' };
}
