-- expect: index-without-concurrently@4
SET lock_timeout = '2s';
-- pglockwatch:allow table-rewrite (names another rule: accepts nothing here)
CREATE INDEX orders_customer_idx ON orders (customer_id);
