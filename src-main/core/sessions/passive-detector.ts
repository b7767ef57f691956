import type { Detection, ScreenStateDetector } from '../state/types.ts';
import { Emitter } from '../util/event.ts';

/**
 * The fallback detector when none is configured: no screen, no rules. It only says "running" once
 * output arrives (an honest "unknown/running", never a guessed "waiting"), and acks writes at once.
 */
/** Marks detectors that need no screen: the manager then skips the mirror feeder entirely. */
export const PASSIVE_DETECTOR = Symbol('autodev.passive-detector');

export function createPassiveDetector(): ScreenStateDetector & { [PASSIVE_DETECTOR]: true } {
  const onDidDetect = new Emitter<Detection>();
  const onReply = new Emitter<string>();
  let current: Detection = {
    state: 'starting',
    authentication_required: false,
    auth_prompt: null,
    reason: { source: 'lifecycle', detail: 'no output yet', at: new Date().toISOString() },
  };
  return {
    [PASSIVE_DETECTOR]: true,
    write(_data, onParsed) {
      if (current.state === 'starting') {
        current = {
          ...current,
          state: 'running',
          reason: {
            source: 'lifecycle',
            rule: 'output',
            detail: 'output seen (no screen rules)',
            at: new Date().toISOString(),
          },
        };
        onDidDetect.fire(current);
      }
      onParsed?.();
    },
    resize() {},
    noteInput() {},
    evaluate: () => current,
    onDidDetect: onDidDetect.event,
    serialize: () => '',
    screenText: () => '',
    regionText: () => '',
    onReply: onReply.event,
    title: null,
    dispose: () => {
      onDidDetect.dispose();
      onReply.dispose();
    },
  };
}
