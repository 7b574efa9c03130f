-- expect: none
-- alone in its file: Flyway runs it outside a transaction
CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);
