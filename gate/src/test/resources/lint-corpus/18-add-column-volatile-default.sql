-- expect: add-column-volatile-default@3
SET lock_timeout = '2s';
ALTER TABLE sessions ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();
