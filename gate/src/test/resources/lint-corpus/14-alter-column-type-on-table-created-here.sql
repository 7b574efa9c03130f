-- expect: none
CREATE TABLE IF NOT EXISTS metric (id int, value int);
ALTER TABLE metric ALTER COLUMN value SET DATA TYPE bigint;
ALTER TABLE metric ALTER COLUMN value SET NOT NULL, ADD CONSTRAINT metric_pk PRIMARY KEY (id);
