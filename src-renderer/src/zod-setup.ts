/**
 * Imported first by main.tsx, before any module that builds a zod schema: zod 4 probes for `eval`
 * with `new Function('')` when it builds an object schema, and under the app's CSP (`script-src
 * 'self'`) that probe raises a securitypolicyviolation report even though zod catches the error.
 * Jitless mode skips the probe; the renderer parses little, so the faster JIT parsers do not matter.
 */
import { z } from 'zod';

z.config({ jitless: true });
