/** A set of event listeners registered as disposables, as VS Code and cockatiel do. */
export interface Disposable {
  dispose(): void;
}

export class Listeners<E> {
  private fns = new Set<(e: E) => void>();

  add(fn: (e: E) => void): Disposable {
    this.fns.add(fn);
    return { dispose: () => void this.fns.delete(fn) };
  }

  /** Calls every listener; a throwing listener neither stops the others nor reaches the emitter. */
  emit(e: E): void {
    for (const fn of this.fns) {
      try {
        fn(e);
      } catch {
        // Listeners log, count and alert; none of that may break a restore or a commit.
      }
    }
  }
}
