-- expect: index-without-concurrently@5
SET lock_timeout = '2s';
-- pglockwatch:allow index-without-concurrently

CREATE INDEX orders_customer_idx ON orders (customer_id);
