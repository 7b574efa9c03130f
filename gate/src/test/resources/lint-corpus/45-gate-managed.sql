-- expect: none
-- options: gate
-- the gate sets lock_timeout and retries
ALTER TABLE users ADD COLUMN nickname text;
