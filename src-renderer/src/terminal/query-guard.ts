/**
 * A viewer never answers terminal queries. xterm.js replies to queries it parses (device attributes,
 * cursor position, mode and colour reports…) by emitting the reply through `onData`, exactly as if the
 * user had typed it. A viewer parses output replayed from the server's ring, a snapshot or stored
 * history, and several viewers parse the same live output: their replies reached the agent as input
 * (a page reload once accepted gemini's trust dialog). The server's headless mirror answers live
 * queries exactly once; viewers swallow every query before xterm can reply.
 *
 * The list is xterm.js 6's complete set of replies (every `triggerDataEvent` that is not user input in
 * src/common/InputHandler.ts and src/browser/CoreBrowserTerminal.ts), plus common queries xterm does not
 * implement yet (XTVERSION, DA3, kitty keyboard, XTGETTCAP…) so an xterm upgrade cannot start replying
 * behind our back. Focus reports (`CSI I` / `CSI O`, mode 1004) are dropped by `isFocusReport`.
 */

type Params = (number | number[])[];
interface Disposable {
  dispose(): void;
}
/** The part of xterm's `IParser` the guard uses (xterm and @xterm/headless both fit). */
export interface QueryParser {
  registerCsiHandler(
    id: { prefix?: string; intermediates?: string; final: string },
    callback: (params: Params) => boolean | Promise<boolean>,
  ): Disposable;
  registerOscHandler(ident: number, callback: (data: string) => boolean | Promise<boolean>): Disposable;
  registerDcsHandler(
    id: { prefix?: string; intermediates?: string; final: string },
    callback: (data: string, params: Params) => boolean | Promise<boolean>,
  ): Disposable;
}

export interface GuardedQuery {
  /** What it asks, for the docs and the tests. */
  name: string;
  /** A sequence that asks it (the e2e fixture prints every one). */
  example: string;
}

const ESC = '\x1b';
const ST = `${ESC}\\`;
const first = (params: Params): number | undefined => {
  const p = params[0];
  return Array.isArray(p) ? p[0] : p;
};

type CsiRule = {
  id: { prefix?: string; intermediates?: string; final: string };
  /** Only these sequences are queries; others with the same final byte (e.g. DSR vs nothing) pass. */
  isQuery: (params: Params) => boolean;
} & GuardedQuery;

const always = () => true;
/** CSI t reports (xterm answers 14, 16, 18 when window options allow; 11, 13, 15, 19, 20, 21 in xterm). */
const WINDOW_REPORTS = new Set([11, 13, 14, 15, 16, 18, 19, 20, 21]);

const CSI_RULES: readonly CsiRule[] = [
  { name: 'primary device attributes (DA1)', example: `${ESC}[c`, id: { final: 'c' }, isQuery: always },
  {
    name: 'secondary device attributes (DA2)',
    example: `${ESC}[>c`,
    id: { prefix: '>', final: 'c' },
    isQuery: always,
  },
  {
    name: 'tertiary device attributes (DA3)',
    example: `${ESC}[=c`,
    id: { prefix: '=', final: 'c' },
    isQuery: always,
  },
  {
    name: 'device status / cursor position report (DSR 5, CPR 6)',
    example: `${ESC}[6n`,
    id: { final: 'n' },
    isQuery: always,
  },
  {
    name: 'DEC device status / extended cursor position (DECXCPR)',
    example: `${ESC}[?6n`,
    id: { prefix: '?', final: 'n' },
    isQuery: always,
  },
  {
    name: 'ANSI mode report (DECRQM)',
    example: `${ESC}[4$p`,
    id: { intermediates: '$', final: 'p' },
    isQuery: always,
  },
  {
    name: 'DEC private mode report (DECRQM)',
    example: `${ESC}[?2004$p`,
    id: { prefix: '?', intermediates: '$', final: 'p' },
    isQuery: always,
  },
  {
    name: 'window reports (XTWINOPS 11–21)',
    example: `${ESC}[18t`,
    id: { final: 't' },
    isQuery: (params) => WINDOW_REPORTS.has(first(params) ?? 0),
  },
  {
    name: 'terminal version (XTVERSION)',
    example: `${ESC}[>q`,
    id: { prefix: '>', final: 'q' },
    isQuery: always,
  },
  {
    name: 'kitty keyboard protocol flags',
    example: `${ESC}[?u`,
    id: { prefix: '?', final: 'u' },
    isQuery: always,
  },
  {
    name: 'modifyOtherKeys / key modifier options (XTQMODKEYS)',
    example: `${ESC}[?4m`,
    id: { prefix: '?', final: 'm' },
    isQuery: always,
  },
];

