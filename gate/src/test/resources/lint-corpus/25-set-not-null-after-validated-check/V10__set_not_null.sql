-- expect: none
-- PostgreSQL 12+ sees the validated check and skips the scan
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
