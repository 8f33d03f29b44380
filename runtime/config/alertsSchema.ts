/**
 * `alerts` in the config: thresholds of the alert rules, the sliding window
 * they are evaluated over, the SLA target and the optional webhook sink.
 * Every rule can be switched off with `false`.
 */
import { z } from 'zod';

const levels = z.object({ warning: z.number().min(0).optional(), critical: z.number().min(0).optional() }).strict();
const ratioLevels = z
  .object({ warning: z.number().min(0).max(1).optional(), critical: z.number().min(0).max(1).optional() })
  .strict();
const off = z.literal(false);

export const webhookSchema = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL').describe('Alerts are POSTed here as JSON'),
    levels: z.array(z.enum(['warning', 'critical'])).min(1).optional().describe('Levels that are sent (default ["critical"])'),
    timeoutMs: z.number().int().min(1).max(120_000).optional().describe('Per-request timeout (default 5000)'),
  })
  .strict();

export const alertsSchema = z
  .object({
    windowMs: z.number().int().min(1_000).max(86_400_000).optional().describe('Sliding window of the rate and latency rules (default 60000)'),
    minSamples: z.number().int().min(1).max(100_000).optional().describe('Rate and latency rules stay quiet with fewer observations in the window (default 5)'),
    errorRate: z.union([ratioLevels, off]).optional().describe('Share of failed calls or messages per dependency or agent (default warning 0.05, critical 0.25)'),
    latencyMs: z.union([levels, off]).optional().describe('p95 latency per dependency or agent, in ms (default warning 10000)'),
    unresponsive: z.boolean().optional().describe('Critical alert while an agent misses heartbeats (default true)'),
    breakerOpen: z.boolean().optional().describe('Alert while a breaker is open: warning with a fallback, critical without (default true)'),
    restartIntensity: z.union([ratioLevels, off]).optional().describe('Share of a supervisor\'s restart intensity used in its period (default warning 0.8)'),
    checkpointFallback: z.boolean().optional().describe('Warning for one window after a checkpoint fell back to an older one or a cold start (default true)'),
    sla: z
      .object({
        targetMs: z.number().int().min(1).optional().describe('An ask answered within this counts as within SLA (default: the ask\'s own timeout)'),
        warning: z.number().min(0).max(1).optional().describe('Alert when the share of asks within SLA falls below this (default off)'),
        critical: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    webhook: webhookSchema.optional(),
  })
  .strict();

export type AlertsInput = z.infer<typeof alertsSchema>;

export interface Thresholds { warning?: number; critical?: number }

/** Alert rules with every default filled in; `null` means the rule is off. */
export interface AlertRules {
  windowMs: number;
  minSamples: number;
  errorRate: Thresholds | null;
  latencyMs: Thresholds | null;
  unresponsive: boolean;
  breakerOpen: boolean;
  restartIntensity: Thresholds | null;
  checkpointFallback: boolean;
  sla: { targetMs?: number } & Thresholds;
  webhook: { url: string; levels: ('warning' | 'critical')[]; timeoutMs: number } | null;
}

// Seed defaults from the issue: error rate 5 % / 25 %, p95 over 10 s; the
// intensity warning at 80 % leaves one restart of headroom at the default 5.
export const ALERT_DEFAULTS = {
  windowMs: 60_000,
  minSamples: 5,
  errorRate: { warning: 0.05, critical: 0.25 },
  latencyMs: { warning: 10_000 },
  restartIntensity: { warning: 0.8 },
  webhookTimeoutMs: 5_000,
} as const;

/** Fills in the defaults of a validated `alerts` section. */
export function resolveAlertRules(input: AlertsInput = {}): AlertRules {
  // A level left out keeps its default: `{ "warning": 0.1 }` still has the critical level.
  const pick = (v: Thresholds | false | undefined, d: Thresholds): Thresholds | null => (v === false ? null : { ...d, ...(v ?? {}) });
  return {
    windowMs: input.windowMs ?? ALERT_DEFAULTS.windowMs,
    minSamples: input.minSamples ?? ALERT_DEFAULTS.minSamples,
    errorRate: pick(input.errorRate, ALERT_DEFAULTS.errorRate),
    latencyMs: pick(input.latencyMs, ALERT_DEFAULTS.latencyMs),
    unresponsive: input.unresponsive ?? true,
    breakerOpen: input.breakerOpen ?? true,
    restartIntensity: pick(input.restartIntensity, ALERT_DEFAULTS.restartIntensity),
    checkpointFallback: input.checkpointFallback ?? true,
    sla: { ...(input.sla ?? {}) },
    webhook: input.webhook
      ? { url: input.webhook.url, levels: input.webhook.levels ?? ['critical'], timeoutMs: input.webhook.timeoutMs ?? ALERT_DEFAULTS.webhookTimeoutMs }
      : null,
  };
}
