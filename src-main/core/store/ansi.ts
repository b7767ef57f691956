/**
 * Terminal control sequences, for turning stored output into searchable, readable text: CSI (colours,
 * cursor moves), OSC (titles, hyperlinks; BEL or ST terminated), DCS/SOS/PM/APC strings, two-byte ESC
 * sequences, and C0 controls other than tab and newline.
 */
const ANSI =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r\n?/g, '\n');
}
