/**
 * Optional webhook sink: POSTs alert transitions as JSON (by default only
 * critical ones, both firing and resolved, so a receiver can close what it
 * opened). Posts go out one at a time in event order; a failed post is
 * reported to `onError` and dropped, because an alerting path that blocks or
 * crashes the runtime when the receiver is down would be worse than a missed
 * notification.
 */
import type { AlertEngine, AlertEvent, AlertLevel } from './alerts.ts';
import type { Disposable } from '../protocol/emitter.ts';
import { FaultlineError } from '../errors.ts';

export interface WebhookOptions {
  url: string;
  /** Levels that are sent (default `['critical']`). */
  levels?: AlertLevel[];
  timeoutMs?: number;
  /** The system name, sent along so one receiver can serve several runtimes. */
  system?: string;
  /** Scrubs secrets from the body before it leaves (SecretScrubber.scrub). */
  scrub?: (text: string) => string;
  onError?: (err: Error, alert: AlertEvent) => void;
}

/** What the receiver gets. */
export interface WebhookBody {
  source: 'faultline';
  system?: string;
  alert: AlertEvent;
}

/** Raised for a non-2xx reply; the receiver's answer is in the message. */
export class WebhookDeliveryError extends FaultlineError {
  constructor(readonly status: number, detail: string) {
    super(`Alert webhook answered HTTP ${status}${detail ? `: ${detail.slice(0, 200)}` : ''}; check the receiver or alerts.webhook.url`);
  }
}

export class WebhookSink {
  private queue: Promise<void> = Promise.resolve();
  private readonly levels: Set<AlertLevel>;
  /** Alerts posted successfully (for tests and the status of the sink). */
  delivered = 0;
  failed = 0;

  constructor(private readonly opts: WebhookOptions) {
    this.levels = new Set(opts.levels ?? ['critical']);
  }

  /** Whether this sink sends an alert of this level. */
  wants(e: AlertEvent): boolean {
    return this.levels.has(e.level);
  }

  /** Queues a POST of the alert; resolves once it was sent or failed. */
  send(alert: AlertEvent): Promise<void> {
    const run = async () => {
      try {
        await this.post(alert);
        this.delivered++;
      } catch (e) {
        this.failed++;
        this.opts.onError?.(e as Error, alert);
      }
    };
    this.queue = this.queue.then(run);
    return this.queue;
  }

  private async post(alert: AlertEvent): Promise<void> {
    const body: WebhookBody = { source: 'faultline', ...(this.opts.system ? { system: this.opts.system } : {}), alert };
    let text = JSON.stringify(body);
    if (this.opts.scrub) text = this.opts.scrub(text);
    const res = await fetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'faultline-alerts' },
      body: text,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
    });
    // Drain the body so the connection is released.
    const answer = await res.text().catch(() => '');
    if (!res.ok) throw new WebhookDeliveryError(res.status, answer);
  }

  /** Sends every alert of the wanted levels the engine emits. */
  attach(engine: AlertEngine): Disposable {
    return engine.onAlert((e) => {
      if (this.wants(e)) void this.send(e);
    });
  }

  /** Resolves when every queued post has finished (on shutdown). */
  flush(): Promise<void> {
    return this.queue;
  }
}
