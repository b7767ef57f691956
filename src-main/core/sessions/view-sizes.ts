/**
 * Who sets a session's PTY size when several views watch it (a desktop window, a phone, a second
 * browser). tmux's `window-size latest`: the view in use — the last to focus or type — sets it; every
 * other view's size is only remembered (applied if it becomes the one in use) and that view fits the
 * PTY's size locally. Read-only views never get here (the transports refuse their resizes).
 */
export interface ViewSizes {
  /** A view's fitted size. Returns the size to apply to the PTY, or null when this view does not own it. */
  resize(viewId: string, cols: number, rows: number): { cols: number; rows: number } | null;
  /** The view is in use now. Returns its remembered size to apply, or null when it has none. */
  focus(viewId: string): { cols: number; rows: number } | null;
  /** The view went away (the PTY keeps its size; the next view to focus or resize takes over). */
  close(viewId: string): void;
  readonly owner: string | null;
}

export function createViewSizes(): ViewSizes {
  const sizes = new Map<string, { cols: number; rows: number }>();
  let owner: string | null = null;
  return {
    resize(viewId, cols, rows) {
      sizes.set(viewId, { cols, rows });
      // Nobody owns the size yet (a fresh session, or the owner left): the first view to fit takes it.
      if (owner === null) owner = viewId;
      return owner === viewId ? { cols, rows } : null;
    },
    focus(viewId) {
      owner = viewId;
      return sizes.get(viewId) ?? null;
    },
    close(viewId) {
      sizes.delete(viewId);
      if (owner === viewId) owner = null;
    },
    get owner() {
      return owner;
    },
  };
}
