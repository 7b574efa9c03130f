-- expect: table-rewrite@3
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;
