import { z } from 'zod';

/**
 * How an agent tells AutoDev its own state (field notes §1.4, §1.6): provider data, like screen rules.
 *
 * Two channels carry signals:
 * - `relay`: the agent runs AutoDev's relay script from its own hooks or notify program; the relay posts
 *   the payload to this AutoDev's per-session endpoint (src-main/core/signals/). The provider's `files`,
 *   `args` and `env` wire the relay in for one session only, never through the user's own settings.
 * - `osc`: the agent prints an OSC sequence (Codex's `OSC 7501 ; state=blocked:kind=permission ST`);
 *   the headless mirror hands it over.
 *
 * A payload is turned into an event name plus flat fields by a parser (code, one per payload format:
 * src-main/core/signals/parsers.ts); everything after that is the data below: which event (and which
 * field values) means which state. Adding a signal kind to a provider needs no code unless its payload
 * format is new.
 *
 * Placeholders in `files` contents, `args` and `env` values (expanded per session):
 *   {relay:SOURCE}       shell command line that runs the relay for source SOURCE (hook `command` strings)
 *   {relay:SOURCE@EVENT} the same, adding field `_event: EVENT` (for payloads that do not name their event)
 *   {relay_toml:SOURCE}  the same as a TOML array of strings (codex `-c notify=[…]`)
 *   {relay_json:SOURCE}  the same as a JSON array of strings
 *   {file:NAME}          absolute path of this session's file NAME (from `files`)
 *   {dir}                this session's signal folder (where `files` are written)
 *   {session_id} {session_mac} {manifest}   what the relay needs, for agents that scrub their env
 */

export const SIGNAL_STATES = ['starting', 'running', 'processing', 'waiting_input', 'error'] as const;

/** One event rule: the first rule whose event and `when` fields match decides. */
export interface SignalEventRule {
  /** Stable id shown in state_reason.rule, e.g. `claude.hook.stop`. */
  id: string;
  /** The event name the parser reports (`Stop`, `agent-turn-complete`, `blocked`). */
  event: string;
  /** Field name → regex source (case-insensitive) that the field's value must match. */
  when?: Record<string, string>;
  /** What the event means. `ignore`: nothing; `clear`: forget the current signal (the screen decides). */
  state: (typeof SIGNAL_STATES)[number] | 'ignore' | 'clear';
  /** Marks authentication_required (the payload's message becomes auth_prompt). */
  auth?: boolean;
  /** How long the signal outranks the screen (ms). Defaults: processing 60 s, other states 10 min;
   *  a waiting/error signal also ends at the user's next input. */
  ttl_ms?: number;
  /** Words for state_reason.detail ("permission request"). */
  label?: string;
}

export interface SignalSource {
  /** `hooks`, `notify`, `osc7501`: names the relay's `--source` and the rule ids' middle part. */
  id: string;
  channel: 'relay' | 'osc';
  /** OSC number for channel `osc` (7501). */
  osc?: number;
  /** Payload format: `json` (an object; event name in `event_field`) or `osc-kv` (`k=v:k=v`). */
  parser: string;
  /** Field holding the event name (`hook_event_name`, `type`, `state`). */
  event_field: string;
  /** Field holding the agent's own conversation/session id (for resuming it later). */
  conversation_id_field?: string;
  /** A payload carrying any of these fields is ignored (sub-agents report through the same hooks). */
  ignore_fields?: string[];
  /** A payload whose field matches the regex (field → regex source, case-insensitive) is ignored
   *  (side conversations that report through the same channel, e.g. a title generator's turn). */
  ignore_when?: Record<string, string>;
  /** Field with a human message (notification text) for details and auth prompts. */
  message_field?: string;
  events: SignalEventRule[];
}

export interface SignalFile {
  /** File name inside the session's signal folder (`claude-settings.json`). */
  name: string;
  /** JSON content; placeholders are expanded in every string. */
  content: unknown;
  /** Files whose JSON the content is merged over (first that exists; objects merge, arrays
   *  concatenate) so replacing a settings path through an env var keeps the user's file in force.
   *  `{env:NAME}` expands from the environment the agent would otherwise have. */
  merge_from?: string[];
}

export interface SignalSpec {
  files?: SignalFile[];
  /** Appended to the session's args. */
  args?: string[];
  /** Added to the agent's environment. */
  env?: Record<string, string>;
  sources: SignalSource[];
  /** `root-owned`: the agent reads `files` only from a path whose folders are all owned by root and not
   *  writable by group or others (Gemini CLI's rule for system settings files). Where the data dir is
   *  not such a path, the wiring is skipped (no files, args or env) and the screen rules decide. */
  file_location?: 'any' | 'root-owned';
  /** Where this wiring was verified, or "from documentation" (shown by `autodev doctor`, kept honest). */
  notes?: string;
}

const Pattern = z
  .string()
  .min(1)
  .max(500)
  .refine(
    (s) => {
      try {
        new RegExp(s, 'iu');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a valid regular expression' },
  );

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (max 64)');

export const SignalEventRuleSchema = z.strictObject({
  id: z.string().min(1).max(128),
  event: z.string().min(1).max(128),
  when: z.record(z.string().min(1).max(64), Pattern).optional(),
  state: z.enum([...SIGNAL_STATES, 'ignore', 'clear']),
  auth: z.boolean().optional(),
  ttl_ms: z
    .number()
    .int()
    .min(100)
    .max(24 * 3600_000)
    .optional(),
  label: z.string().max(200).optional(),
});

export const SignalSourceSchema = z.strictObject({
  id: Name,
  channel: z.enum(['relay', 'osc']),
  osc: z.number().int().min(0).max(65535).optional(),
  parser: z.string().min(1).max(64),
  event_field: z.string().min(1).max(64),
  conversation_id_field: z.string().min(1).max(64).optional(),
  ignore_fields: z.array(z.string().min(1).max(64)).max(20).optional(),
  ignore_when: z.record(z.string().min(1).max(64), Pattern).optional(),
  message_field: z.string().min(1).max(64).optional(),
  events: z.array(SignalEventRuleSchema).max(100),
});

export const SignalSpecSchema = z.strictObject({
  files: z
    .array(
      z.strictObject({
        name: Name,
        content: z.unknown(),
        merge_from: z.array(z.string().min(1).max(4096)).max(8).optional(),
      }),
    )
    .max(8)
    .optional(),
  args: z.array(z.string().max(4096)).max(64).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4096)).optional(),
  sources: z.array(SignalSourceSchema).max(8),
  file_location: z.enum(['any', 'root-owned']).optional(),
  notes: z.string().max(2000).optional(),
});
