/** Observability: metrics, health probes, structured logs, alerts and the reliability summary. The runtime wires `Observability`; the parts are exported for tests and tools. */
export { Observability, categoryOf, type ObservabilityOptions, type ObservedDependency, type GatewayCallEvent } from './Observability.ts';
export { Metrics, labelValue, errorCategory, type MetricsOptions, type DependencyKind, type Pricing } from './metrics.ts';
export { livez, readyz, isCriticalDependency, dependencyHasFallback, blocksReadiness, isDown, type ProbeResponse, type ProbeReason, type ReadyzBody, type LivezBody } from './health.ts';
export { createLogger, matchesLogFilter, serializeErr, REDACT_PATHS, type RuntimeLog, type LoggerOptions, type LogLine, type LogLevelName } from './logger.ts';
export { AlertEngine, type ActiveAlert, type AlertEvent, type AlertLevel, type AlertRuleName, type AlertSubjectKind, type AlertListener } from './alerts.ts';
export type { Disposable } from '../protocol/emitter.ts';
export { WebhookSink, WebhookDeliveryError, type WebhookOptions, type WebhookBody } from './webhook.ts';
export { ReliabilityTracker, type ReliabilitySummary, type Rate } from './reliability.ts';
export { secretValues } from './redact.ts';
export { SecretScrubber, REDACTED } from '../protocol/redact.ts';
export { ProcessSampler, readProcess, type ProcessSample } from './procStats.ts';
export { SlidingWindow, type WindowStats } from './SlidingWindow.ts';
export { FastHistogram, type HistogramSeries } from './FastHistogram.ts';
