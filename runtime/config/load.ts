/**
 * Loads `faultline.config.json`: parses, validates against the schema, checks
 * what a schema cannot (unique ids, references), and resolves defaults and
 * paths. Every error names the JSON path.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { configSchema, type ChildSpecInput, type ConfigInput, type SupervisorSpecInput } from './schema.ts';
import { ConfigError } from '../errors.ts';
import type { Isolation, RestartType, Strategy } from '../protocol/status.ts';

export interface HeartbeatOptions { intervalMs: number; timeoutMs: number }
export interface BackoffOptions { baseMs: number; maxMs: number; factor: number; jitter: number; resetAfterMs: number }

export interface AgentSpec {
  kind: 'agent';
  id: string;
  /** Absolute path of the module. */
  module: string;
  /** The module path as written in the config. */
  moduleRef: string;
  restart: RestartType;
  isolation: Isolation;
  shutdownMs: number;
  memoryMb?: number;
  heartbeat: HeartbeatOptions;
  checkpoint: 'message' | 'call' | 'manual';
  options: Record<string, unknown>;
}
export interface SupervisorSpec {
  kind: 'supervisor';
  id: string;
  strategy: Strategy;
  intensity: number;
  periodMs: number;
  restart: RestartType;
  shutdownMs?: number;
  backoff: BackoffOptions;
  children: ChildSpec[];
}
export type ChildSpec = AgentSpec | SupervisorSpec;

export interface RuntimeSettings {
  port: number;
  /** The listening address (default 127.0.0.1). */
  host: string;
  spares: number;
  /** Extra spares held for a while after a restart storm, at most. */
  stormSpares: number;
  maxConcurrentStarts: number;
  askTimeoutMs: number;
  maxDeliveries: number;
}

export type TelemetryConfig = NonNullable<ConfigInput['telemetry']>;

export interface ResolvedConfig {
  name: string;
  /** Absolute path of the config file ('' when built in memory). */
  file: string;
  /** Directory the config's relative paths resolve against. */
  baseDir: string;
  runtime: RuntimeSettings;
  supervisor: SupervisorSpec;
  /** Dependencies by id, as configured (the gateway applies their profiles). */
  dependencies: NonNullable<ConfigInput['dependencies']>;
  /** Model fallback chains: chain name → dependency ids, in order. */
  models: Record<string, string[]>;
  /** The checkpoint store; `path` unset means `checkpoints.db` in the state dir. */
  checkpoints: NonNullable<ConfigInput['checkpoints']>;
  /** Alert rules as configured (observability applies the defaults). */
  alerts: ConfigInput['alerts'];
  /** Set when the config runs as a cluster of nodes over PostgreSQL. */
  cluster?: { leaseMs: number };
  /** OpenTelemetry, as configured (the OTEL_* variables are applied at start). */
  telemetry?: TelemetryConfig;
  /** The validated config as written. */
  raw: ConfigInput;
}

export const DEFAULTS = {
  intensity: 5,
  periodMs: 60_000,
  shutdownMs: 5_000,
  heartbeat: { intervalMs: 1_000, timeoutMs: 5_000 },
  backoff: { baseMs: 100, maxMs: 10_000, factor: 2, jitter: 0.2, resetAfterMs: 10_000 },
  leaseMs: 3_000,
  runtime: { port: 0, host: '127.0.0.1', spares: 2, stormSpares: 16, maxConcurrentStarts: 2, askTimeoutMs: 5_000, maxDeliveries: 3 },
} as const;

/** Formats a path like `$.supervisor.children[1].agent.module`. */
export function jsonPath(p: readonly PropertyKey[]): string {
  let out = '$';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? `.${String(k)}` : `[${JSON.stringify(String(k))}]`;
  return out;
}

function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `${jsonPath([...i.path, ...i.keys.slice(0, 1)])}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${jsonPath(i.path)}: ${i.message}`;
  });
}

