import type { SignalEventRule, SignalSource, SignalSpec } from '../providers/signal-spec.ts';
import type { DetectedState } from '../providers/types.ts';
import { PAYLOAD_PARSERS, type PayloadParser, type SignalFields } from './parsers.ts';

/** What one payload means, after the provider's rules (data) were applied. */
export type Interpretation =
  | { kind: 'state'; signal: ActiveSignal; conversationId: string | null }
  | { kind: 'clear'; source: string; at: number; conversationId: string | null }
  /** Known but meaningless for the state (an ignored event, a sub-agent's payload, no matching rule). */
  | { kind: 'none'; why: string; conversationId: string | null };

/** A signal that outranks the screen until `expiresAt` (or, for waiting/error, the next input). */
export interface ActiveSignal {
  state: DetectedState;
  authentication_required: boolean;
  auth_prompt: string | null;
  /** `hook` for the relay channel, `osc-status` for in-band OSC reports. */
  provenance: 'hook' | 'osc-status';
  /** The provider's rule id (`claude.hook.stop`). */
  rule: string;
  detail: string;
  /** The source id (`hooks`, `notify`, `osc7501`). */
  source: string;
  /** When the agent signalled (epoch ms). */
  at: number;
  expiresAt: number;
}

export const DEFAULT_TTL_MS: Readonly<Record<DetectedState, number>> = {
  processing: 60_000,
  running: 60_000,
  starting: 60_000,
  waiting_input: 600_000,
  error: 600_000,
};

const CONVERSATION_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

interface CompiledRule {
  rule: SignalEventRule;
  when: [string, RegExp][];
}

interface CompiledSource {
  spec: SignalSource;
  parser: PayloadParser | null;
  rules: CompiledRule[];
  ignoreWhen: [string, RegExp][];
}

/** A provider's signal sources, compiled once per session (regexes, parser lookup). */
export class SignalInterpreter {
  private readonly _sources = new Map<string, CompiledSource>();

  constructor(spec: SignalSpec | undefined) {
    for (const source of spec?.sources ?? []) {
      this._sources.set(source.id, {
        spec: source,
        parser: PAYLOAD_PARSERS[source.parser] ?? null,
        rules: source.events.map((rule) => ({
          rule,
          when: compileWhen(rule.when),
        })),
        ignoreWhen: compileWhen(source.ignore_when),
      });
    }
  }

  /** OSC numbers some source listens to (the detector registers handlers for these only). */
  oscNumbers(): number[] {
    return [...this._sources.values()]
      .filter((s) => s.spec.channel === 'osc' && s.spec.osc !== undefined)
      .map((s) => s.spec.osc as number);
  }

  /** The source reading OSC `osc`, if any. */
  oscSource(osc: number): string | null {
    for (const s of this._sources.values())
      if (s.spec.channel === 'osc' && s.spec.osc === osc) return s.spec.id;
    return null;
  }

  hasSource(id: string, channel: 'relay' | 'osc'): boolean {
    return this._sources.get(id)?.spec.channel === channel;
  }

  interpret(sourceId: string, payload: unknown, at: number): Interpretation {
    const source = this._sources.get(sourceId);
    if (!source) return { kind: 'none', why: `unknown source ${sourceId}`, conversationId: null };
    if (!source.parser)
      return { kind: 'none', why: `no parser "${source.spec.parser}"`, conversationId: null };
    const fields = source.parser(payload);
    // A payload that does not parse is never taken as "done" (field notes §1.4: never default to Stop).
    if (fields === null) return { kind: 'none', why: 'payload did not parse', conversationId: null };
    const spec = source.spec;
    for (const field of spec.ignore_fields ?? []) {
      if (fields[field] !== undefined && fields[field] !== '')
        return { kind: 'none', why: `ignored: payload has ${field} (a sub-agent)`, conversationId: null };
    }
    const ignored = source.ignoreWhen.find(
      ([field, re]) => fields[field] !== undefined && re.test(fields[field]),
    );
    if (ignored) return { kind: 'none', why: `ignored: ${ignored[0]} matches`, conversationId: null };
    const rawId = spec.conversation_id_field ? fields[spec.conversation_id_field] : undefined;
    const conversationId = rawId !== undefined && CONVERSATION_ID.test(rawId) ? rawId : null;
    const event = fields[spec.event_field];
    if (event === undefined || event === '')
      return { kind: 'none', why: `no ${spec.event_field} in payload`, conversationId };
    const match = source.rules.find(
      (c) => c.rule.event === event && c.when.every(([field, re]) => re.test(fields[field] ?? '')),
    );
    if (!match) return { kind: 'none', why: `no rule for ${event}`, conversationId };
    const { rule } = match;
    if (rule.state === 'ignore') return { kind: 'none', why: `${rule.id}: ignored`, conversationId };
    if (rule.state === 'clear') return { kind: 'clear', source: spec.id, at, conversationId };
    const message = spec.message_field ? (fields[spec.message_field] ?? '').trim() : '';
    const auth = rule.auth === true;
    return {
      kind: 'state',
      conversationId,
      signal: {
        state: rule.state,
        authentication_required: auth,
        auth_prompt: auth ? message || rule.label || event : null,
        provenance: spec.channel === 'osc' ? 'osc-status' : 'hook',
        rule: rule.id,
        detail: describe(spec, event, rule, message),
        source: spec.id,
        at,
        expiresAt: at + (rule.ttl_ms ?? DEFAULT_TTL_MS[rule.state]),
      },
    };
  }
}

function compileWhen(when: Record<string, string> | undefined): [string, RegExp][] {
  return Object.entries(when ?? {}).map(([field, pattern]) => [field, new RegExp(pattern, 'iu')]);
}

function describe(spec: SignalSource, event: string, rule: SignalEventRule, message: string): string {
  const what = spec.channel === 'osc' ? `OSC ${spec.osc} report state=${event}` : `${spec.id} event ${event}`;
  const label = rule.label ? ` (${rule.label})` : '';
  const text = message ? `: ${message.length > 160 ? `${message.slice(0, 157)}...` : message}` : '';
  return `${what}${label}${text}`;
}

export type { SignalFields };
