-- expect: table-rewrite@3, add-column-not-null-without-default@3
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN region text, ALTER COLUMN id TYPE bigint, ADD COLUMN tenant int NOT NULL;