/** Reads and validates a config file. Throws `ConfigError` naming the file and JSON path. */
export function loadConfigFile(file: string): ResolvedConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [`cannot read the config: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(abs, [`$: not valid JSON (${(e as Error).message})`]);
  }
  return resolveConfig(json, abs);
}

/** Validates a config object; `file` is where relative paths resolve from. */
export function resolveConfig(json: unknown, file: string): ResolvedConfig {
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(file, issueLines(parsed.error.issues));
  const cfg = parsed.data;
  const baseDir = file ? path.dirname(file) : process.cwd();
  const problems: string[] = [];
  const ids = new Map<string, string>();

  const rt = cfg.runtime ?? {};
  const heartbeat: HeartbeatOptions = { ...DEFAULTS.heartbeat, ...(rt.heartbeat ?? {}) };

  const resolveSup = (s: SupervisorSpecInput, at: (string | number)[]): SupervisorSpec => {
    const seen = ids.get(s.id);
    if (seen) problems.push(`${jsonPath([...at, 'id'])}: id "${s.id}" is already used at ${seen}`);
    else ids.set(s.id, jsonPath([...at, 'id']));
    return {
      kind: 'supervisor',
      id: s.id,
      strategy: s.strategy ?? 'one_for_one',
      intensity: s.intensity ?? DEFAULTS.intensity,
      periodMs: s.periodMs ?? DEFAULTS.periodMs,
      restart: s.restart ?? 'permanent',
      shutdownMs: s.shutdownMs,
      backoff: { ...DEFAULTS.backoff, ...(s.backoff ?? {}) },
      children: s.children.map((c, i) => resolveChild(c, [...at, 'children', i])),
    };
  };
  const resolveChild = (c: ChildSpecInput, at: (string | number)[]): ChildSpec => {
    if (c.supervisor) return resolveSup(c.supervisor, [...at, 'supervisor']);
    const a = c.agent!;
    const where = [...at, 'agent'];
    const seen = ids.get(a.id);
    if (seen) problems.push(`${jsonPath([...where, 'id'])}: id "${a.id}" is already used at ${seen}`);
    else ids.set(a.id, jsonPath([...where, 'id']));
    if (!/\.(mjs|cjs|js|ts|mts)$/.test(a.module)) problems.push(`${jsonPath([...where, 'module'])}: "${a.module}" must be a .mjs, .js or .ts file`);
    const hb = { ...heartbeat, ...(a.heartbeat ?? {}) };
    if (hb.timeoutMs <= hb.intervalMs) problems.push(`${jsonPath([...where, 'heartbeat', 'timeoutMs'])}: must be greater than intervalMs (${hb.intervalMs})`);
    return {
      kind: 'agent',
      id: a.id,
      module: path.resolve(baseDir, a.module),
      moduleRef: a.module,
      restart: a.restart ?? 'permanent',
      isolation: a.isolation ?? 'process',
      shutdownMs: a.shutdownMs ?? DEFAULTS.shutdownMs,
      memoryMb: a.memoryMb,
      heartbeat: hb,
      checkpoint: a.checkpoint ?? 'message',
      options: a.options ?? {},
    };
  };
  const supervisor = resolveSup(cfg.supervisor, ['supervisor']);
  if (heartbeat.timeoutMs <= heartbeat.intervalMs) problems.push(`$.runtime.heartbeat.timeoutMs: must be greater than intervalMs (${heartbeat.intervalMs})`);

  const deps = cfg.dependencies ?? {};
  for (const [chain, list] of Object.entries(cfg.models ?? {})) {
    list.forEach((dep, i) => {
      if (!(dep in deps)) problems.push(`${jsonPath(['models', chain, i])}: "${dep}" is not a dependency (known: ${Object.keys(deps).join(', ') || 'none'})`);
    });
  }
  const summaryModel = cfg.checkpoints?.summarize?.model;
  if (summaryModel !== undefined && !(summaryModel in (cfg.models ?? {})) && !(summaryModel in deps)) {
    const known = [...Object.keys(cfg.models ?? {}), ...Object.keys(deps)];
    problems.push(`$.checkpoints.summarize.model: "${summaryModel}" is not a model chain or a dependency (known: ${known.join(', ') || 'none'})`);
  }
  if (cfg.cluster && cfg.checkpoints?.store !== 'postgres') {
    problems.push(`$.cluster: a cluster shares its state through PostgreSQL: set "checkpoints": { "store": "postgres", "urlEnv": "FAULTLINE_PG_URL" }${cfg.checkpoints?.store ? ` (the store is "${cfg.checkpoints.store}")` : ''}`);
  }
  if (problems.length) throw new ConfigError(file, problems);

  return {
    name: cfg.name,
    file,
    baseDir,
    runtime: {
      port: rt.port ?? DEFAULTS.runtime.port,
      host: rt.host ?? DEFAULTS.runtime.host,
      spares: rt.spares ?? DEFAULTS.runtime.spares,
      stormSpares: rt.stormSpares ?? DEFAULTS.runtime.stormSpares,
      maxConcurrentStarts: rt.maxConcurrentStarts ?? DEFAULTS.runtime.maxConcurrentStarts,
      askTimeoutMs: rt.askTimeoutMs ?? DEFAULTS.runtime.askTimeoutMs,
      maxDeliveries: rt.maxDeliveries ?? DEFAULTS.runtime.maxDeliveries,
    },
    supervisor,
    dependencies: deps,
    models: cfg.models ?? {},
    checkpoints: cfg.checkpoints ?? {},
    alerts: cfg.alerts,
    ...(cfg.cluster ? { cluster: { leaseMs: cfg.cluster.leaseMs ?? DEFAULTS.leaseMs } } : {}),
    ...(cfg.telemetry ? { telemetry: cfg.telemetry } : {}),
    raw: cfg,
  };
}

/** All agent specs of a tree, in start order. */
export function agentSpecs(s: SupervisorSpec): AgentSpec[] {
  return s.children.flatMap((c) => (c.kind === 'agent' ? [c] : agentSpecs(c)));
}
