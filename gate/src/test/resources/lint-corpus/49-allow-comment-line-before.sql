-- expect: none
SET lock_timeout = '2s';
-- countries has 250 rows: the index builds in milliseconds
-- pglockwatch:allow index-without-concurrently small lookup table
CREATE INDEX countries_name_idx ON countries (name);
