-- expect: none
CREATE TABLE a (id int PRIMARY KEY);
CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));
ALTER TABLE b ADD COLUMN note text NOT NULL;
ALTER TABLE a ADD COLUMN token uuid DEFAULT gen_random_uuid();
DROP TABLE b;
