-- expect: none
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN archived boolean;
COMMIT;
ALTER TABLE customers ADD COLUMN archived boolean;
