/**
 * Every Redis key AutoDev uses, in one place (so reconcile can recognise its own and nothing else):
 *   <prefix>:session:<id>:state   HASH   state, owner, last_seq, updated_at, info (SessionInfo JSON)
 *   <prefix>:session:<id>:stream  STREAM output batches, id `<seq_end>-0`, capped MAXLEN ~
 *   <prefix>:session:<id>:owner   STRING owning instance id, EX ttl (registry, refreshed by heartbeat)
 *   <prefix>:instance:<id>        STRING last heartbeat, EX ttl
 *   <prefix>:events               pub/sub channel of live state/output events
 */
export function redisKeys(prefix: string) {
  return {
    prefix,
    channel: `${prefix}:events`,
    state: (sessionId: string) => `${prefix}:session:${sessionId}:state`,
    stream: (sessionId: string) => `${prefix}:session:${sessionId}:stream`,
    owner: (sessionId: string) => `${prefix}:session:${sessionId}:owner`,
    instance: (instanceId: string) => `${prefix}:instance:${instanceId}`,
  };
}
