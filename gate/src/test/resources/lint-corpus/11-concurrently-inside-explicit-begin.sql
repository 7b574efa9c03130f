-- expect: concurrently-in-transaction@4
-- Flyway runs the file outside a transaction, but the file opens one itself
BEGIN;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
COMMIT;
