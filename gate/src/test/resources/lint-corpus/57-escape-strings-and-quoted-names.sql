-- expect: none
INSERT INTO audit (note) VALUES (E'it\'s; DROP INDEX x; ALTER TABLE users ALTER COLUMN id TYPE int');
CREATE TABLE "create index" ("drop index" int, "; VACUUM FULL" text);
CREATE INDEX "alter table" ON "create index" ("drop index");
