export {
  type BusEvent,
  createRedisBus,
  type RedisBus,
  type RedisBusOptions,
  type RedisResyncSource,
  type RedisStatus,
  type StreamEntry,
} from './bus.ts';
export { redisKeys } from './keys.ts';
export { historySource, publishCommitted } from './wire.ts';
