import { z } from 'zod';

/**
 * The PTY host socket: the core (in `autodev serve` or the Electron main process) talks to the PTY
 * host process over a Unix domain socket in the data dir (0600, per-host secret). Frames are
 * length-prefixed: `u32 length (big-endian) | u8 kind | payload`.
 *
 * - kind 1, JSON: requests `{id, method, params}`, responses `{id, ok, result | error}` and events
 *   `{event, …}` (detections, exits).
 * - kind 2, DATA: output, binary — `u16 idLength | session id (utf8) | f64 seq | f64 at (epoch ms) | bytes
 *   (utf8)`. Output is the hot path: it is never JSON-escaped.
 *
 * Every message is validated on arrival with the schemas below (a host of another version, or a
 * stray peer, cannot make either side misbehave). PROTOCOL_VERSION changes only incompatibly:
 * a core reattaches to any host with the same version and tells the user otherwise.
 */
export const PTY_HOST_PROTOCOL_VERSION = 1;
export const FRAME_JSON = 1;
export const FRAME_DATA = 2;
/** Largest frame either side accepts (a replay page or a snapshot of a big screen fits). */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

const Id = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
const Size = { cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(500) };

const ScreenRegion = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('last-lines'), count: z.number().int() }),
  z.object({ kind: z.literal('above-input-box'), lines: z.number().int() }),
  z.object({ kind: z.literal('screen') }),
  z.object({ kind: z.literal('cursor-line') }),
]);
const DetectedState = z.enum(['starting', 'running', 'processing', 'waiting_input', 'error']);

/** The provider data the host needs (screen rules, stability window, submit strategy). */
export const HostProviderSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    binary: z.string(),
    bracketed_paste: z.boolean(),
    stability_ms: z.number(),
    stability_state: z.enum(['waiting_input', 'running']).optional(),
    screen_rules: z.array(
      z.object({
        id: z.string(),
        pattern: z.string(),
        region: ScreenRegion,
        state: DetectedState,
        auth: z.boolean().optional(),
        priority: z.number().optional(),
        settle_ms: z.number().optional(),
      }),
    ),
    title_rules: z.array(z.object({ id: z.string(), pattern: z.string(), state: DetectedState })),
    submit: z
      .object({
        mode: z.enum(['paste', 'type']).optional(),
        enter_delay_ms: z.number().optional(),
        input_region: ScreenRegion.optional(),
        confirm: z.boolean().optional(),
        timeout_ms: z.number().optional(),
      })
      .optional(),
  })
  .passthrough();

export const HostSpawnParamsSchema = z.object({
  session_id: Id,
  file: z.string().min(1).max(4096),
  args: z.array(z.string().max(65_536)).max(1000),
  cwd: z.string().min(1).max(4096),
  env: z.record(z.string(), z.string()),
  ...Size,
  provider: HostProviderSchema,
  output: z.object({
    batchMs: z.number().min(0),
    maxBatchChars: z.number().int().min(1),
    retainChars: z.number().int().min(0),
    highWatermark: z.number().int().min(1),
    lowWatermark: z.number().int().min(0),
  }),
  first_seq: z.number().int().min(1).optional(),
});

/** Requests the core sends, by method. */
export const HostRequestSchemas = {
  hello: z.object({
    secret: z.string().min(16).max(256),
    protocol: z.number().int(),
    client: z.string().max(200),
  }),
  spawn: HostSpawnParamsSchema,
  write: z.object({ session_id: Id, data: z.string().max(1 << 20), kind: z.enum(['input', 'command']) }),
  submit: z.object({ session_id: Id, text: z.string().max(1 << 20) }),
  resize: z.object({ session_id: Id, ...Size }),
  set_paused: z.object({ session_id: Id, paused: z.boolean() }),
  ack_persisted: z.object({ session_id: Id, seq: z.number().int().min(0) }),
  snapshot: z.object({ session_id: Id }),
  /** Take a session over (a restarted core): the host sends its retained output after `after_seq` as
   *  DATA frames, then streams live; the answer carries its state and any exit that happened meanwhile. */
  attach: z.object({ session_id: Id, after_seq: z.number().int().min(0) }),
  kill: z.object({ session_id: Id, grace_ms: z.number().int().min(0).max(600_000) }),
  sweep: z.object({ session_id: Id, grace_ms: z.number().int().min(0).max(600_000) }),
  release: z.object({ session_id: Id }),
  list: z.object({}),
  /** Stop the host: only once it runs no session, unless `force` (then every tree is killed first). */
  shutdown: z.object({ force: z.boolean().default(false) }),
} as const;
export type HostMethod = keyof typeof HostRequestSchemas;
export type HostParams<M extends HostMethod> = z.input<(typeof HostRequestSchemas)[M]>;

export const HostRequestSchema = z.object({
  id: z.number().int().min(0),
  method: z.enum(Object.keys(HostRequestSchemas) as [HostMethod, ...HostMethod[]]),
  params: z.unknown(),
});

export const HostResponseSchema = z.object({
  id: z.number().int(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ message: z.string(), code: z.string().optional() }).optional(),
});

const DetectionSchema = z.object({
  state: DetectedState,
  authentication_required: z.boolean(),
  auth_prompt: z.string().nullable(),
  reason: z.object({
    source: z.string(),
    rule: z.string().optional(),
    detail: z.string(),
    at: z.string(),
  }),
});

export const HostEventSchema = z.discriminatedUnion('event', [
  z.object({
    event: z.literal('detect'),
    session_id: Id,
    detection: DetectionSchema,
    title: z.string().nullable(),
  }),
  z.object({
    event: z.literal('exit'),
    session_id: Id,
    exit_code: z.number().int(),
    signal: z.string().nullable(),
    last_lines: z.array(z.string()),
  }),
]);
export type HostEvent = z.infer<typeof HostEventSchema>;

export const HostSessionStateSchema = z.object({
  session_id: Id,
  pid: z.number().int(),
  start_ticks: z.number(),
  cols: z.number().int(),
  rows: z.number().int(),
  last_seq: z.number().int(),
  exited: z.boolean(),
  detection: DetectionSchema,
  title: z.string().nullable(),
});

export const HostAttachResultSchema = z.object({
  state: z.lazy(() => HostSessionStateSchema),
  /** Output up to this seq was dropped while no core was attached (spool full); 0: none. */
  dropped_through: z.number().int(),
  exit: z
    .object({
      session_id: Id,
      exit_code: z.number().int(),
      signal: z.string().nullable(),
      last_lines: z.array(z.string()),
    })
    .nullable(),
});

/** What the host answers to hello. */
export const HostWelcomeSchema = z.object({
  protocol: z.number().int(),
  host_version: z.string(),
  pid: z.number().int(),
  started_at: z.string(),
  sessions: z.array(HostSessionStateSchema),
});
export type HostWelcome = z.infer<typeof HostWelcomeSchema>;

/** The manifest the host writes in the data dir (0600): how a core finds and proves itself to it. */
export const HostManifestSchema = z.object({
  pid: z.number().int(),
  protocol: z.number().int(),
  host_version: z.string(),
  socket: z.string(),
  secret: z.string(),
  started_at: z.string(),
});
export type HostManifest = z.infer<typeof HostManifestSchema>;
