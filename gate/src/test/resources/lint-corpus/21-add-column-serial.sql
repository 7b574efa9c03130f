-- expect: add-column-volatile-default@3
SET lock_timeout = '2s';
ALTER TABLE legacy ADD COLUMN seq bigserial;
