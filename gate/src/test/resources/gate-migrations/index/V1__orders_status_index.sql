-- outside a transaction: Flyway sees CONCURRENTLY
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
