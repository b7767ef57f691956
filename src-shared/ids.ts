import { z } from 'zod';

/** Every id that crosses a boundary (session, task, message) must match this: no shell metacharacters, no paths. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const IdSchema = z.string().regex(ID_PATTERN, 'must match ^[A-Za-z0-9_.:-]{1,128}$');
export type Id = z.infer<typeof IdSchema>;
