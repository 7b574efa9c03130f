-- expect: none
-- the first statement holds AccessExclusiveLock: the others never queue
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN a int;
ALTER TABLE orders ADD COLUMN b int;
ALTER TABLE ONLY orders RENAME COLUMN a TO c;
