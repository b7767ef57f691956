-- 007_conversation_id: the agent's own conversation/session id per session (Claude's SessionStart
-- `session_id`, Codex's thread id, Gemini's session id), reported by its signals
-- (src-main/core/signals/); what resuming that conversation later needs. NULL until reported.
ALTER TABLE cli_sessions ADD COLUMN conversation_id TEXT;
