import type { Database } from 'better-sqlite3';

/** Per-user preferences (JSON values), e.g. theme, default provider, layout. */
export interface PreferenceStore {
  get<T = unknown>(userId: string, key: string): T | undefined;
  set(userId: string, key: string, value: unknown): void;
  delete(userId: string, key: string): boolean;
  all(userId: string): Record<string, unknown>;
}

export function createPreferenceStore(db: Database): PreferenceStore {
  const get = db.prepare('SELECT value FROM user_preferences WHERE user_id = ? AND key = ?');
  const set = db.prepare(`
    INSERT INTO user_preferences (user_id, key, value, updated_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ON CONFLICT(user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  const del = db.prepare('DELETE FROM user_preferences WHERE user_id = ? AND key = ?');
  const all = db.prepare('SELECT key, value FROM user_preferences WHERE user_id = ? ORDER BY key');
  return {
    get<T>(userId: string, key: string) {
      const row = get.get(userId, key) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    set(userId, key, value) {
      set.run(userId, key, JSON.stringify(value ?? null));
    },
    delete: (userId, key) => del.run(userId, key).changes > 0,
    all(userId) {
      const out: Record<string, unknown> = {};
      for (const r of all.all(userId) as { key: string; value: string }[]) out[r.key] = JSON.parse(r.value);
      return out;
    },
  };
}
