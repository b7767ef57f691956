-- 009_recovery_history: AutoDev restarted while a session's agent ran on in the PTY host; the session
-- keeps its state, but its history records that the app was away (state_reason source 'recovery').
CREATE TRIGGER trg_sessions_recovery_history AFTER UPDATE OF state_reason ON cli_sessions
WHEN new.state IS old.state AND new.state_reason IS NOT old.state_reason
  AND json_extract(new.state_reason, '$.source') = 'recovery' BEGIN
  INSERT INTO session_state_history(session_id, from_state, to_state, reason, at)
  VALUES (new.session_id, old.state, new.state, new.state_reason,
          coalesce(json_extract(new.state_reason, '$.at'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
END;
