-- The guard's mode (off, dry-run, enforce) when an action was recorded, so an export can tell a dry run from a cancel
-- the guard would have made; null for actions recorded before this column existed.
ALTER TABLE guard_action ADD COLUMN mode VARCHAR(20);
