-- expect: add-column-not-null-without-default@3
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
