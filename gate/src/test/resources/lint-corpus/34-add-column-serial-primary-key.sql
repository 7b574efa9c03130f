-- expect: add-column-volatile-default@3, unique-without-index@3
SET lock_timeout = '2s';
ALTER TABLE legacy ADD COLUMN id bigserial PRIMARY KEY;
