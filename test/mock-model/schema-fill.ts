import type { Json } from './http-util.ts';

/**
 * A value that satisfies a JSON schema, for the agents' structured side calls: Codex asks for a task
 * title (`{title}`), Gemini's model router for a complexity score and its loop/next-speaker checks for
 * an enum. The answers are chosen so the agent carries on normally: the user speaks next, nothing loops.
 *
 * Handles the subset these CLIs send (object/array/string/integer/number/boolean/enum, upper- or
 * lower-case type names as Gemini writes them); anything else becomes null.
 */
const PREFERRED: Record<string, unknown> = {
  next_speaker: 'user',
  title: 'Mock task',
  complexity_score: 10,
  is_stuck: false,
};

export function fillSchema(schema: Json, name = ''): unknown {
  if (schema === null || typeof schema !== 'object') return null;
  if (name in PREFERRED) {
    const wanted = PREFERRED[name];
    if (!Array.isArray(schema.enum) || schema.enum.includes(wanted)) return wanted;
  }
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const type = String(Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? 'object')).toLowerCase();
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (schema.properties ?? {}) as Record<string, Json>;
      for (const [key, sub] of Object.entries(props)) out[key] = fillSchema(sub, key);
      return out;
    }
    case 'array':
      return schema.minItems > 0 ? [fillSchema(schema.items, name)] : [];
    case 'string': {
      const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
      const base = `mock ${name || 'value'}`;
      const text = base.length >= min ? base : base.padEnd(min, '.');
      return typeof schema.maxLength === 'number' ? text.slice(0, schema.maxLength) : text;
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
