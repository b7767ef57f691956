/** AutoDev's version (the PTY host reports it; a core compares it on reattach). */
export const AUTODEV_VERSION = '0.1.0';
