-- expect: strong-lock-without-lock-timeout@6
-- the CREATE INDEX CONCURRENTLY makes Flyway run every statement on its own (mixed = true):
-- SET LOCAL then lasts for its own statement only
SET LOCAL lock_timeout = '3s';
CREATE INDEX CONCURRENTLY users_nickname_idx ON users (nickname);
ALTER TABLE users ADD COLUMN nickname2 text;
