import { defineCliSuite } from './suite.ts';

// The real gemini CLI (pinned in pinned-clis.json) against the mock model service, through `autodev serve`.
defineCliSuite('gemini');
