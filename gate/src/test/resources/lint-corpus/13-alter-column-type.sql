-- expect: table-rewrite@3
SET lock_timeout = '2s';
ALTER TABLE users ALTER COLUMN id TYPE bigint;
