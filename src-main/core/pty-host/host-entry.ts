// The PTY host process's entry point (a core starts it detached: `node host-entry.ts --data-dir DIR`).
import { runPtyHost } from './host-main.ts';

void runPtyHost(process.argv.slice(2));
