/** A listener registration that can be undone; returned by every `on*` event. */
export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

/**
 * Minimal typed event source (the xterm.js / VS Code `Emitter` shape): owners keep the emitter private
 * and expose `emitter.event` as a public `onX` property. A throwing listener never stops the others.
 */
export class Emitter<T> {
  private _listeners: ((value: T) => void)[] = [];
  private _disposed = false;
  private readonly _onListenerError: (error: unknown) => void;

  constructor(onListenerError?: (error: unknown) => void) {
    this._onListenerError =
      onListenerError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
  }

  readonly event: Event<T> = (listener) => {
    if (this._disposed) return { dispose() {} };
    this._listeners.push(listener);
    return {
      dispose: () => {
        this._listeners = this._listeners.filter((l) => l !== listener);
      },
    };
  };

  fire(value: T): void {
    for (const listener of this._listeners) {
      try {
        listener(value);
      } catch (error) {
        this._onListenerError(error);
      }
    }
  }

  get hasListeners(): boolean {
    return this._listeners.length > 0;
  }

  dispose(): void {
    this._disposed = true;
    this._listeners = [];
  }
}

export class DisposableStore implements Disposable {
  private readonly _items: Disposable[] = [];
  add<D extends Disposable>(item: D): D {
    this._items.push(item);
    return item;
  }
  dispose(): void {
    for (const item of this._items.splice(0)) item.dispose();
  }
}
