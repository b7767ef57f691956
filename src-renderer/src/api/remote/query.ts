import type { Page } from '../../../../src-shared/rest.ts';

/** URL-building and response-shape helpers of the REST client. */
export function enc(id: string): string {
  return encodeURIComponent(id);
}

export function qs(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Lists may come bare or wrapped (`{providers: [...]}`, `{items: [...]}`): accept both. */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    for (const k of [key, 'items', 'results']) if (Array.isArray(record[k])) return record[k] as T[];
  }
  return [];
}

export function pageOf<T>(body: unknown, key: string, query: { limit?: unknown; offset?: unknown }): Page<T> {
  const items = listOf<T>(body, key);
  const record = (body && typeof body === 'object' ? body : {}) as Partial<Page<T>>;
  return {
    items,
    total: typeof record.total === 'number' ? record.total : items.length,
    limit: typeof record.limit === 'number' ? record.limit : Number(query.limit ?? items.length),
    offset: typeof record.offset === 'number' ? record.offset : Number(query.offset ?? 0),
  };
}