/** OSC numbers whose `?` argument asks for a colour (4: palette, 10/11/12: fg/bg/cursor, 17/19: selection…). */
const COLOR_OSC: readonly { ident: number; name: string; example: string }[] = [
  { ident: 4, name: 'palette colour (OSC 4 ?)', example: `${ESC}]4;1;?${ST}` },
  { ident: 10, name: 'foreground colour (OSC 10 ?)', example: `${ESC}]10;?${ST}` },
  { ident: 11, name: 'background colour (OSC 11 ?)', example: `${ESC}]11;?\x07` },
  { ident: 12, name: 'cursor colour (OSC 12 ?)', example: `${ESC}]12;?${ST}` },
  { ident: 17, name: 'highlight background (OSC 17 ?)', example: `${ESC}]17;?${ST}` },
  { ident: 19, name: 'highlight foreground (OSC 19 ?)', example: `${ESC}]19;?${ST}` },
  { ident: 52, name: 'clipboard read (OSC 52 ?)', example: `${ESC}]52;c;?${ST}` },
];

const DCS_RULES: readonly (GuardedQuery & { id: { intermediates?: string; final: string } })[] = [
  { name: 'setting report (DECRQSS)', example: `${ESC}P$qm${ST}`, id: { intermediates: '$', final: 'q' } },
  {
    name: 'termcap/terminfo (XTGETTCAP)',
    example: `${ESC}P+q544e${ST}`,
    id: { intermediates: '+', final: 'q' },
  },
];

/** Every query the guard swallows, with a sequence that asks it. */
export const GUARDED_QUERIES: readonly GuardedQuery[] = [
  ...CSI_RULES.map(({ name, example }) => ({ name, example })),
  ...COLOR_OSC.map(({ name, example }) => ({ name, example })),
  ...DCS_RULES.map(({ name, example }) => ({ name, example })),
];

/** An OSC colour/clipboard argument list asks for a value when any of its specs is `?`. */
function asksForValue(data: string): boolean {
  return data.split(';').some((part) => part.trim() === '?');
}

/**
 * Register handlers that consume every query before xterm's own handler sees it (handlers registered
 * later run first; returning true stops the chain). Non-query sequences with the same final byte (a
 * colour *set*, title push/pop) fall through to xterm unchanged.
 */
export function guardQueries(parser: QueryParser): Disposable {
  const disposables: Disposable[] = [];
  for (const rule of CSI_RULES)
    disposables.push(parser.registerCsiHandler(rule.id, (params) => rule.isQuery(params)));
  for (const { ident } of COLOR_OSC)
    disposables.push(parser.registerOscHandler(ident, (data) => asksForValue(data)));
  for (const rule of DCS_RULES) disposables.push(parser.registerDcsHandler(rule.id, () => true));
  return {
    dispose() {
      for (const d of disposables.splice(0)) d.dispose();
    },
  };
}

/**
 * Focus reports (`CSI I` on focus, `CSI O` on blur, sent while the agent enabled mode 1004) are not
 * typed by anyone: with several viewers each would tell the agent it gained or lost focus. No key,
 * paste or composition produces exactly these strings.
 */
export function isFocusReport(data: string): boolean {
  return data === `${ESC}[I` || data === `${ESC}[O`;
}
