import { defineCliSuite } from './suite.ts';

// The real codex CLI (pinned in pinned-clis.json) against the mock model service, through `autodev serve`.
defineCliSuite('codex');
