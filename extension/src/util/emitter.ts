/**
 * A tiny event emitter whose `event(listener)` returns a disposable, like
 * VS Code's `EventEmitter`, so the model needs no `vscode` import and its
 * unit tests run without an editor.
 */
export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (e: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // One bad listener must not starve the others.
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
