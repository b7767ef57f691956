/**
 * Why an agent exited, in its own words: the error lines it left at the bottom of its screen.
 * "exited with code 1" tells the user nothing; Claude offline prints "Unable to connect to Anthropic
 * services" and "Failed to connect to api.anthropic.com: ENOTFOUND" and exits 1, and that is the reason.
 *
 * Read from the rendered screen (not the byte stream: TUIs position words with cursor moves, so the
 * raw bytes of "Unable to connect" hold no spaces).
 */

/** Words that make a line an error line. Deliberately plain: any CLI, any wording of failure. */
const ERROR_WORDS =
  /\b(error|errors|unable to|failed|failure|cannot|can't|could not|couldn't|not found|denied|refused|invalid|unauthori[sz]ed|forbidden|fatal|exception|panic|timed out|timeout|no such|not allowed)\b/i;
/** errno names (ENOTFOUND, ECONNREFUSED, EACCES): case matters, "Enter" is not one. */
const ERRNO = /\bE[A-Z]{3,}\b/;

/** Lines that only look like errors: hints, help, tips. */
const NOT_AN_ERROR = /^(tip|hint|note|help)\b|--help|for more information/i;

/**
 * The error lines among the last `window` non-empty screen lines, top to bottom, at most `max`, each
 * trimmed and shortened. Empty when the agent left no error words on its screen.
 */
export function lastErrorLines(
  lines: readonly string[],
  options: { window?: number; max?: number } = {},
): string[] {
  const window = options.window ?? 15;
  const max = options.max ?? 2;
  const tail: string[] = [];
  for (let i = lines.length - 1; i >= 0 && tail.length < window; i--) {
    const line = lines[i]!.trim();
    if (line.length > 0) tail.push(line);
  }
  tail.reverse();
  const errors = tail.filter((l) => (ERROR_WORDS.test(l) || ERRNO.test(l)) && !NOT_AN_ERROR.test(l));
  return errors.slice(0, max).map((l) => (l.length > 200 ? `${l.slice(0, 197)}...` : l));
}

/** "exited with code 1: Unable to connect to Anthropic services; Failed to connect to …". */
export function describeExit(exitCode: number, signal: string | null, errorLines: readonly string[]): string {
  const base = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
  return errorLines.length > 0 ? `${base}: ${errorLines.join('; ')}` : base;
}
