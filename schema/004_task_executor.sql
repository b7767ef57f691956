-- Which executor ran a task's latest attempt (issue #15): 'cli' — the provider's agent CLI; 'api' — the
-- CLI was not installed and the provider's API answered instead (claude → Anthropic Messages API).
-- NULL until the first attempt starts (and for every task stored before this version).
ALTER TABLE tasks ADD COLUMN executor TEXT CHECK (executor IS NULL OR executor IN ('cli', 'api'));
