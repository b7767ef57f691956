import { z } from 'zod';
import { PROVIDER_KINDS } from '../../../src-shared/session.ts';
import { ConversationSpecSchema, ModelPriceSchema } from './conversation-spec.ts';
import { SignalSpecSchema } from './signal-spec.ts';

/**
 * The user's provider config file (~/.autodev/providers.yaml or .json). Each entry under `providers`
 * overrides fields of a bundled provider or, for a new id, adds one. Strict objects: a typo such as
 * `binry:` is reported with its path instead of being silently ignored.
 *
 *   providers:
 *     claude:
 *       binary: /opt/claude/bin/claude
 *       stability_ms: 2500
 *     aider:
 *       name: Aider
 *       binary: aider
 *       full_access_args: [--yes-always]
 *       extra_screen_rules:
 *         - { id: aider.prompt, pattern: '^> $', region: { kind: last-lines, count: 2 }, state: waiting_input }
 */

export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function compiles(source: string): boolean {
  try {
    new RegExp(source, 'imu');
    return true;
  } catch {
    return false;
  }
}

const PatternSchema = z
  .string()
  .min(1)
  .max(2000)
  .refine(compiles, { message: 'is not a valid regular expression' });

const DetectedStateSchema = z.enum(['starting', 'running', 'processing', 'waiting_input', 'error']);

const ScreenRegionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('last-lines'), count: z.number().int().min(1).max(500) }),
  z.strictObject({ kind: z.literal('above-input-box'), lines: z.number().int().min(0).max(100) }),
  z.strictObject({ kind: z.literal('screen') }),
  z.strictObject({ kind: z.literal('cursor-line') }),
]);

export const ScreenRuleSchema = z.strictObject({
  id: z.string().min(1).max(128),
  pattern: PatternSchema,
  region: ScreenRegionSchema,
  state: DetectedStateSchema,
  auth: z.boolean().optional(),
  priority: z.number().int().min(0).max(1000).optional(),
  settle_ms: z.number().int().min(0).max(600_000).optional(),
});

export const TitleRuleSchema = z.strictObject({
  id: z.string().min(1).max(128),
  pattern: PatternSchema,
  state: DetectedStateSchema,
});

const ArgSchema = z.string().max(4096);

export const OneShotSchema = z.strictObject({
  args: z.array(ArgSchema),
  prompt: z.discriminatedUnion('via', [
    z.strictObject({ via: z.literal('arg') }),
    z.strictObject({ via: z.literal('flag'), flag: z.string().min(1).max(64) }),
    z.strictObject({ via: z.literal('stdin') }),
  ]),
  output: z.enum(['stream-json', 'json', 'text']),
  full_access_args: z.array(ArgSchema).default([]),
});

const EnvNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const PriceSchema = z.number().min(0).max(10_000);

export const ApiFallbackSchema = z.strictObject({
  api: z.literal('anthropic-messages'),
  key_env: EnvNameSchema,
  base_url_env: EnvNameSchema,
  base_url: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().min(1).max(1_000_000),
  price_per_mtok: z.strictObject({
    input: PriceSchema,
    output: PriceSchema,
    cache_read: PriceSchema,
    cache_write: PriceSchema,
  }),
});

/** One entry: every field optional (an override touches only what it names). */
export const ProviderEntrySchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  binary: z.string().min(1).max(4096).optional(),
  interactive_args: z.array(ArgSchema).optional(),
  full_access_args: z.array(ArgSchema).optional(),
  resume_args: z
    .array(ArgSchema)
    .refine((a) => a.some((x) => x.includes('{conversation_id}')), {
      message: 'must contain {conversation_id}',
    })
    .optional(),
  one_shot: OneShotSchema.nullable().optional(),
  /** Replaces the provider's API fallback (null: none). */
  api_fallback: ApiFallbackSchema.nullable().optional(),
  env_keys: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))
    .optional(),
  version_args: z.array(ArgSchema).optional(),
  bracketed_paste: z.boolean().optional(),
  submit: z
    .strictObject({
      mode: z.enum(['paste', 'type']).optional(),
      enter_delay_ms: z.number().int().min(0).max(10_000).optional(),
      input_region: ScreenRegionSchema.optional(),
      confirm: z.boolean().optional(),
      timeout_ms: z.number().int().min(100).max(60_000).optional(),
    })
    .optional(),
  /** Replaces the provider's screen rules. */
  screen_rules: z.array(ScreenRuleSchema).optional(),
  /** Added to the provider's screen rules (a rule with an existing id replaces that rule). */
  extra_screen_rules: z.array(ScreenRuleSchema).optional(),
  title_rules: z.array(TitleRuleSchema).optional(),
  stability_ms: z.number().int().min(100).max(600_000).optional(),
  stability_state: z.enum(['waiting_input', 'running']).optional(),
  icon: z.string().max(64).optional(),
  /** Replaces the provider's signal wiring; `null` turns signals off (screen rules only). */
  signals: SignalSpecSchema.nullable().optional(),
  kind: z.enum(PROVIDER_KINDS).optional(),
  /** Replaces the provider's conversation data (record, screen layout, question rules). */
  conversation: ConversationSpecSchema.optional(),
  /** Replaces the provider's model prices. */
  prices: z.array(ModelPriceSchema).max(200).optional(),
  /** Prices tried before the provider's own (a model added or repriced without copying the list). */
  extra_prices: z.array(ModelPriceSchema).max(200).optional(),
});
export type ProviderEntry = z.infer<typeof ProviderEntrySchema>;

/** The file's top level; entries are validated one by one so one bad entry does not void the rest. */
export const ProviderConfigFileSchema = z.strictObject({
  providers: z.record(z.string(), z.unknown()).default({}),
});
