-- expect: none
CREATE TABLE scratch (id int);
CREATE INDEX scratch_id_idx ON scratch (id);
DROP INDEX scratch_id_idx;
DROP TABLE scratch;
