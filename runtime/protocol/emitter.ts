/**
 * The one event emitter of the runtime, the extension and the webview:
 * `event(listener)` returns a disposable, as VS Code's `EventEmitter` and
 * cockatiel's `Event` do (a `Disposable` here is structurally cockatiel's
 * `IDisposable` and `vscode.Disposable`, so the three mix freely).
 *
 * Pure and dependency-free on purpose: the extension and the webview may not
 * import cockatiel or runtime internals, and cockatiel's `EventEmitter` lets a
 * throwing listener stop the others and throw into the emitter — a breaker
 * transition, a checkpoint commit or a log write must not fail because a
 * subscriber (a closed socket, say) did.
 */

/** Something to release: a listener, a timer, a subscription. */
export interface Disposable {
  dispose(): void;
}

/** Subscribes a listener; dispose the result to unsubscribe. */
export type Event<T> = (listener: (e: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private readonly listeners = new Set<(e: T) => void>();

  /** Subscribes; the same function twice is one listener. */
  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };

  /** Whether anyone listens (payloads on a hot path are only built then). */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls every listener; a throwing listener neither stops the others nor reaches the caller. */
  fire(e: T): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One bad listener must not starve the others or fail the emitter.
      }
    }
  }

  /** Drops every listener. */
  dispose(): void {
    this.listeners.clear();
  }
}
