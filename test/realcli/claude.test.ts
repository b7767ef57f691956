import { defineCliSuite } from './suite.ts';

// The real claude CLI (pinned in pinned-clis.json) against the mock model service, through `autodev serve`.
defineCliSuite('claude');
