import { z } from 'zod';

/**
 * How AutoDev reads an agent's conversation: its answers, the turns a person typed, and the tokens it
 * spent (src-main/core/conversation/, src-main/core/usage/). Provider data like screen rules: the
 * bundled values live in conversation-defaults.ts and ~/.autodev/providers.yaml can replace them.
 *
 * Two sources, best first:
 * - `record`: the agent's own structured record of the conversation (Claude Code's transcript JSONL,
 *   Codex's rollout files, Gemini CLI's chat recordings), found by the session's conversation id. It
 *   has the exact answer text, every turn (typed by a person or sent by the API) and token usage.
 *   A record format is code (one parser each, conversation/records/); which one a provider uses and
 *   where its files live is data.
 * - `screen`: the rendered screen before and after a turn (coder/agentapi's screen difference). The
 *   fields say where the agent's interface is, so the answer comes without boxes, spinners, status
 *   lines, the echoed prompt or the input box.
 */

export const RECORD_FORMATS = ['claude-jsonl', 'codex-rollout', 'gemini-chat'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

export interface RecordSpec {
  format: RecordFormat;
  /**
   * The agent's data folders, first that exists wins. `{env:NAME}` is read from the agent's own
   * environment (an entry whose variable is unset is skipped); `{home}` is the agent's HOME. The format
   * knows the layout inside (`projects/…` for Claude Code, `sessions/YYYY/MM/DD/…` for Codex, `tmp/…`
   * for Gemini CLI).
   */
  roots: string[];
}

export interface ScreenReplySpec {
  /**
   * The agent's input line (regex, on box-border-free lines): the lowest match among the last
   * `search_lines` lines is the input box; it and everything below it are interface. `@cursor`: the
   * line holding the cursor (shells: the prompt line).
   */
  input_line: string;
  /** How far up from the bottom to look for the input line (default 16). */
  search_lines?: number;
  /**
   * Lines that are interface wherever they touch the answer's edges (regexes): rules and hints around
   * the input box, status lines, the spinner line, the "Worked for 3s" summary. Blank lines and
   * horizontal rules always are.
   */
  interface_lines: string[];
  /** How the agent marks the echoed prompt (regex at line start, e.g. `[>❯›] `): the echo is removed. */
  echo_marker?: string;
  /** The bullet before each block of the answer (regex at line start, e.g. `[⏺●] `): removed, with the
   *  block's continuation indentation. */
  reply_marker?: string;
}

export interface ConversationSpec {
  record?: RecordSpec;
  screen?: ScreenReplySpec;
  /**
   * Rule ids (regex on `state_reason.rule`) of waiting states that are a question to the person
   * (permission, trust, sign-in) rather than the idle prompt: a message sent through the API waits
   * instead of being typed into the question.
   */
  question_rules?: string;
}

/** USD per million tokens for models whose name matches `model` (case-insensitive regex). */
export interface ModelPrice {
  model: string;
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

const Pattern = z
  .string()
  .min(1)
  .max(2000)
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

const Price = z.number().min(0).max(10_000);

export const ModelPriceSchema = z.strictObject({
  model: Pattern,
  input: Price,
  output: Price,
  cache_read: Price,
  cache_write: Price,
});

export const ConversationSpecSchema = z.strictObject({
  record: z
    .strictObject({
      format: z.enum(RECORD_FORMATS),
      roots: z.array(z.string().min(1).max(4096)).min(1).max(8),
    })
    .optional(),
  screen: z
    .strictObject({
      input_line: z.union([z.literal('@cursor'), Pattern]),
      search_lines: z.number().int().min(1).max(200).optional(),
      interface_lines: z.array(Pattern).max(50),
      echo_marker: Pattern.optional(),
      reply_marker: Pattern.optional(),
    })
    .optional(),
  question_rules: Pattern.optional(),
});
