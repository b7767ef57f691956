/** One operation at a time per key (a repository's ref updates, one worktree's snapshot index). */
export class KeyedMutex {
  private readonly _tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this._tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this._tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this._tails.get(key) === tail) this._tails.delete(key);
    }
  }
}
