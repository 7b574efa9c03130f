-- expect: concurrently-in-transaction@3
-- Flyway does not detect REINDEX ... CONCURRENTLY: it runs this file in a transaction and PostgreSQL refuses
REINDEX INDEX CONCURRENTLY orders_customer_idx;
