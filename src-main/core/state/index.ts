export type { DetectorStats, StateDetectorOptions } from './detector.ts';
export { createStateDetector } from './detector.ts';
export { isRuleLine, normaliseLine, readScreen, readScreenLines } from './screen-text.ts';
export type { Detection, ScreenStateDetector } from './types.ts';
