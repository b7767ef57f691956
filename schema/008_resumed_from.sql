-- 008_resumed_from: the session whose agent conversation this one continues (POST .../resume).
ALTER TABLE cli_sessions ADD COLUMN resumed_from TEXT;
