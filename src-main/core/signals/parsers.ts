/**
 * Payload parsers: one per payload FORMAT (not per agent). Each turns what arrived into flat string
 * fields; the provider's SignalSource says which field is the event name and what each event means.
 * A new agent with a known format needs no code; a new format adds one entry here.
 */
export type SignalFields = Record<string, string>;

export type PayloadParser = (payload: unknown) => SignalFields | null;

const MAX_FIELD = 2000;

/** A JSON object (what the relay posts, already slimmed to top-level scalars). */
const json: PayloadParser = (payload) => {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const out: SignalFields = {};
  for (const [key, value] of Object.entries(payload)) {
    if (typeof value === 'string') out[key] = value.slice(0, MAX_FIELD);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
};

const OSC_KEY = /^[a-z]{1,16}$/;
const OSC_VALUE = /^[A-Za-z0-9_.,+/=-]*$/;
const BASE64_FIELDS = new Set(['msg', 'title']);

/**
 * The program-status report body (`state=blocked:app=codex:kind=permission:msg=<base64>`, the OSC 7501
 * protocol): `k=v` pairs joined by `:`. Malformed pairs are skipped and the last duplicate wins; `msg`
 * and `title` are base64 UTF-8, decoded, and a report whose decoded text holds control characters or
 * invalid base64 is discarded whole (the protocol's rules: everything in a report is untrusted).
 */
const oscKeyValue: PayloadParser = (payload) => {
  if (typeof payload !== 'string' || payload.length === 0 || payload.length > 4096) return null;
  const out: SignalFields = {};
  for (const pair of payload.split(':')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!OSC_KEY.test(key) || !OSC_VALUE.test(value)) continue;
    if (BASE64_FIELDS.has(key)) {
      const decoded = decodeBase64Text(value);
      if (decoded === null) return null;
      out[key] = decoded;
    } else {
      out[key] = value;
    }
  }
  return out;
};

function decodeBase64Text(value: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 === 1) return null;
  const text = Buffer.from(value, 'base64').toString('utf8');
  if (text.includes('\uFFFD') || /[\u0000-\u001f\u007f-\u009f]/.test(text)) return null;
  return text.slice(0, MAX_FIELD);
}

export const PAYLOAD_PARSERS: Readonly<Record<string, PayloadParser>> = {
  json,
  'osc-kv': oscKeyValue,
};
